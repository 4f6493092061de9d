/**
 * The types every grant machine shares: its input, its options (with their
 * defaults applied in one place), its context and its events.
 *
 * All grant machines use the same context and event types so that the token
 * lifecycle (`lifecycle.ts`) is written once and type-checked once; a grant
 * simply never sends itself the events it has no use for.
 */
import type { DeviceAuthorization } from '../src/protocol/deviceAuthorization.js';
import type { OAuthErrorJSON } from '../src/errors.js';
import type { ClientConfig, ProviderConfig, TokenSet } from '../src/protocol/types.js';
import type { Services } from '../src/services/types.js';
import type { AuthorizationRequest } from './redirectGrant.js';
import type { DpopSession } from '../src/services/types.js';

/** Tunables of a grant machine; every field has a default (see {@link resolveGrantOptions}). */
export interface GrantOptions {
  /** Storage key of the persisted session blob. Default `'oauth-machines'`. */
  storageKey?: string;
  /** Refresh this long before the access token expires. Default 60 000 ms. */
  refreshSkewMs?: number;
  /** How long a pending authorization accepts its callback. Default 600 000 ms (10 min). */
  callbackTtlMs?: number;
  /** Refresh attempts (the first one included) before a transient failure is given up. Default 4. */
  maxRefreshAttempts?: number;
  /** Base of the exponential refresh backoff: `retryBaseMs · 2^attempt · (0.5..1)`. Default 1 000 ms. */
  retryBaseMs?: number;
  /** Read the persisted session when the machine starts. Default `true`. */
  restore?: boolean;
  /**
   * The least time between two automatic renewals (the expiry timer, a
   * demand for a token): whatever lifetime the server announces, a session is
   * renewed at most once per interval. Default 5 000 ms.
   */
  minRenewalIntervalMs?: number;
  /**
   * Code exchanges (the first one included) before a transient failure is given up: `server_error`,
   * a 5xx, a 429, a network failure or timeout before a response. A 4xx other than 429 is never
   * retried. Default 3.
   */
  maxExchangeAttempts?: number;
  /**
   * How long the provider keeps an authorization code redeemable (RFC 6749 §4.1.2 recommends at most
   * 10 minutes; many servers give 60 s), counted from the callback: a failed exchange is never tried
   * again past it. Default 60 000 ms.
   */
  codeLifetimeMs?: number;
  /**
   * Push every authorization request (RFC 9126) and send the user agent with its `request_uri` only.
   * A provider whose metadata says `require_pushed_authorization_requests` gets them pushed whatever
   * this says. Default `false`.
   */
  pushedAuthorizationRequests?: boolean;
}

/** {@link GrantOptions} with every default filled in. */
export type ResolvedGrantOptions = Required<GrantOptions>;

/** The defaults of {@link GrantOptions}. */
export const DEFAULT_GRANT_OPTIONS: Readonly<ResolvedGrantOptions> = Object.freeze({
  storageKey: 'oauth-machines',
  refreshSkewMs: 60_000,
  callbackTtlMs: 600_000,
  maxRefreshAttempts: 4,
  retryBaseMs: 1_000,
  restore: true,
  minRenewalIntervalMs: 5_000,
  maxExchangeAttempts: 3,
  codeLifetimeMs: 60_000,
  pushedAuthorizationRequests: false,
});

