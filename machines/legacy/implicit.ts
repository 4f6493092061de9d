/**
 * The implicit grant (RFC 6749 §4.2): the access token comes back in the
 * redirect's fragment.
 *
 * @deprecated OAuth 2.1 removed this grant (draft-ietf-oauth-v2-1 §10, RFC 9700
 * §2.1.2: tokens in the front channel leak through history, referrers and
 * injection, and cannot be sender-constrained). It exists for providers that
 * still need it (SkyMavis SSO lists it); prefer the authorization code grant
 * with PKCE.
 */
import { fromPromise, setup } from 'xstate';
import { checkCallback, type CallbackResult } from '../../src/protocol/callback.js';
import { OAuthError } from '../../src/errors.js';
import { parseTokenResponseBody } from '../../src/protocol/tokenResponse.js';
import type { TokenSet } from '../../src/protocol/types.js';
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
  discoveringState,
  endingProviderSessionState,
  discoveryFailedState,
  startingState,
} from '../lifecycle.js';
import { lifecycleActors, storeNewSession, toOAuthError, type NewSession } from '../lifecycleActors.js';
import { redirectGrantImplementations, type RedirectGrantChildren } from '../redirectGrant.js';
import { pendingLoginKey } from '../persistence.js';
import type { GrantContext, GrantEvent, GrantInput, GrantTag } from '../types.js';
import { runtimeOf, withRuntime, type WithRuntime } from '../types.js';

/** The verdict on an implicit callback: its tokens, or why it is refused. */
export type ImplicitVerdict = { accepted: true; tokens: TokenSet } | { accepted: false; error: OAuthError };

/**
 * Checks an implicit-grant callback (RFC 6749 §4.2.2): the fragment's state
 * and `iss` against the pending authorization, the server's error, the time
 * to live, then the token parameters like a token response.
 */
export function judgeImplicitCallback(context: GrantContext, url: string): ImplicitVerdict {
  const pending = context.pending;
  if (pending === undefined) {
    return { accepted: false, error: new OAuthError('pending_missing', { description: 'no authorization is pending', retryable: false }) };
  }
  try {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OAuthError('invalid_callback', { description: 'the callback is not an absolute URL', retryable: false });
    }
    // RFC 6749 §4.2.2: the response is in the fragment (an error may come in the query).
    const search = new URLSearchParams(parsed.hash.startsWith('#') ? parsed.hash.slice(1) : parsed.hash);
    const source = search.has('access_token') || search.has('error') ? search : parsed.searchParams;
    const params: Record<string, string> = {};
    for (const [name, value] of source) {
      if (Object.hasOwn(params, name)) {
        throw new OAuthError('invalid_callback', { description: `parameter ${name} appears more than once`, retryable: false });
      }
      params[name] = value;
    }
    const common: { state?: string; iss?: string } = {};
    if (params.state !== undefined) common.state = params.state;
    if (params.iss !== undefined) common.iss = params.iss;
    const result: CallbackResult =
      params.error !== undefined
        ? { type: 'error', error: params.error, ...common, params }
        : { type: 'success', code: params.access_token ?? '', ...common, params };
    const expected: Parameters<typeof checkCallback>[1] = {
      state: pending.state,
      issRequired: runtimeOf(context).provider.authorizationResponseIssParameterSupported === true,
    };
    const issuer = pending.issuer ?? runtimeOf(context).provider.issuer;
    if (issuer !== undefined) expected.issuer = issuer;
    checkCallback(result, expected);
    if (runtimeOf(context).services.clock.now() > pending.expiresAt) {
      throw new OAuthError('pending_expired', { description: 'the authorization request timed out', retryable: false });
    }
    const { state: _state, iss: _iss, ...body } = params;
    // The same validation as a token endpoint response (RFC 6749 §4.2.2 lists the §5.1 fields).
    const tokens = parseTokenResponseBody(runtimeOf(context).provider, body, runtimeOf(context).services.clock);
    // An implicit grant never carries a refresh token (RFC 6749 §4.2.2).
    const { refreshToken: _refresh, ...withoutRefresh } = tokens;
    return { accepted: true, tokens: withoutRefresh };
  } catch (thrown) {
    return { accepted: false, error: toOAuthError(thrown) };
  }
}

/**
 * Stores the tokens of an accepted implicit callback as the session (replacing the pending record),
 * after checking an ID token that came with them: it came through the front channel, so its claims,
 * its signature and its `at_hash` (OIDC Core §3.2.2.11, §3.2.2.9) — loaded on demand, with `jose`.
 */
const storeTokens = fromPromise<NewSession, WithRuntime & { tokens: TokenSet; nonce: string | undefined; issuer: string | undefined }>(
  async ({ input }) => {
    const { provider, client, services, options } = runtimeOf(input);
    if (input.tokens.idToken !== undefined) {
      const { checkFrontChannelIdToken } = await import('../../src/protocol/idTokenSignature.js');
      await checkFrontChannelIdToken({ provider, client, services }, input.tokens.idToken, {
        nonce: input.nonce,
        issuer: input.issuer,
        now: services.clock.now(),
        accessToken: input.tokens.accessToken,
      });
    }
    const session = await storeNewSession(services, options.storageKey, 'implicit', input.tokens);
    // The callback was this login's: its pending authorization is spent (a reload must not take it again).
    await services.storage.remove(pendingLoginKey(options.storageKey)).catch(() => undefined);
    return session;
  },
);

const redirect = redirectGrantImplementations(judgeImplicitCallback);

