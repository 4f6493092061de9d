/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client asks
 * for tokens in its own name. "Refreshing" is a new client credentials
 * request before expiry, or a refresh-token request when the server issued
 * a refresh token (see `lifecycle.ts`).
 */
import { assign, fromPromise, setup } from 'xstate';
import { requestClientCredentials } from '../src/protocol/operations.js';
import {
  authenticatedState,
  initialGrantContext,
  lifecycleActions,
  lifecycleDelays,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
  resourceOf,
  sessionChangedTransitions,
  sessionToRestore,
  storedBlob,
  whenRestoreFails,
  thrownError,
  type LifecycleChildren,
  discoveringState,
  endingProviderSessionState,
  discoveryFailedState,
  startingState,
} from './lifecycle.js';
import { lifecycleActors, notStopped, storeNewSession, toOAuthError, type NewSession } from './lifecycleActors.js';
import type { GrantContext, GrantEvent, GrantInput, GrantTag, WithRuntime } from './types.js';
import { requestedScopes, runtimeOf, withRuntime } from './types.js';

export interface ClientCredentialsInput extends WithRuntime {
  scopes: string[] | undefined;
  /** RFC 8707 resource indicator. */
  resource: string | undefined;
}

/** RFC 6749 §4.4.2, then stores the tokens as the session. */
const requestTokens = fromPromise<NewSession, ClientCredentialsInput>(async ({ input, signal }) => {
  const { provider, client, services, options, dpop } = runtimeOf(input);
  notStopped(signal, 'the token request');
  // No signal once sent: tokens the server issued are stored even if the actor stopped.
  const request = { provider, client, services, ...(dpop === undefined ? {} : { dpop }) };
  const tokens = await requestClientCredentials({
    ...request,
    ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
    ...(input.resource === undefined ? {} : { resource: input.resource }),
  });
  return storeNewSession(services, options.storageKey, 'clientCredentials', tokens);
});

/**
 * The client credentials grant as an XState v5 machine.
 *
 * States: `restoring` (→ `restoreFailed` while the storage cannot be read) → `idle` → `exchanging` → `authenticated` ⇄
 * `refreshing`, `loggingOut`, `error`. Events: `LOGIN`, `REFRESH`, `LOGOUT`,
 * `RETRY`, `CANCEL`, `SESSION_CHANGED`. Input: {@link GrantInput} (the client
 * needs its secret: servers only).
 */
export const clientCredentialsMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: LifecycleChildren & { requestTokens: 'request client credentials tokens' };
  },
  actors: { ...lifecycleActors, 'request client credentials tokens': requestTokens },
  guards: {
    ...lifecycleGuards,
    'the request may be sent again with the DPoP nonce': ({ context }, params: { error: unknown }) =>
      toOAuthError(params.error).code === 'use_dpop_nonce' && context.dpopNonceRetried !== true,
  },
  actions: {
    ...lifecycleActions,
    'send the request again with the DPoP nonce': assign({ dpopNonceRetried: true }),
    'forget the DPoP nonce retry': assign({ dpopNonceRetried: undefined }),
  },
  delays: lifecycleDelays,
}).createMachine({
  id: 'clientCredentials',
  context: ({ input }) => initialGrantContext('clientCredentials', input),
  initial: 'starting',
  on: { ...sessionChangedTransitions },
  states: {
    // Reads the stored session; a LOGIN meanwhile waits for its outcome.
    starting: startingState,
    discovering: discoveringState,
    discoveryFailed: discoveryFailedState,
    restoring: {
      invoke: {
        id: 'readSession',
        src: 'read stored session',
        input: sessionToRestore,
        onDone: [
          {
            guard: { type: 'the stored session has tokens', params: storedBlob },
            target: 'authenticated',
            actions: [{ type: 'remember stored session', params: storedBlob }, 'replay deferred events'],
          },
          { target: 'idle', actions: 'replay deferred events' },
        ],
        onError: [
          ...whenRestoreFails,
        ],
      },
      on: { LOGIN: { actions: 'defer event' } },
    },
    // The storage could not be read: a session may be stored. Read again after a while or on RETRY.
    restoreFailed: {
      tags: ['error', 'ready'],
      after: { 'restore retry delay': { target: 'restoring', actions: 'clear failure' } },
      on: {
        RETRY: { target: 'restoring', actions: 'clear failure' },
        LOGIN: { target: 'exchanging', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
      },
    },
    idle: {
      tags: ['ready'],
      on: {
        LOGIN: { target: 'exchanging', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
      },
    },
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestTokens',
        src: 'request client credentials tokens',
        input: ({ context }) => withRuntime(context, { scopes: requestedScopes(context), resource: resourceOf(context) }),
        onDone: { target: 'authenticated', actions: ['forget the DPoP nonce retry', { type: 'remember new session', params: ({ event }) => event.output }] },
        onError: [
          // RFC 9449 §8: refused for want of the server's DPoP nonce, which its answer carried: asked again once.
          {
            guard: { type: 'the request may be sent again with the DPoP nonce', params: thrownError },
            target: 'exchanging',
            reenter: true,
            actions: 'send the request again with the DPoP nonce',
          },
          // A demand for a token (the cache, getAccessToken) asks again only once the backoff is over.
          {
            target: 'error',
            actions: [
              'forget the DPoP nonce retry',
              { type: 'remember failure', params: thrownError },
              { type: 'hold renewals back', params: thrownError },
            ],
          },
        ],
      },
      on: {
        CANCEL: 'idle',
        LOGOUT: 'loggingOut',
      },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    endingProviderSession: endingProviderSessionState,
    error: {
      // Targeted by the refresh's substates (`#error`).
      id: 'error',
      tags: ['error', 'ready'],
      on: {
        RETRY: [
          { guard: 'set-aside tokens can be renewed', target: 'refreshing', actions: 'take back set-aside tokens' },
          { target: 'exchanging', actions: 'clear failure' },
        ],
        LOGIN: { target: 'exchanging', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
