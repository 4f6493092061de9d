/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), with the
 * security profile of RFC 9700: state always, nonce with `openid`, a pending
 * authorization that accepts one callback, within its time to live, from the
 * expected issuer (RFC 9207).
 */
import { assign, fromPromise, setup } from 'xstate';
import { parseCallback, checkCallback } from '../src/protocol/callback.js';
import { OAuthError } from '../src/errors.js';
import { exchangeAuthorizationCode, type IdTokenCheck } from '../src/protocol/operations.js';
import { nopkce } from '../src/protocol/pkce.js';
import { MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, renewalBackoff } from '../src/session/backoff.js';
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
  sessionLock,
  startingState,
} from './lifecycle.js';
import { lifecycleActors, notStopped, storeNewSession, toOAuthError, type NewSession } from './lifecycleActors.js';
import { redirectGrantImplementations, type AuthorizationRequest, type RedirectGrantChildren } from './redirectGrant.js';
import { claimPendingAuthorization } from './persistence.js';
import type { GrantContext, GrantEvent, GrantInput, GrantTag, PendingAuthorization, WithRuntime } from './types.js';
import { runtimeOf, withRuntime } from './types.js';

// The authorization request is shared with the implicit grant; exported from here as before.
export { prepareAuthorization, type AuthorizationRequest, type PrepareInput, type PreparedAuthorization } from './redirectGrant.js';

/** The verdict on a callback URL: the code to redeem, or why the callback is refused. */
export type CallbackVerdict = { accepted: true; code: string } | { accepted: false; error: OAuthError };

function refused(code: string, description: string): CallbackVerdict {
  return { accepted: false, error: new OAuthError(code, { description, retryable: false }) };
}

/**
 * Checks a callback against the pending authorization: state (RFC 6749
 * §10.12), `iss` (RFC 9207 §2.4), the server's own error, then the time to
 * live. Pure: the machine calls it in a guard and again in the action.
 */
export function judgeCallback(context: GrantContext, url: string): CallbackVerdict {
  const pending = context.pending;
  if (pending === undefined) return refused('pending_missing', 'no authorization is pending');
  try {
    const expected: Parameters<typeof checkCallback>[1] = {
      state: pending.state,
      issRequired: runtimeOf(context).provider.authorizationResponseIssParameterSupported === true,
    };
    const issuer = pending.issuer ?? runtimeOf(context).provider.issuer;
    if (issuer !== undefined) expected.issuer = issuer;
    const { code } = checkCallback(parseCallback(url), expected);
    if (runtimeOf(context).services.clock.now() > pending.expiresAt) return refused('pending_expired', 'the authorization request timed out');
    return { accepted: true, code };
  } catch (thrown) {
    return { accepted: false, error: toOAuthError(thrown) };
  }
}

/**
 * With `openid` requested, the exchange checks the ID token against the nonce and issuer of the
 * pending authorization (the issuer falls back to the provider's; with neither, `iss` is not compared).
 */
function idTokenCheck(pending: PendingAuthorization): { idToken?: IdTokenCheck } {
  if (!pending.scopes.includes('openid')) return {};
  const check: IdTokenCheck = {};
  if (pending.nonce !== undefined) check.nonce = pending.nonce;
  if (pending.issuer !== undefined) check.issuer = pending.issuer;
  return { idToken: check };
}

export interface ExchangeInput extends WithRuntime {
  /** The pending authorization the code answers: what is claimed in storage before the code is sent. */
  pending: Pick<PendingAuthorization, 'state' | 'expiresAt'>;
  code: string;
  /** `null`: no challenge was sent, so no verifier is (`nopkce`). */
  codeVerifier: string | null;
  redirectUri: string;
  idToken?: IdTokenCheck;
  tokenParams?: Record<string, string>;
  /** Exchanges of this code already sent: a retry sends the same code again, the pending authorization claimed already. */
  attempts?: number;
  /** The server asked for a DPoP nonce (RFC 9449 §8) and this is the one exchange sent again with it. */
  dpopNonceRetried?: boolean;
}