/**
 * The legacy implicit grant as an XState v5 machine: `LOGIN` → `redirecting`
 * (`response_type=token`, state, nonce with `openid`) → `awaitingCallback` →
 * `CALLBACK { url }` with the fragment → `exchanging` (stores the tokens) →
 * `authenticated`. No refresh: the tokens' expiry ends the session
 * (`error` with `login_required`). A restore that cannot read the storage
 * waits in `restoreFailed`.
 *
 * @deprecated Removed by OAuth 2.1 (draft-ietf-oauth-v2-1 §10, RFC 9700
 * §2.1.2); for providers that still require it.
 */
export const implicitMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: RedirectGrantChildren & { storeTokens: 'store tokens from the callback' };
  },
  actors: { ...lifecycleActors, ...redirect.actors, 'store tokens from the callback': storeTokens },
  guards: { ...lifecycleGuards, ...redirect.guards },
  actions: { ...lifecycleActions, ...redirect.actions },
  delays: lifecycleDelays,
}).createMachine({
  id: 'implicit',
  context: ({ input }) => initialGrantContext('implicit', input),
  initial: 'starting',
  on: { ...sessionChangedTransitions },
  states: {
    // Reads the stored session; a LOGIN or CALLBACK meanwhile (the callback page) waits for its outcome.
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
          {
            guard: { type: 'an authorization is stored', params: storedBlob },
            target: 'awaitingCallback',
            actions: [{ type: 'remember stored session', params: storedBlob }, 'replay deferred events'],
          },
          {
            // A fresh actor on the callback page, and nothing is pending: refuse rather than wait.
            guard: 'a callback is waiting',
            target: 'error',
            actions: [{ type: 'fail with', params: { code: 'pending_missing', description: 'no authorization is pending' } }, 'replay deferred events'],
          },
          { target: 'idle', actions: 'replay deferred events' },
        ],
        onError: [
          { guard: 'a callback is waiting', target: 'error', actions: [{ type: 'remember failure', params: thrownError }, 'replay deferred events'] },
          ...whenRestoreFails,
        ],
      },
      on: { LOGIN: { actions: 'defer event' }, CALLBACK: { actions: 'defer event' } },
    },
    // The storage could not be read: a session may be stored. Read again after a while or on RETRY.
    restoreFailed: {
      tags: ['error', 'ready'],
      after: { 'restore retry delay': { target: 'restoring', actions: 'clear failure' } },
      on: {
        RETRY: { target: 'restoring', actions: 'clear failure' },
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        CALLBACK: { target: 'restoring', actions: ['defer event', 'clear failure'] },
        LOGOUT: 'loggingOut',
      },
    },
    idle: {
      tags: ['ready'],
      on: {
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        // A fresh actor that skipped restore: load the pending authorization the callback answers.
        CALLBACK: { target: 'restoring', actions: 'defer event' },
        LOGOUT: 'loggingOut',
      },
    },
    // Prepares, stores and opens the authorization request (RFC 6749 §4.2.1, response_type=token).
    redirecting: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'prepareAuthorization',
        src: 'prepare authorization request',
        input: ({ context }) => withRuntime(context, { grant: context.grant, login: context.login, responseType: 'token' as const }),
        onDone: { target: 'awaitingCallback', actions: { type: 'remember pending authorization', params: ({ event }) => event.output } },
        onError: { target: 'error', actions: { type: 'remember failure', params: thrownError } },
      },
      on: {
        CANCEL: { target: 'idle', actions: ['forget pending authorization', 'forget the stored session'] },
        LOGOUT: 'loggingOut',
      },
    },
    awaitingCallback: {
      tags: ['awaitingCallback', 'ready'],
      on: {
        CALLBACK: [
          { guard: 'the callback answers the pending authorization', target: 'exchanging' },
          // Not this login's callback (another state): refused, and the login goes on waiting for its own.
          { guard: 'the callback is for another authorization', actions: 'refuse the foreign callback' },
          // Its own callback, refused (an error, a wrong issuer, too late): the pending authorization ends.
          { target: 'error', actions: ['refuse the callback', 'forget the stored session'] },
        ],
        LOGIN: { target: 'redirecting', actions: ['forget pending authorization', 'remember login request', 'clear failure'] },
        CANCEL: { target: 'idle', actions: ['forget pending authorization', 'forget the stored session'] },
        LOGOUT: { target: 'loggingOut', actions: 'forget pending authorization' },
      },
    },
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'storeTokens',
        src: 'store tokens from the callback',
        input: ({ context, event }) => {
          const verdict = event.type === 'CALLBACK' ? judgeImplicitCallback(context, event.url) : undefined;
          if (verdict === undefined || !verdict.accepted) throw new TypeError('exchanging without an accepted callback');
          return withRuntime(context, {
            tokens: verdict.tokens,
            nonce: context.pending?.nonce,
            issuer: context.pending?.issuer ?? runtimeOf(context).provider.issuer,
          });
        },
        onDone: {
          target: 'authenticated',
          actions: ['forget pending authorization', { type: 'remember new session', params: ({ event }) => event.output }],
        },
        onError: {
          target: 'error',
          actions: ['forget pending authorization', { type: 'remember failure', params: thrownError }],
        },
      },
      on: { LOGOUT: { target: 'loggingOut', actions: 'forget pending authorization' } },
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
        // No refresh token, so nothing to renew: RETRY is a new authorization request.
        RETRY: { target: 'redirecting', actions: 'clear failure' },
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