/** Fills in the defaults of {@link GrantOptions}; rejects values that would make a machine misbehave. */
export function resolveGrantOptions(options: GrantOptions = {}): ResolvedGrantOptions {
  const resolved: ResolvedGrantOptions = {
    storageKey: options.storageKey ?? DEFAULT_GRANT_OPTIONS.storageKey,
    refreshSkewMs: options.refreshSkewMs ?? DEFAULT_GRANT_OPTIONS.refreshSkewMs,
    callbackTtlMs: options.callbackTtlMs ?? DEFAULT_GRANT_OPTIONS.callbackTtlMs,
    maxRefreshAttempts: options.maxRefreshAttempts ?? DEFAULT_GRANT_OPTIONS.maxRefreshAttempts,
    retryBaseMs: options.retryBaseMs ?? DEFAULT_GRANT_OPTIONS.retryBaseMs,
    restore: options.restore ?? DEFAULT_GRANT_OPTIONS.restore,
    minRenewalIntervalMs: options.minRenewalIntervalMs ?? DEFAULT_GRANT_OPTIONS.minRenewalIntervalMs,
    maxExchangeAttempts: options.maxExchangeAttempts ?? DEFAULT_GRANT_OPTIONS.maxExchangeAttempts,
    codeLifetimeMs: options.codeLifetimeMs ?? DEFAULT_GRANT_OPTIONS.codeLifetimeMs,
    pushedAuthorizationRequests: options.pushedAuthorizationRequests ?? DEFAULT_GRANT_OPTIONS.pushedAuthorizationRequests,
  };
  if (resolved.storageKey === '') throw new TypeError('options.storageKey must be a non-empty string');
  for (const name of ['refreshSkewMs', 'callbackTtlMs', 'retryBaseMs', 'minRenewalIntervalMs', 'codeLifetimeMs'] as const) {
    if (!Number.isFinite(resolved[name]) || resolved[name] < 0) {
      throw new TypeError(`options.${name} must be a finite number ≥ 0`);
    }
  }
  for (const name of ['maxRefreshAttempts', 'maxExchangeAttempts'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) throw new TypeError(`options.${name} must be an integer ≥ 1`);
  }
  return resolved;
}

/** With `services.dpop`, the session's DPoP key and nonces (RFC 9449), its key kept under `<storageKey>:dpop`. */
export function dpopSessionOf(input: Pick<GrantInput, 'services'>, options: ResolvedGrantOptions): { dpop?: DpopSession } {
  const service = input.services.dpop;
  return service === undefined ? {} : { dpop: service.session(`${options.storageKey}:dpop`) };
}

/**
 * A provider to discover (RFC 8414, OpenID Connect Discovery 1.0): its
 * `issuer`, and fields that override what the metadata says (`quirks`, say).
 * Told apart from a `ProviderConfig` by having no `tokenEndpoint`.
 */
export type DiscoverableProvider = Partial<ProviderConfig> & {
  issuer: string;
  /**
   * The configuration to use when the issuer publishes no metadata document
   * (404 or 410 at its well-known URLs); its relative endpoints resolve
   * against its `baseUrl`, else the issuer.
   */
  fallback?: ProviderConfig;
};

/** Whether `provider` is to be discovered: it names no token endpoint. */
export function needsDiscovery(provider: ProviderConfig | DiscoverableProvider): provider is DiscoverableProvider {
  return typeof provider.tokenEndpoint !== 'string';
}

/** What every grant machine is started with: `createActor(machine, { input })`. */
export interface GrantInput {
  /** The provider's endpoints, or its issuer to discover them from (the machine's `discovering` state). */
  provider: ProviderConfig | DiscoverableProvider;
  client: ClientConfig;
  services: Services;
  options?: GrantOptions;
  /**
   * RFC 8707 resource indicator (an absolute URI) of the client credentials grant's token requests,
   * its first one and its renewals, unless a `LOGIN` names another; like `client.scopes` for scopes.
   */
  resource?: string;
}

/** Which machine a context or a persisted session belongs to; what a pending authorization holds. */
export type { GrantKind, PendingAuthorization } from '../src/session/blob.js';
import type { GrantKind, PendingAuthorization } from '../src/session/blob.js';

/**
 * A device authorization in progress (RFC 8628 §3.2), as the UI shows it: the
 * protocol's own value; `interval` grows by 5 on every `slow_down` (RFC 8628 §3.5).
 */
export type DeviceAuthorizationState = DeviceAuthorization;

