/**
 * The client credentials grant (RFC 6749 §4.4): a confidential client asks
 * for tokens in its own name. "Refreshing" is a new client credentials
 * request before expiry, or a refresh-token request when the server issued
 * a refresh token (see `lifecycle.ts`).
 */
import { fromPromise, setup } from 'xstate';
import { requestClientCredentials } from '../src/protocol/operations.js';
import {
  authenticatedState,
  initialGrantContext,
  lifecycleActions,
  lifecycleActors,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
  resourceOf,
  sessionChangedTransitions,
  notStopped,
  storeNewSession,
  type LifecycleChildren,
  type NewSession,
} from './lifecycle.js';
import { errorState, idleState, restoringState } from './grantStates.js';
import type { GrantContext, GrantEvent, GrantInput, GrantRuntime, GrantTag } from './types.js';
import { runtimeOf, requestedScopes } from './types.js';

export interface ClientCredentialsInput extends GrantRuntime {
  scopes: string[] | undefined;
  /** RFC 8707 resource indicator. */
  resource: string | undefined;
}

/** RFC 6749 §4.4.2, then stores the tokens as the session. */
const requestTokens = fromPromise<NewSession, ClientCredentialsInput>(async ({ input, signal }) => {
  const { services } = input;
  notStopped(signal, 'the token request');
  // No signal once sent: tokens the server issued are stored even if the actor stopped.
  const request = { provider: input.provider, client: input.client, services };
  const tokens = await requestClientCredentials({
    ...request,
    ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
    ...(input.resource === undefined ? {} : { resource: input.resource }),
  });
  return storeNewSession(services, input.options.storageKey, 'clientCredentials', tokens);
});

/**
 * The client credentials grant as an XState v5 machine.
 *
 * States: `restoring` → `idle` → `exchanging` → `authenticated` ⇄
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
  guards: lifecycleGuards,
  actions: lifecycleActions,
}).createMachine({
  id: 'clientCredentials',
  context: ({ input }) => initialGrantContext('clientCredentials', input),
  initial: 'restoring',
  on: { ...sessionChangedTransitions },
  states: {
    restoring: restoringState({ callbackMayWait: false }),
    idle: idleState({ loginStartsIn: 'exchanging', callbackRestores: false }),
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestTokens',
        src: 'request client credentials tokens',
        input: ({ context }) => ({
          ...runtimeOf(context),
          scopes: requestedScopes(context),
          resource: resourceOf(context),
        }),
        onDone: { target: 'authenticated', actions: { type: 'remember new session', params: ({ event }) => event.output } },
        // A demand for a token (the cache, getAccessToken) asks again only once the backoff is over.
        onError: {
          target: 'error',
          actions: [
            { type: 'remember failure', params: ({ event }) => ({ error: event.error }) },
            { type: 'hold renewals back', params: ({ event }) => ({ error: event.error }) },
          ],
        },
      },
      on: {
        CANCEL: 'idle',
        LOGOUT: 'loggingOut',
      },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    error: errorState({ loginStartsIn: 'exchanging', retry: 'renew or log in again' }),
  },
});
