/**
 * The promise API of `createOAuthClient`: what every grant's façade offers.
 */
import type { LogoutResult } from '../../machines/types.js';
import type { LogoutOptions } from './core.js';

export type { LogoutResult, NotRevoked, RevocableToken } from '../../machines/types.js';
import type { TokenInfo } from '../protocol/tokenInfo.js';
import type { TokenSet } from '../protocol/types.js';
import type { ProviderConfig } from '../protocol/types.js';
import type { OAuthGrant } from './config.js';
import type { GrantActor, GrantSnapshot } from './core.js';

/** Options of `login()`: more scopes or extra authorization parameters for this login only. */
export interface LoginOptions {
  scopes?: string[];
  /** Extra authorization request parameters (`prompt`, `login_hint`, …); they cannot override the security ones. */
  extraParams?: Record<string, string>;
  /**
   * Extra parameters of this login's code exchange at the token endpoint (`scope` for a server that
   * wants it there, `audience`…), kept with the pending authorization across the redirect; one the
   * library sets is refused with `configuration_error` before the user leaves.
   */
  tokenParams?: Record<string, string>;
  /**
   * The authorization code grant: the app's own data (JSON, at most 16 KiB
   * serialised), kept with the pending authorization — in storage, never sent
   * to the provider — and handed back by `handleCallback()` as `appState`.
   */
  appState?: unknown;
}

/** What `handleCallback()` resolves with: the tokens, and what `login()` gave to carry through the redirect. */
export interface CallbackTokens extends TokenSet {
  /** `login({ appState })`'s data, as JSON gave it back. */
  readonly appState?: unknown;
  /** `login({ returnTo })` (the browser helper): where it went once the callback was handled. */
  readonly returnTo?: string;
}

/** What `login()` of a device-code client gives: what to show the user, and the tokens to come (RFC 8628 §3.2–3.3). */
export interface DeviceLogin {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch ms after which the device code is no longer accepted. */
  expiresAt: number;
  /** Seconds between two polls. */
  interval: number;
  /**
   * Resolves with the tokens once the user approved; rejects with the typed
   * error (`access_denied`, `expired_token`, `aborted` when cancelled). Never
   * an unhandled rejection when ignored.
   */
  tokens: Promise<TokenSet>;
}

/** What `login()` resolves with, per grant. */
export type LoginResult<G extends OAuthGrant> = G extends 'authorization_code'
  ? string
  : G extends 'client_credentials'
    ? TokenSet
    : DeviceLogin;

/** Options of `refresh()`. */
export interface RefreshOptions {
  /**
   * Renew only while the held access token is this one (the one an API just
   * refused): many callers reporting the same token cause one renewal.
   */
  accessToken?: string;
  /**
   * Extra parameters of this renewal's refresh-token request (`audience`, …). A renewal already
   * under way is joined with its own. A name the library sets rejects with `configuration_error`,
   * and nothing is sent.
   */
  tokenParams?: Record<string, string>;
}

/** The promise API over one grant machine. Every rejection is an `OAuthError`. */
export interface OAuthClient<G extends OAuthGrant = OAuthGrant> {
  /** The grant this client drives. */
  readonly grant: G;
  /**
   * Resolves once discovery (when the provider was given as `{ issuer }`) and
   * the restore of the persisted session are done; rejects with the typed
   * error when discovery fails. Every method waits for it, so awaiting it is
   * only needed to read `actor` or `provider` right after discovery.
   */
  readonly ready: Promise<void>;
  /**
   * The XState actor itself (for `@xstate/react`, the inspector, events by hand).
   * With a full `ProviderConfig` it exists from the start; with `{ issuer }`
   * it is created when discovery is done, and reading it before `ready`
   * resolved throws an `Error`.
   */
  readonly actor: GrantActor<G>;
  /** The provider configuration in use (after discovery); throws before `ready` like `actor`. */
  readonly provider: ProviderConfig;
  /** The actor's current snapshot; `undefined` until it exists (discovery). */
  getSnapshot(): GrantSnapshot<G> | undefined;
  /**
   * Starts a login.
   * - `authorization_code`: creates state and PKCE, asks `services.navigate`
   *   to go, resolves with the authorization URL.
   * - `client_credentials`: resolves with the tokens (the current ones when signed in).
   * - `device_code`: resolves with the user code to show and a `tokens` promise.
   */
  login(options?: LoginOptions): Promise<LoginResult<G>>;
  /**
   * `authorization_code` only: hands the callback URL to the machine (works in
   * a fresh client on the callback page: the pending authorization is restored
   * from storage). Resolves with the tokens; rejects with `state_mismatch`,
   * `access_denied`, `pending_expired`, `iss_mismatch`, `pending_missing`, …
   */
  handleCallback(url: string): Promise<CallbackTokens>;
  /**
   * A usable access token: the current one when it is valid beyond the
   * refresh skew (no I/O), else after one refresh shared by every concurrent
   * caller. `client_credentials` logs in on demand; the other grants reject
   * with `login_required` when there is no session.
   */
  getAccessToken(): Promise<string>;
  /** The current tokens when signed in, else `undefined`. */
  getTokens(): Promise<TokenSet | undefined>;
  /**
   * Renews the tokens now, e.g. after an API answered 401 (the REFRESH is sent
   * before this returns, so later `getAccessToken` callers wait for the new
   * token instead of getting the refused one); a renewal under way is joined.
   * Resolves with the tokens held once it is over (`undefined` without a
   * session); rejects with the renewal's failure.
   */
  refresh(options?: RefreshOptions): Promise<TokenSet | undefined>;
  /** The userinfo endpoint's claims for the current access token (OpenID Connect Core §5.3). */
  userinfo(): Promise<Record<string, unknown>>;
  /**
   * `fetch` to a resource server with `Authorization: Bearer` and the current
   * access token (RFC 6750 §2.1). On a 401 whose `WWW-Authenticate` says
   * `error="invalid_token"` the session renews once (one `REFRESH`, shared by
   * every caller that was refused the same token) and the request is sent
   * once more; never a third time. A renewal that fails rejects with its
   * typed error (`login_required` once the session is over). A request that
   * already has an `Authorization` header is refused with a `TypeError`.
   */
  authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * What the provider's token-info endpoint (`provider.tokenInfoEndpoint`, a non-standard `GET`)
   * says about the current access token, typed: `expiresAt` in epoch ms (from its `expires_at`),
   * `clientId`, `userId`, `scopes`, and the body as `raw`. Rejects with `unsupported_operation`
   * when the provider has no such endpoint.
   */
  tokenInfo(): Promise<TokenInfo>;
  /**
   * Ends the session: revokes where the provider allows (RFC 7009: the refresh token, then the access
   * token), clears storage, and resolves when signed out with what was revoked and what was not, and why
   * (`no_revocation_endpoint`, `refused`, `failed`, `not_attempted`), so an app can warn the user or ask
   * its backend to revoke. Cancels a pending login. A failed revocation does not fail the logout.
   */
  logout(options?: LogoutOptions): Promise<LogoutResult>;
  /**
   * Calls `listener` with every snapshot of the actor (from its first one, even
   * when subscribed before discovery finished); returns the unsubscribe. A
   * listener that throws does not stop the others: its error is rethrown
   * asynchronously, as XState reports observer errors.
   */
  subscribe(listener: (snapshot: GrantSnapshot<G>) => void): () => void;
  /** Stops the actor (aborting requests under way); pending calls reject with `aborted`. */
  stop(): void;
}
