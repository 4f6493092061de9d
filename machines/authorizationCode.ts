/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), with the
 * security profile of RFC 9700: state always, nonce with `openid`, a pending
 * authorization that accepts one callback, within its time to live, from the
 * expected issuer (RFC 9207).
 */
import { assign, fromPromise, setup } from 'xstate';
import { parseCallback, checkCallback } from '../src/protocol/callback.js';
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { OAuthError } from '../src/protocol/errors.js';
import { exchangeAuthorizationCode, type IdTokenCheck } from '../src/protocol/operations.js';
import { createPkce } from '../src/protocol/pkce.js';
import { createNonce, createState } from '../src/protocol/random.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import type { Services } from '../src/services/types.js';
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
  toOAuthError,
  type LifecycleChildren,
  type NewSession,
} from './lifecycle.js';
import { removeSession, writeSession, type SessionBlob } from './persistence.js';
import type {
  GrantContext,
  GrantEvent,
  GrantInput,
  GrantKind,
  GrantTag,
  LoginRequest,
  PendingAuthorization,
  ResolvedGrantOptions,
} from './types.js';

export interface PrepareInput {
  grant: GrantKind;
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  options: ResolvedGrantOptions;
  login: LoginRequest | undefined;
  /** `code` here; the legacy implicit grant asks for `token`. */
  responseType: 'code' | 'token';
}

/** A prepared authorization request. */
export interface PreparedAuthorization {
  pending: PendingAuthorization;
  authorizationUrl: string;
}

/**
 * Creates state, PKCE and (for `openid`) a nonce, builds the authorization
 * URL, stores the pending authorization, then navigates. The record is
 * stored before navigating: navigation may unload the page.
 */
export async function prepareAuthorization(input: PrepareInput, signal: AbortSignal): Promise<PreparedAuthorization> {
  const { provider, client, services, options } = input;
  const redirectUri = client.redirectUri;
  // RFC 9700 §4.1.3: the redirect URI is sent, and later compared, exactly as registered.
  if (redirectUri === undefined || redirectUri === '') throw new TypeError('client.redirectUri is required for a redirect grant');
  const scopes = input.login?.scopes ?? client.scopes ?? [];
  const state = createState(services.crypto);
  // OIDC Core §3.1.2.1: a nonce binds the ID token to this request.
  const nonce = scopes.includes('openid') ? createNonce(services.crypto) : undefined;
  const pkce = input.responseType === 'code' ? await createPkce(services.crypto, { method: client.pkceMethod ?? 'S256' }) : undefined;
  const urlOptions: Parameters<typeof buildAuthorizationUrl>[2] = {
    state,
    // The implicit grant has no code to bind, so no PKCE (RFC 7636 §1 covers the code flow only).
    codeChallenge: pkce?.challenge ?? 'unused',
    codeChallengeMethod: pkce?.method ?? 'S256',
    scopes,
    redirectUri,
    responseType: input.responseType,
  };
  if (nonce !== undefined) urlOptions.nonce = nonce;
  if (input.login?.extraParams !== undefined) urlOptions.extraParams = input.login.extraParams;
  let authorizationUrl = buildAuthorizationUrl(provider, client, urlOptions);
  if (pkce === undefined) {
    const url = new URL(authorizationUrl);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    authorizationUrl = url.toString();
  }
  const now = services.clock.now();
  const pending: PendingAuthorization = {
    state,
    codeVerifier: pkce?.verifier ?? '',
    redirectUri,
    scopes,
    createdAt: now,
    expiresAt: now + options.callbackTtlMs,
  };
  if (nonce !== undefined) pending.nonce = nonce;
  if (provider.issuer !== undefined) pending.issuer = provider.issuer;
  const blob: SessionBlob = { version: 1, machine: input.grant, state: 'awaitingCallback', pending, savedAt: now };
  await writeSession(services.storage, options.storageKey, blob);
  if (signal.aborted) {
    // Cancelled while storing: leave no pending authorization behind.
    await removeSession(services.storage, options.storageKey).catch(() => undefined);
    throw new OAuthError('aborted', { description: 'the login was cancelled', retryable: false });
  }
  await services.navigate?.(authorizationUrl);
  return { pending, authorizationUrl };
}

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
      issRequired: context.provider.authorizationResponseIssParameterSupported === true,
    };
    const issuer = pending.issuer ?? context.provider.issuer;
    if (issuer !== undefined) expected.issuer = issuer;
    const { code } = checkCallback(parseCallback(url), expected);
    if (context.services.clock.now() > pending.expiresAt) return refused('pending_expired', 'the authorization request timed out');
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

