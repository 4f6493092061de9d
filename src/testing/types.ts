/**
 * The public types of the test authorization server. Written independently of
 * `src/protocol` on purpose: the fake must not share a line with the client
 * it checks.
 */

/** How a registered client authenticates at the token endpoint (RFC 6749 §2.3). */
export type TestClientAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

/** The grant types the test server knows (RFC 6749, RFC 8628). */
export type TestGrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:device_code'
  | 'password';

/** A client registered with the test server. */
export interface TestClient {
  clientId: string;
  /** Required for `client_secret_post` and `client_secret_basic`. */
  clientSecret?: string;
  authMethod: TestClientAuthMethod;
  /** Matched by exact string equality (RFC 9700 §4.1.3). */
  redirectUris: string[];
  /** The grants this client may use; `refresh_token` must be listed for refresh tokens to be issued. */
  grants: TestGrantType[];
  /** The scopes this client may request. */
  scopes: string[];
  /** Require PKCE in authorization requests. Default `true` (OAuth 2.1 §4.1.1). */
  pkceRequired?: boolean;
  /** Where the end-session endpoint may send the user back to (OpenID Connect RP-Initiated Logout §3), by exact string equality. */
  postLogoutRedirectUris?: string[];
}

/** The end user the server signs in (auto-approval, device approval, password grant). */
export interface TestUser {
  sub: string;
  /** Extra claims returned by userinfo and put in ID tokens (`email`, `name`, …). */
  claims?: Record<string, unknown>;
  /** Password-grant credentials (legacy); `username` defaults to `sub`. */
  username?: string;
  password?: string;
}