/**
 * Whether a failed exchange is worth sending again, unchanged (Poe: "`server_error` — safe to
 * retry"): a 5xx (`server_error`, `temporarily_unavailable`), a 429, or a network failure or
 * timeout before any response. Never another 4xx (RFC 6749 §5.2: the request itself is refused),
 * nor a 2xx whose body was lost on the way: the server redeemed the code then. The pending
 * authorization is claimed once, so a retry only ever sends this same code again.
 */
function exchangeFailureIsTransient(error: OAuthError): boolean {
  const status = error.status;
  if (status === undefined) return error.retryable;
  return status === 429 || (status >= 500 && status <= 599);
}

/** The earliest the next exchange could go (the shortest jittered backoff, or the server's `Retry-After`). */
function earliestExchangeRetry(retryBaseMs: number, attempts: number, error: OAuthError): number {
  const shortestBackoff = Math.min(retryBaseMs * 2 ** Math.max(0, attempts - 1) * 0.5, MAX_BACKOFF_MS);
  return Math.max(shortestBackoff, Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/**
 * RFC 6749 §4.1.3 (and, with `openid`, OIDC Core §3.1.3.7: a failed ID token check
 * throws, so no tokens are kept or stored). The stored pending authorization is claimed — compared
 * and removed in one step under the storage's lock — before the code is sent, so a second tab,
 * process or reload holding the same authorization cannot redeem the code again (RFC 9700 §4.2.4:
 * a replayed code revokes what it gave). Once sent, the exchange is read and stored even if the
 * actor stops meanwhile: the code is spent.
 */
const exchangeCodeForTokens = fromPromise<NewSession, ExchangeInput>(async ({ input, signal }) => {
  const { provider, client, services, options, dpop } = runtimeOf(input);
  // The first attempt claims the pending authorization; a retry of the same code has it already.
  if ((input.attempts ?? 0) === 0 && input.dpopNonceRetried !== true) {
    await claimPendingAuthorization(services.storage, options.storageKey, 'authorizationCode', input.pending, services.clock.now());
  }
  notStopped(signal, 'the code exchange');
  const tokens = await exchangeAuthorizationCode({
    provider,
    client,
    services,
    ...(dpop === undefined ? {} : { dpop }),
    code: input.code,
    codeVerifier: input.codeVerifier ?? nopkce,
    redirectUri: input.redirectUri,
    ...(input.idToken === undefined ? {} : { idToken: input.idToken }),
    ...(input.tokenParams === undefined ? {} : { extraParams: input.tokenParams }),
  });
  return storeNewSession(services, options.storageKey, 'authorizationCode', tokens);
});

const redirect = redirectGrantImplementations(judgeCallback);

/**
 * The authorization code grant with PKCE as an XState v5 machine.
 *
 * States: `restoring` (→ `restoreFailed` while the storage cannot be read) →
 * `idle` → `redirecting` (`creating` → `pushing`, for a pushed request → `opening`) →
 * `awaitingCallback` → `exchanging` →
 * `authenticated` ⇄ `refreshing`, `loggingOut`, `error`.
 * Events: `LOGIN`, `CALLBACK`, `REFRESH`, `LOGOUT`, `RETRY`, `CANCEL`,
 * `SESSION_CHANGED`. Input: {@link GrantInput}.
 */
export const authorizationCodeMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: RedirectGrantChildren & { exchangeCode: 'exchange code for tokens' };
  },
  actors: { ...lifecycleActors, ...redirect.actors, 'exchange code for tokens': exchangeCodeForTokens },
  guards: {
    ...lifecycleGuards,
    ...redirect.guards,
    'the request is pushed': (_, request: AuthorizationRequest) => request.push,
    'the code may be sent again with the DPoP nonce': ({ context }, params: { error: unknown }) =>
      toOAuthError(params.error).code === 'use_dpop_nonce' && context.exchange !== undefined && context.exchange.dpopNonceRetried !== true,
    // Bounded: one more push per authorization request, and only for an expired request_uri.
    'the pushed request may be pushed again': ({ context }, params: { error: unknown }) =>
      toOAuthError(params.error).code === 'request_uri_expired' && (context.request?.pushes ?? 0) < 2,
    // Bounded by attempts and by the code's life: the next attempt must go before the code expires.
    'the code may be sent again': ({ context }, params: { error: unknown }) => {
      const exchange = context.exchange;
      if (exchange === undefined) return false;
      const error = toOAuthError(params.error);
      const { services, options } = runtimeOf(context);
      const attempts = (exchange.attempts ?? 0) + 1;
      if (!exchangeFailureIsTransient(error) || attempts >= options.maxExchangeAttempts) return false;
      return services.clock.now() + earliestExchangeRetry(options.retryBaseMs, attempts, error) < exchange.receivedAt + options.codeLifetimeMs;
    },
  },
  delays: {
    ...lifecycleDelays,
    // Set by `wait before sending the code again`: the backoff, or the server's Retry-After, within the code's life.
    'exchange retry delay': ({ context }) => Math.max(0, (context.exchange?.retryAt ?? 0) - runtimeOf(context).services.clock.now()),
  },
  actions: {
    ...lifecycleActions,
    ...redirect.actions,
    // The pending authorization is single use: it becomes the exchange, and is gone from context.
    'start the exchange': assign(({ context, event }) => {
      if (event.type !== 'CALLBACK' || context.pending === undefined) return {};
      const verdict = judgeCallback(context, event.url);
      if (!verdict.accepted) return {};
      const { state, expiresAt, codeVerifier, redirectUri, tokenParams } = context.pending;
      const claim = { state, expiresAt };
      const receivedAt = runtimeOf(context).services.clock.now();
      const exchange = { pending: claim, code: verdict.code, codeVerifier, redirectUri, receivedAt, ...idTokenCheck(context.pending) };
      return { pending: undefined, exchange: tokenParams === undefined ? exchange : { ...exchange, tokenParams } };
    }),
    'forget the exchange': assign({ exchange: undefined }),
    'send the code again with the DPoP nonce': assign(({ context }) =>
      context.exchange === undefined ? {} : { exchange: { ...context.exchange, dpopNonceRetried: true } },
    ),
    'remember the authorization request': assign((_, request: AuthorizationRequest) => ({ request })),
    'remember the pushed request': assign(({ context }, pushed: { requestUri: string; expiresAt: number }) =>
      context.request === undefined ? {} : { request: { ...context.request, pushed, pushes: (context.request.pushes ?? 0) + 1 } },
    ),
    'forget the pushed request': assign(({ context }) => {
      if (context.request === undefined) return {};
      const { pushed: _expired, ...request } = context.request;
      return { request };
    }),
    'forget the authorization request': assign({ request: undefined }),
    // The failure shows in context while the exchange waits; the code is sent again before it expires.
    'wait before sending the code again': assign(({ context }, params: { error: unknown }) => {
      const exchange = context.exchange;
      if (exchange === undefined) return {};
      const error = toOAuthError(params.error);
      const { services, options } = runtimeOf(context);
      const attempts = (exchange.attempts ?? 0) + 1;
      const now = services.clock.now();
      const wait = Math.min(renewalBackoff(services.crypto, options.retryBaseMs, attempts, error), exchange.receivedAt + options.codeLifetimeMs - now - 1);
      return { error: error.toJSON(), exchange: { ...exchange, attempts, retryAt: now + Math.max(0, wait) } };
    }),
  },
}).createMachine({
  id: 'authorizationCode',
  context: ({ input }) => initialGrantContext('authorizationCode', input),
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
    // Makes the authorization request (RFC 6749 §4.1.1, response_type=code), pushes it when it is pushed
    // (RFC 9126), stores the pending authorization and sends the user agent.
    redirecting: {
      tags: ['busy', 'ready'],
      initial: 'creating',
      states: {
        creating: {
          invoke: {
            id: 'createAuthorization',
            src: 'create authorization request',
            input: ({ context }) => withRuntime(context, { grant: context.grant, login: context.login, responseType: 'code' as const }),
            onDone: [
              {
                guard: { type: 'the request is pushed', params: ({ event }) => event.output },
                target: 'pushing',
                actions: { type: 'remember the authorization request', params: ({ event }) => event.output },
              },
              { target: 'opening', actions: { type: 'remember the authorization request', params: ({ event }) => event.output } },
            ],
            onError: { target: '#error', actions: { type: 'remember failure', params: thrownError } },
          },
        },
        // RFC 9126 §2: the request's parameters go to the server, which answers a request_uri.
        pushing: {
          invoke: {
            id: 'pushAuthorization',
            src: 'push authorization request',
            input: ({ context }) => {
              if (context.request === undefined) throw new TypeError('pushing without an authorization request');
              return withRuntime(context, { request: context.request });
            },
            onDone: { target: 'opening', actions: { type: 'remember the pushed request', params: ({ event }) => event.output } },
            onError: { target: '#error', actions: ['forget the authorization request', { type: 'remember failure', params: thrownError }] },
          },
        },
        opening: {
          invoke: {
            id: 'openAuthorization',
            src: 'open authorization request',
            input: ({ context }) => {
              if (context.request === undefined) throw new TypeError('opening without an authorization request');
              return withRuntime(context, { grant: context.grant, request: context.request });
            },
            onDone: {
              target: '#awaitingCallback',
              actions: ['forget the authorization request', { type: 'remember pending authorization', params: ({ event }) => event.output }],
            },
            onError: [
              // The request_uri expired before the user agent was sent (a slow storage): pushed again, once.
              { guard: { type: 'the pushed request may be pushed again', params: thrownError }, target: 'pushing', actions: 'forget the pushed request' },
              { target: '#error', actions: ['forget the authorization request', { type: 'remember failure', params: thrownError }] },
            ],
          },
        },
      },
      on: {
        CANCEL: { target: 'idle', actions: ['forget the authorization request', 'forget pending authorization', 'forget the stored session'] },
        LOGOUT: { target: 'loggingOut', actions: 'forget the authorization request' },
      },
    },
    awaitingCallback: {
      id: 'awaitingCallback',
      tags: ['awaitingCallback', 'ready'],
      on: {
        CALLBACK: [
          { guard: 'the callback answers the pending authorization', target: 'exchanging', actions: ['start the exchange', 'clear failure'] },
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
    // Redeems the code (RFC 6749 §4.1.3). A transient failure sends the same code again after a backoff,
    // a bounded number of times and only while the code lives; anything else ends the login.
    // Under the session's lock (the refresh's, `storageKey + ':refresh'`): the new session this stores must not
    // race a refresh of the old one in another tab or process, which would store its rotated tokens over it.
    exchanging: {
      tags: ['busy', 'ready'],
      invoke: sessionLock,
      initial: 'waitingForLock',
      states: {
        waitingForLock: {
          on: {
            REFRESH_LOCK_GRANTED: 'sending',
            REFRESH_LOCK_FAILED: { target: '#error', actions: ['forget the exchange', { type: 'remember failure', params: thrownError }] },
          },
        },
        sending: {
          invoke: {
            id: 'exchangeCode',
            src: 'exchange code for tokens',
            input: ({ context }) => {
              if (context.exchange === undefined) throw new TypeError('exchanging without a code');
              return withRuntime(context, context.exchange);
            },
            onDone: {
              target: '#authenticated',
              actions: ['forget the exchange', { type: 'remember new session', params: ({ event }) => event.output }],
            },
            onError: [
              {
                // RFC 9449 §8: the server refused the proof for want of its nonce, which its answer carried: sent again once.
                guard: { type: 'the code may be sent again with the DPoP nonce', params: thrownError },
                target: 'sending',
                reenter: true,
                actions: 'send the code again with the DPoP nonce',
              },
              {
                guard: { type: 'the code may be sent again', params: thrownError },
                target: 'waiting',
                actions: { type: 'wait before sending the code again', params: thrownError },
              },
              { target: '#error', actions: ['forget the exchange', { type: 'remember failure', params: thrownError }] },
            ],
          },
        },
        waiting: {
          after: { 'exchange retry delay': 'sending' },
        },
      },
      on: {
        LOGOUT: { target: 'loggingOut', actions: 'forget the exchange' },
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
          // A failed login starts again with a new authorization request: a code is never redeemed twice.
          { target: 'redirecting', actions: 'clear failure' },
        ],
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
