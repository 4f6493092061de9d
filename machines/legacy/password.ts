/**
 * The resource owner password credentials grant (RFC 6749 §4.3).
 *
 * @deprecated OAuth 2.1 removed this grant (draft-ietf-oauth-v2-1 §10, RFC 9700
 * §2.4: "MUST NOT be used"): the client sees the user's password. It exists
 * for providers that still need it (SkyMavis SSO lists it); prefer the
 * authorization code or device grant.
 */
import { fromPromise, setup } from 'xstate';
import { requestPasswordToken } from '../../src/protocol/operations.js';
import {
  authenticatedState,
  initialGrantContext,
  lifecycleActions,
  lifecycleDelays,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
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
} from '../lifecycle.js';
import { lifecycleActors, storeNewSession, type NewSession } from '../lifecycleActors.js';
import type { GrantContext, GrantEvent, GrantInput, GrantTag, WithRuntime } from '../types.js';
import { requestedScopes, runtimeOf, withRuntime } from '../types.js';

export interface PasswordInput extends WithRuntime {
  username: string;
  password: string;
  scopes: string[] | undefined;
}

/** RFC 6749 §4.3.2; the credentials live only in this invocation's input, never in context. */
const requestTokens = fromPromise<NewSession, PasswordInput>(async ({ input, signal }) => {
  const { provider, client, services, options } = runtimeOf(input);
  const request = {
    provider,
    client,
    services,
    signal,
    username: input.username,
    password: input.password,
  };
  const tokens = await requestPasswordToken(input.scopes === undefined ? request : { ...request, scopes: input.scopes });
  return storeNewSession(services, options.storageKey, 'password', tokens);
});

/** A LOGIN goes on only with credentials; without, it fails (re-entering `error` when it is already there). */
const loginWithCredentials = [
  { guard: 'the login carries credentials', target: 'exchanging', actions: ['remember login request', 'clear failure'] },
  {
    target: 'error',
    reenter: true,
    actions: { type: 'fail with', params: { code: 'invalid_request', description: 'LOGIN needs username and password' } },
  },
] as const;

/**
 * The legacy password grant as an XState v5 machine: `LOGIN { username,
 * password, scopes? }` → `exchanging` → `authenticated` ⇄ `refreshing`.
 * The password is passed from the event to the request's input only.
 *
 * @deprecated Removed by OAuth 2.1 (draft-ietf-oauth-v2-1 §10, RFC 9700 §2.4);
 * for providers that still require it.
 */
export const passwordMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: LifecycleChildren & { requestTokens: 'request tokens with password' };
  },
  actors: { ...lifecycleActors, 'request tokens with password': requestTokens },
  guards: {
    ...lifecycleGuards,
    'the login carries credentials': ({ event }) =>
      event.type === 'LOGIN' && typeof event.username === 'string' && event.username !== '' && typeof event.password === 'string',
  },
  actions: lifecycleActions,
  delays: lifecycleDelays,
}).createMachine({
  id: 'password',
  context: ({ input }) => initialGrantContext('password', input),
  initial: 'starting',
  on: { ...sessionChangedTransitions },
  states: {
    // Reads the stored session. A LOGIN is not deferred (that would keep the password in context): it supersedes the restore.
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
      on: { LOGIN: loginWithCredentials },
    },
    // The storage could not be read: a session may be stored. Read again after a while or on RETRY.
    restoreFailed: {
      tags: ['error', 'ready'],
      after: { 'restore retry delay': { target: 'restoring', actions: 'clear failure' } },
      on: {
        RETRY: { target: 'restoring', actions: 'clear failure' },
        LOGIN: loginWithCredentials,
        LOGOUT: 'loggingOut',
      },
    },
    idle: {
      tags: ['ready'],
      on: {
        LOGIN: loginWithCredentials,
        LOGOUT: 'loggingOut',
      },
    },
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestTokens',
        src: 'request tokens with password',
        input: ({ context, event }) =>
          withRuntime(context, {
            username: event.type === 'LOGIN' ? (event.username ?? '') : '',
            password: event.type === 'LOGIN' ? (event.password ?? '') : '',
            scopes: requestedScopes(context),
          }),
        onDone: { target: 'authenticated', actions: { type: 'remember new session', params: ({ event }) => event.output } },
        onError: { target: 'error', actions: { type: 'remember failure', params: thrownError } },
      },
      on: { CANCEL: 'idle', LOGOUT: 'loggingOut' },
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
        // Without the password (never kept) only a failed refresh can be retried.
        RETRY: { guard: 'set-aside tokens can be renewed', target: 'refreshing', actions: 'take back set-aside tokens' },
        LOGIN: loginWithCredentials,
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