/** The parameters of the LOGIN that started the current login, kept for RETRY. */
export interface LoginRequest {
  scopes?: string[];
  extraParams?: Record<string, string>;
  /** Redirect grants: the app's data, kept in the pending authorization (JSON). */
  appState?: unknown;
  /** Redirect grants: where the app goes back to after the callback (the browser helper checks it is same-origin). */
  returnTo?: string;
  /** Extra parameters of the code exchange (authorization code grant). */
  tokenParams?: Record<string, string>;
  /** RFC 8707 (client credentials): the resource the tokens are for. */
  resource?: string;
}

/**
 * A grant machine's context: JSON-serialisable data, plus the runtime
 * dependencies under the symbol {@link RUNTIME}, which neither JSON (persisted
 * snapshots, the inspector's wire format) nor `Object.keys` sees.
 */
export interface GrantContext extends WithRuntime {
  grant: GrantKind;
  /** Present exactly in `authenticated` and `refreshing`. */
  tokens?: TokenSet | undefined;
  /**
   * Tokens that are not usable now but still needed: after a failed refresh
   * (so RETRY can spend their refresh token) and while logging out (so they
   * can be revoked).
   */
  staleTokens?: TokenSet | undefined;
  /** When the session in storage was written (epoch ms): renewal is never due before half the tokens' life. */
  savedAt?: number | undefined;
  /**
   * How many times the session's tokens were renewed since it began: tells
   * whether another tab or process stored newer tokens. A count, not a time,
   * so a clock that jumps backwards cannot make old tokens look new.
   */
  generation?: number | undefined;
  /** The tokens are held in memory only: writing them to storage failed. */
  unsaved?: true | undefined;
  /** Renewals that failed in a row since the last success: the backoff grows with them. */
  renewalFailures?: number | undefined;
  /** The renewal attempt under way was sent again with the server's DPoP nonce (once per attempt; RFC 9449 §8). */
  dpopNonceRetried?: true | undefined;
  /** Requests the refresh under way has sent and seen fail (bounded by `options.maxRefreshAttempts`); only while `refreshing`. */
  refreshAttempts?: number | undefined;
  /**
   * Epoch ms before which no renewal is sent after a failure (the backoff, or
   * the server's `Retry-After`); a demand for a token meanwhile gets the failure.
   */
  retryNotBefore?: number | undefined;
  error?: OAuthErrorJSON | undefined;
  /** What the last logout revoked at the server and what not, with why (see `LogoutResult`). */
  loggedOut?: LogoutResult | undefined;
  /** Extra parameters of the renewal under way, from the REFRESH that started it; only while `refreshing`. */
  refreshParams?: Record<string, string> | undefined;
  /** The authorization request waiting for its callback (redirect grants). */
  pending?: PendingAuthorization | undefined;
  /** The authorization request being made: only while `redirecting` (see `AuthorizationRequest`). */
  request?: AuthorizationRequest | undefined;
  /** The URL the last LOGIN sent the user agent to (redirect grants). */
  authorizationUrl?: string | undefined;
  /** The code being redeemed: only while `exchanging`, never persisted. */
  exchange?:
    | {
        /** The pending authorization's `state` and end: the exchange claims it in storage before sending the code. */
        pending: { state: string; expiresAt: number };
        code: string;
        /** `null`: no challenge was sent, so no verifier is (see `PendingAuthorization.codeVerifier`). */
        codeVerifier: string | null;
        redirectUri: string;
        tokenParams?: Record<string, string>;
        /** With `openid`: what the ID token must carry (OIDC Core §3.1.3.7), from the pending authorization. */
        idToken?: { nonce?: string; issuer?: string };
        /** When the callback was accepted (epoch ms): the code is not sent again past `codeLifetimeMs` from it. */
        receivedAt: number;
        /** Exchanges sent and failed transiently; the first one claimed the pending authorization. */
        attempts?: number;
        /** Epoch ms of the next attempt, while waiting (the backoff, or the server's `Retry-After`). */
        retryAt?: number;
        /** The server asked for a DPoP nonce and the code was sent again with it (once; RFC 9449 §8). */
        dpopNonceRetried?: boolean;
      }
    | undefined;
  /** The device authorization being polled (device grant). */
  device?: DeviceAuthorizationState | undefined;
  login?: LoginRequest | undefined;
  /** The input's RFC 8707 resource: client-credentials requests name it when the LOGIN names none. */
  resource?: string | undefined;
  /** While logging out: the end of the provider's session that the LOGOUT asked for, if any. */
  endSession?: EndSessionRequest | undefined;
  /** LOGIN / CALLBACK received while `restoring`, replayed when it ends. */
  deferred: DeferredEvent[];
}