/** Behaviour of real providers the server can imitate (see the profiles in `src/providers/profiles.ts`). */
export interface TestServerQuirks {
  /** Accept `application/json` token requests as well as form bodies (a JSON token endpoint server). */
  jsonTokenRequests?: boolean;
  /** Announce and require S256 under this name instead of `S256` (e.g. `'SHA-256'`). */
  pkceMethodName?: string;
  /**
   * `'api_key'`: answer token requests with `{ api_key, api_key_expires_in }` (as Poe does).
   * `'slack'`: as Slack's `oauth.v2.access`: `ok: true`, the bot token (for `scope`) at the
   * top with `token_type: 'bot'`, and the user token (for the authorization request's
   * `user_scope`) nested in `authed_user` with `token_type: 'user'`; each with its own
   * `refresh_token` and `expires_in` when refresh tokens are issued (Slack's token rotation),
   * and with the `incoming-webhook` scope an `incoming_webhook` whose `url` is a secret.
   */
  tokenResponseShape?: 'standard' | 'api_key' | 'slack';
  /** Seconds until an api_key expires, `null` = never (as at Poe). Default `null`. */
  apiKeyExpiresIn?: number | null;
  /** Reject HTTP Basic client authentication with `invalid_client` (as Path of Exile does). */
  clientSecretPostOnly?: boolean;
  /** Back-channel requests whose `User-Agent` does not match fail with `invalid_request` (as at Path of Exile). */
  userAgentPattern?: RegExp;
  /**
   * Scopes (exact, or a prefix ending in `*`) that only the listed grants may
   * obtain (Path of Exile: `{ 'service:*': ['client_credentials'] }`); through any
   * other grant they fail with `invalid_scope`.
   */
  grantOnlyScopes?: Record<string, string[]>;
  /** Serve `GET /v1/oauth/token/info` (a non-standard token-info endpoint). */
  tokenInfo?: boolean;
  /**
   * How an S256 challenge must be encoded: `'base64url'` (default, RFC 7636 §4.2) or padded standard
   * `'base64'` (`btoa(sha256(verifier))`, as some JSON token endpoint servers' samples compute it);
   * a challenge in the other encoding is refused as malformed, a verifier checked against this one.
   */
  pkceChallengeEncoding?: 'base64url' | 'base64';
  /**
   * Answer token requests `application/x-www-form-urlencoded`: unless the request's
   * `Accept` names `application/json` (GitHub), or `'always'`.
   */
  formEncodedTokenResponses?: 'unless-accept-json' | 'always';
  /** Answer token endpoint errors with HTTP 200 and the error body (GitHub; Slack adds `ok: false`). */
  tokenErrorsWithStatus200?: boolean;
  /** Access tokens that never expire: no `expires_in` (GitHub OAuth apps, GitHub Apps without expiring user tokens). */
  nonExpiringAccessTokens?: boolean;
  /** Scopes separated by commas in token responses, and accepted so in requests besides spaces (GitHub, Slack). */
  scopeDelimiter?: ',';
  /** Serve only the OpenID Connect discovery document: the RFC 8414 one answers 404 (Google, Auth0, Keycloak). */
  openidDiscoveryOnly?: boolean;
  /**
   * Google's offline access: a refresh token only for an authorization request with
   * `access_type=offline`, and then only at a user's first consent to the client,
   * unless the request has `prompt=consent`.
   */
  offlineAccessType?: boolean;
  /**
   * Auth0's APIs: the identifiers an `audience` parameter may name (authorization and
   * token requests). An unknown one is refused, and client credentials without one are
   * refused `access_denied` with 403. The audience of each token request is in the log.
   */
  audiences?: string[];
  /** Microsoft Entra ID: client credentials may only ask for `{resource}/.default` scopes (else `invalid_scope`). */
  defaultScopeForClientCredentials?: boolean;
  /**
   * Microsoft Entra ID's `common` authority: the metadata's `issuer` is the issuer with its
   * first path segment replaced by `{tenantid}`, ID tokens carry `tid` and name the
   * tenant's own issuer (that segment replaced by `tenantId`), and authorization
   * responses carry no `iss`.
   */
  tenantIssuer?: { tenantId: string };
  /**
   * Serve the endpoints under this path of the issuer's origin instead of under the
   * issuer's own path (Microsoft Entra ID: issuer `/common/v2.0`, endpoints
   * `/common/oauth2/v2.0/…`).
   */
  endpointBasePath?: string;
  /** The issuer is advertised with a trailing `/` (Auth0): in the metadata, ID tokens and `iss`. */
  issuerTrailingSlash?: boolean;
  /**
   * Answer the OAuth errors of the token, revocation and introspection endpoints with their status and
   * no body at all (a refused or spent refresh token: an empty `400`; bad client credentials: an empty
   * `401`), as Glewlwyd and Django OAuth Toolkit do for some refusals.
   */
  bodilessErrors?: boolean;
  /** Serve revocation (`paths.revoke`) without naming it in the metadata, as Django OAuth Toolkit does. */
  unadvertisedRevocation?: boolean;
  /** Refuse revocation from a client that does not authenticate (a public client) with `invalid_client`, as Glewlwyd does. */
  revocationRequiresClientAuthentication?: boolean;
}

/** The endpoints a test can address (fault injection, log, paths). */
export type TestEndpoint =
  | 'authorize'
  | 'token'
  | 'revoke'
  | 'introspect'
  | 'userinfo'
  | 'device_authorization'
  | 'metadata'
  | 'token_info'
  | 'end_session';

/**
 * A controllable clock: expiry follows it, never real time. It is a clock service too: pass
 * `server.clock` as the client's `services.clock` and one `advance()` moves both.
 */
export interface TestClock {
  now(): number;
  /** Calls `fn` once the clock reaches `now() + ms`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
  /** Moves the clock forward by `ms` milliseconds, firing the timers due on the way. */
  advance(ms: number): void;
  /** Sets the clock to an absolute time (epoch ms). */
  set(epochMs: number): void;
  /** How many timers wait to fire. */
  pendingTimers(): number;
}

/** What the server's time may come from: a manual clock it shares, or a time source it reads. */
export type TestClockSource = TestClock | { now(): number; setTimeout?(fn: () => void, ms: number): () => void };