export interface ExchangeInput {
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  options: ResolvedGrantOptions;
  code: string;
  codeVerifier: string;
  redirectUri: string;
  idToken?: IdTokenCheck;
}

/**
 * RFC 6749 §4.1.3 (and, with `openid`, OIDC Core §3.1.3.7: a failed ID token check
 * throws, so no tokens are kept or stored). The stored pending authorization is removed before the
 * code is sent, so a reload during the exchange cannot redeem it again.
 */
const exchangeCodeForTokens = fromPromise<NewSession, ExchangeInput>(async ({ input, signal }) => {
  const { services, options } = input;
  await removeSession(services.storage, options.storageKey);
  const tokens = await exchangeAuthorizationCode({
    provider: input.provider,
    client: input.client,
    services,
    signal,
    code: input.code,
    codeVerifier: input.codeVerifier,
    redirectUri: input.redirectUri,
    ...(input.idToken === undefined ? {} : { idToken: input.idToken }),
  });
  if (signal.aborted) throw new OAuthError('aborted', { description: 'stopped during the exchange', retryable: false });
  return storeNewSession(services, options.storageKey, 'authorizationCode', tokens);
});

/**
 * The authorization code grant with PKCE as an XState v5 machine.
 *
 * States: `restoring` → `idle` → `redirecting` → `awaitingCallback` →
 * `exchanging` → `authenticated` ⇄ `refreshing`, `loggingOut`, `error`.
 * Events: `LOGIN`, `CALLBACK`, `REFRESH`, `LOGOUT`, `RETRY`, `CANCEL`,
 * `SESSION_CHANGED`. Input: {@link GrantInput}.
 */