/** Starts a login. The password grant (legacy) also takes `username` and `password`. */
export interface LoginEvent {
  type: 'LOGIN';
  scopes?: string[];
  extraParams?: Record<string, string>;
  /** Redirect grants: the app's data (JSON), stored with the pending authorization and handed back with the callback's tokens. */
  appState?: unknown;
  /** Redirect grants: where the app goes back to once the callback is handled. */
  returnTo?: string;
  /** Extra parameters of the code exchange this login leads to (authorization code grant): `scope`, `audience`… */
  tokenParams?: Record<string, string>;
  /** RFC 8707 resource indicator (client credentials grant): the resource the tokens are for, remembered for renewals. */
  resource?: string;
  /** Legacy password grant only; never stored in context. */
  username?: string;
  /** Legacy password grant only; never stored in context. */
  password?: string;
}

/**
 * Ends the session: revokes, clears storage. With `endSession`, the user's
 * session at the provider ends too (OpenID Connect RP-Initiated Logout 1.0):
 * the user agent goes to its `end_session_endpoint` afterwards.
 */
export interface LogoutEvent {
  type: 'LOGOUT';
  endSession?: EndSessionRequest;
}

/** What `LOGOUT { endSession }` asks of the provider (RP-Initiated Logout §2). */
export interface EndSessionRequest {
  /** Where the provider sends the user back; registered with it. Absolute. */
  postLogoutRedirectUri?: string;
}

/** The redirect came back: the full callback URL (query or fragment). */
export interface CallbackEvent {
  type: 'CALLBACK';
  url: string;
}

/** Another tab or process changed the stored session (sent by the browser helper's tab sync). */
export interface SessionChangedEvent {
  type: 'SESSION_CHANGED';
  tokens?: TokenSet;
}

/** The events a caller sends. */
export type GrantEvent =
  | LoginEvent
  | CallbackEvent
  /** Renew now; `tokenParams` are added to this renewal's request (its retries included). */
  | { type: 'REFRESH'; tokenParams?: Record<string, string> }
  | LogoutEvent
  | { type: 'RETRY' }
  | { type: 'CANCEL' }
  | SessionChangedEvent
  | InternalGrantEvent;

/**
 * Events the machines' own actors send back to them; not for callers.
 * `EXPIRY_DUE`: the expiry timer fired. `REFRESH_LOCK_GRANTED`: the refresh
 * holds the storage's lock (at once without one). `REFRESH_LOCK_FAILED`: the
 * lock could not be taken (a Redis lock waits at most `waitMs`).
 */
export type InternalGrantEvent =
  | { type: 'EXPIRY_DUE' }
  | { type: 'POLL_DUE' }
  | { type: 'REFRESH_LOCK_GRANTED' }
  | { type: 'REFRESH_LOCK_FAILED'; error: unknown };

export type DeferredEvent = LoginEvent | CallbackEvent;

/**
 * What a UI and the clients read; state names are for developers.
 * - `ready`: restoring is over; the machine takes `LOGIN`, `CALLBACK`, `LOGOUT`.
 * - `busy`: a request (or the library's own wait) is under way.
 * - `signedIn`: tokens are held: usable now, or being renewed.
 * - `renewing`: a renewal is under way; a demand for an expired token waits until it is over.
 * - `awaitingCallback`: a redirect grant's authorization request is out (`context.authorizationUrl`).
 * - `awaitingUser`: the device grant shows its user code (`context.device`).
 * - `error`: the machine waits for `RETRY`, `LOGIN` or `CANCEL`; `context.error` says why.
 */
