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
  lifecycleActors,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
  sessionChangedTransitions,
  storeNewSession,
  type LifecycleChildren,
  type NewSession,
} from '../lifecycle.js';
import { errorState, idleState, restoringState } from '../grantStates.js';
import type { GrantContext, GrantEvent, GrantInput, GrantRuntime, GrantTag } from '../types.js';
import { runtimeOf, requestedScopes } from '../types.js';

export interface PasswordInput extends GrantRuntime {
  username: string;
  password: string;
  scopes: string[] | undefined;
}

/** RFC 6749 §4.3.2; the credentials live only in this invocation's input, never in context. */
const requestTokens = fromPromise<NewSession, PasswordInput>(async ({ input, signal }) => {
  const { services } = input;
  const request = {
    provider: input.provider,
    client: input.client,
    services,
    signal,
    username: input.username,
    password: input.password,
  };
  const tokens = await requestPasswordToken(input.scopes === undefined ? request : { ...request, scopes: input.scopes });
  return storeNewSession(services, input.options.storageKey, 'password', tokens);
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
const idle = idleState({ loginStartsIn: 'exchanging', callbackRestores: false });
// Without the password (never kept) only a failed refresh can be retried.
const failed = errorState({ loginStartsIn: 'exchanging', retry: 'renew only' });

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
}).createMachine({
  id: 'password',
  context: ({ input }) => initialGrantContext('password', input),
  initial: 'restoring',
  on: { ...sessionChangedTransitions },
  states: {
    restoring: {
      ...restoringState({ callbackMayWait: false }),
      // Not deferred: that would keep the password in context. A login supersedes the restore.
      on: { LOGIN: loginWithCredentials },
    },
    idle: { ...idle, on: { ...idle.on, LOGIN: loginWithCredentials } },
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestTokens',
        src: 'request tokens with password',
        input: ({ context, event }) => ({
          ...runtimeOf(context),
          username: event.type === 'LOGIN' ? (event.username ?? '') : '',
          password: event.type === 'LOGIN' ? (event.password ?? '') : '',
          scopes: requestedScopes(context),
        }),
        onDone: { target: 'authenticated', actions: { type: 'remember new session', params: ({ event }) => event.output } },
        onError: { target: 'error', actions: { type: 'remember failure', params: ({ event }) => ({ error: event.error }) } },
      },
      on: { CANCEL: 'idle', LOGOUT: 'loggingOut' },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    error: { ...failed, on: { ...failed.on, LOGIN: loginWithCredentials } },
  },
});