export const authorizationCodeMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: LifecycleChildren & {
      prepareAuthorization: 'prepare authorization request';
      exchangeCode: 'exchange code for tokens';
    };
  },
  actors: {
    ...lifecycleActors,
    'prepare authorization request': fromPromise<PreparedAuthorization, PrepareInput>(({ input, signal }) =>
      prepareAuthorization(input, signal),
    ),
    'exchange code for tokens': exchangeCodeForTokens,
  },
  guards: {
    ...lifecycleGuards,
    'an authorization is stored': (_, params: { blob: SessionBlob | null }) => params.blob?.state === 'awaitingCallback',
    'the callback answers the pending authorization': ({ context, event }) =>
      event.type === 'CALLBACK' && judgeCallback(context, event.url).accepted,
  },
  actions: {
    ...lifecycleActions,
    'remember pending authorization': assign((_, params: PreparedAuthorization) => ({
      pending: params.pending,
      authorizationUrl: params.authorizationUrl,
    })),
    'forget pending authorization': assign({ pending: undefined }),
    // The pending authorization is single use: it becomes the exchange, and is gone from context.
    'start the exchange': assign(({ context, event }) => {
      if (event.type !== 'CALLBACK' || context.pending === undefined) return {};
      const verdict = judgeCallback(context, event.url);
      if (!verdict.accepted) return {};
      const { codeVerifier, redirectUri } = context.pending;
      return { pending: undefined, exchange: { code: verdict.code, codeVerifier, redirectUri, ...idTokenCheck(context.pending) } };
    }),
    'refuse the callback': assign(({ context, event }) => {
      const verdict = event.type === 'CALLBACK' ? judgeCallback(context, event.url) : undefined;
      const error =
        verdict === undefined || verdict.accepted
          ? new OAuthError('invalid_callback', { description: 'not a callback', retryable: false })
          : verdict.error;
      return { pending: undefined, error: error.toJSON() };
    }),
    'forget the exchange': assign({ exchange: undefined }),
  },
}).createMachine({
  id: 'authorizationCode',
  context: ({ input }) => initialGrantContext('authorizationCode', input),
  initial: 'restoring',
  on: { ...sessionChangedTransitions },
  states: {
    restoring: {
      invoke: {
        id: 'readSession',
        src: 'read stored session',
        input: ({ context }) => {
          const callbackWaiting = context.deferred.some((event) => event.type === 'CALLBACK');
          return {
            services: context.services,
            storageKey: context.options.storageKey,
            machine: context.grant,
            skip: !context.options.restore && !callbackWaiting,
            callbackWaiting,
          };
        },
        onDone: [
          {
            guard: { type: 'the stored session has tokens', params: ({ event }) => ({ blob: event.output }) },
            target: 'authenticated',
            actions: [{ type: 'remember stored session', params: ({ event }) => ({ blob: event.output }) }, 'replay deferred events'],
          },
          {
            guard: { type: 'an authorization is stored', params: ({ event }) => ({ blob: event.output }) },
            target: 'awaitingCallback',
            actions: [{ type: 'remember stored session', params: ({ event }) => ({ blob: event.output }) }, 'replay deferred events'],
          },
          {
            // A fresh actor on the callback page, and nothing is pending: refuse rather than wait.
            guard: 'a callback is waiting',
            target: 'error',
            actions: [
              { type: 'fail with', params: { code: 'pending_missing', description: 'no authorization is pending' } },
              'replay deferred events',
            ],
          },
          { target: 'idle', actions: 'replay deferred events' },
        ],
        onError: [
          {
            guard: 'a callback is waiting',
            target: 'error',
            actions: [{ type: 'remember failure', params: ({ event }) => ({ error: event.error }) }, 'replay deferred events'],
          },
          {
            target: 'idle',
            actions: [{ type: 'remember failure', params: ({ event }) => ({ error: event.error }) }, 'replay deferred events'],
          },
        ],
      },
      on: {
        LOGIN: { actions: 'defer event' },
        CALLBACK: { actions: 'defer event' },
      },
    },
    idle: {
      tags: ['ready'],
      on: {
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        // A fresh actor on the callback page that skipped restore: load the pending authorization first.
        CALLBACK: { target: 'restoring', actions: 'defer event' },
        LOGOUT: 'loggingOut',
      },
    },
    redirecting: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'prepareAuthorization',
        src: 'prepare authorization request',
        input: ({ context }) => ({
          grant: context.grant,
          provider: context.provider,
          client: context.client,
          services: context.services,
          options: context.options,
          login: context.login,
          responseType: 'code' as const,
        }),
        onDone: {
          target: 'awaitingCallback',
          actions: { type: 'remember pending authorization', params: ({ event }) => event.output },
        },
        onError: { target: 'error', actions: { type: 'remember failure', params: ({ event }) => ({ error: event.error }) } },
      },
      on: {
        CANCEL: { target: 'idle', actions: ['forget pending authorization', 'forget the stored session'] },
        LOGOUT: 'loggingOut',
      },
    },
    awaitingCallback: {
      tags: ['ready'],
      on: {
        CALLBACK: [
          { guard: 'the callback answers the pending authorization', target: 'exchanging', actions: 'start the exchange' },
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
        id: 'exchangeCode',
        src: 'exchange code for tokens',
        input: ({ context }) => {
          if (context.exchange === undefined) throw new TypeError('exchanging without a code');
          return {
            provider: context.provider,
            client: context.client,
            services: context.services,
            options: context.options,
            ...context.exchange,
          };
        },
        onDone: {
          target: 'authenticated',
          actions: ['forget the exchange', { type: 'remember new session', params: ({ event }) => event.output }],
        },
        onError: {
          target: 'error',
          actions: ['forget the exchange', { type: 'remember failure', params: ({ event }) => ({ error: event.error }) }],
        },
      },
      on: {
        LOGOUT: { target: 'loggingOut', actions: 'forget the exchange' },
      },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    error: {
      tags: ['error', 'ready'],
      on: {
        RETRY: [
          { guard: 'set-aside tokens can be renewed', target: 'refreshing', actions: ['take back set-aside tokens'] },
          // A failed login: start a new one (a code is never redeemed twice).
          { target: 'redirecting', actions: 'clear failure' },
        ],
        LOGIN: { target: 'redirecting', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