export type GrantTag = 'busy' | 'signedIn' | 'renewing' | 'awaitingCallback' | 'awaitingUser' | 'error' | 'ready';

/** The runtime dependencies of a machine: where the provider is, who the client is, the services, the options. */
export interface GrantRuntime {
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  options: ResolvedGrantOptions;
  /** The session's DPoP key and nonces (RFC 9449), with `options.dpop`. */
  dpop?: DpopSession;
}

/**
 * Where a context (and the input of each actor it invokes) holds its
 * {@link GrantRuntime}. A symbol-keyed property is copied by `assign` (an
 * object spread) but skipped by `JSON.stringify`, `for…in` and `Object.keys`,
 * so the services, the provider and the client (its secret included) are
 * never persisted nor sent to an inspector, and nothing has to strip them out.
 * Not `machine.provide(...)`: it rebuilds the machine's state-node tree, about
 * 0.2 ms per actor, more CPU than a whole code exchange; and guards, which
 * read the clock and the options, get no `self` or `system` to find them by.
 */
export const RUNTIME: unique symbol = Symbol('oauth-machines runtime');

/** What {@link RUNTIME} holds: the runtime, whose provider is only known once discovered. */
export interface RuntimeSlot extends Omit<GrantRuntime, 'provider'> {
  provider: ProviderConfig | undefined;
  /** The provider to discover, until the machine's `discovering` state has. */
  discover?: DiscoverableProvider | undefined;
}

/** A context, or an invoked actor's input: data, plus the runtime under {@link RUNTIME}. */
export interface WithRuntime {
  readonly [RUNTIME]: RuntimeSlot;
}

/**
 * The runtime a context or an actor's input carries. Throws before the
 * provider is discovered: the chart asks for it only after `discovering`.
 */
export function runtimeOf(holder: WithRuntime): GrantRuntime {
  const slot = holder[RUNTIME];
  if (slot.provider === undefined) throw new TypeError('the provider is not discovered yet');
  return slot as GrantRuntime;
}

/** An invoked actor's input: `data`, plus the runtime of the context that invokes it. */
export function withRuntime<T extends object>(context: WithRuntime, data: T): T & WithRuntime {
  return { ...data, [RUNTIME]: context[RUNTIME] };
}

/** The scopes of the current login: the LOGIN event's, else the client's. */
export function requestedScopes(context: GrantContext): string[] | undefined {
  return context.login?.scopes ?? context[RUNTIME].client.scopes;
}

/** A token a logout holds: the refresh token, the access token. */
export type RevocableToken = 'refresh_token' | 'access_token';

/** A token a logout could not revoke, and why: it may still be valid at the server. */
export interface NotRevoked {
  token: RevocableToken;
  /**
   * - `no_revocation_endpoint`: the provider names none (none configured, or discovery did not advertise one);
   * - `refused`: the server answered with an error (a 4xx: a public client it will not serve, say), in `error`;
   * - `failed`: the request failed on the way or the server failed (network, timeout, 5xx), in `error`;
   * - `not_attempted`: an earlier revocation's server asked to wait (`Retry-After`), so none was sent.
   */
  reason: 'no_revocation_endpoint' | 'refused' | 'failed' | 'not_attempted';
  error?: OAuthErrorJSON;
}

/**
 * What a logout did at the server (RFC 7009): the tokens it revoked and those it did not, with why,
 * so an app can warn the user or ask its backend to revoke. The session is ended locally either way.
 */
export interface LogoutResult {
  revoked: RevocableToken[];
  notRevoked: NotRevoked[];
  /** With `LOGOUT { endSession }`: where the user agent was sent to end the session at the provider. */
  endSessionUrl?: string;
}