export interface TestAuthorizationServerOptions {
  /** The in-memory face's issuer. Default `https://auth.test`. May have a path (`https://auth.test/tenant`). */
  issuer?: string;
  clients?: TestClient[];
  /** Default `{ sub: 'test-user' }`. */
  user?: TestUser;
  /**
   * The server's time. A manual clock is shared (`server.clock` is it); a plain time source is read,
   * and `server.clock.advance()` adds to it. Default: a manual clock starting at `Date.now()`.
   */
  clock?: TestClockSource;
  /** Seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Seconds. Default 30 days. */
  refreshTokenTtl?: number;
  /** Seconds an authorization code lives. Default 60. */
  codeTtl?: number;
  /** Seconds a device code lives (RFC 8628 §3.2 `expires_in`). Default 600. */
  deviceCodeTtl?: number;
  /** Seconds between device polls (RFC 8628 §3.2 `interval`). Default 5. */
  deviceInterval?: number;
  /** Rotate refresh tokens on use, with reuse detection. Default `true`. */
  rotateRefreshTokens?: boolean;
  /**
   * When refresh tokens are issued (only ever to clients registered for the
   * `refresh_token` grant, never for client credentials): `'offline_access'`
   * (default) when that scope was granted, `'always'`, or `'never'`.
   */
  refreshTokens?: 'offline_access' | 'always' | 'never';
  /** Accept PKCE `plain` (RFC 7636 §4.2). Default `false` (RFC 9700 §2.1.1). */
  allowPlainPkce?: boolean;
  /** Enable the legacy password grant (RFC 6749 §4.3, removed by OAuth 2.1). Default `false`. */
  passwordGrant?: boolean;
  /**
   * ID token signing, for tests only (never a real signature scheme to trust):
   * `'none'` (default, unsigned) or `'HS256'` keyed with `idTokenKey`, else the
   * client secret, else `'test-id-token-key'`.
   */
  idTokenAlg?: 'none' | 'HS256';
  idTokenKey?: string;
  /**
   * Override endpoint paths (relative to the issuer), or `null` to switch an endpoint off.
   * `end_session` (OpenID Connect RP-Initiated Logout) is off unless given a path.
   */
  paths?: Partial<Record<Exclude<TestEndpoint, 'metadata'>, string | null>>;
  quirks?: TestServerQuirks;
  /** Keep secrets (client secrets, codes, verifiers, tokens, passwords) in `server.log`. Default `false`. */
  logSecrets?: boolean;
}

/** What `server.fail` injects into the next request(s) to an endpoint. */
export type TestFault =
  /** An answer with this status; `headers` adds response headers (e.g. `Retry-After` with a 429 or 503). */
  | { status: number; body?: string | Record<string, unknown> | unknown[]; headers?: Record<string, string> }
  | { oauthError: string; status?: number; description?: string }
  | { delayMs: number }
  | { drop: true }
  | { notJson: true; status?: number }
  | { wrongShape: true };

/** One request as the server saw it. */
export interface TestLogEntry {
  /** Server clock time of the request (epoch ms). */
  at: number;
  endpoint: TestEndpoint | 'other';
  method: string;
  grantType?: string;
  clientId?: string;
  /** Query (GET) or body parameters; secrets replaced by `'[redacted]'` unless `logSecrets`. */
  params: Record<string, string>;
  /** The headers a test may want to check: `authorization` (redacted), `user-agent`, `content-type`, `origin`. */
  headers: Record<string, string>;
  /** The response status; `0` when the connection was dropped. */
  status: number;
  /** The OAuth error code the server answered with, if any. */
  error?: string;
  /** The injected fault that decided this response, if any. */
  fault?: string;
}

/** A token the server issued, as `server.issuedTokens()` lists it. */
export interface IssuedToken {
  token: string;
  kind: 'access_token' | 'refresh_token';
  clientId: string;
  sub?: string;
  scopes: string[];
  grantType: string;
  issuedAt: number;
  /** `null` = never expires. */
  expiresAt: number | null;
  revoked: boolean;
  /** A rotated refresh token was replaced by a newer one; presenting it again is reuse. */
  rotated: boolean;
  active: boolean;
}

/** The next authorization decision (`server.nextAuthorization`). */
export interface AuthorizationDecision {
  /** Deny: redirect with `access_denied`. */
  deny?: boolean;
  /** Redirect with this error code (`server_error`, `temporarily_unavailable`, `login_required`…). */
  error?: string;
  errorDescription?: string;
  /** Sign in this user instead of the default one. */
  user?: TestUser;
}

export interface ListeningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The issuer on this face: `url` plus the configured issuer's path. */
  issuer: string;
  close(): Promise<void>;
}

/** A fetch-compatible function (the `fetch` service of the library). */
export type TestFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
