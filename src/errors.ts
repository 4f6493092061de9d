/**
 * The one error type of the library: every failure a caller can see — a
 * server's OAuth error, a malformed response, a network failure, a forged
 * callback — is an `OAuthError` with a `code`.
 */

/** RFC 6749 §4.1.2.1 / §5.2, RFC 8628 §3.5, RFC 6750 §3.1 and OIDC error codes. */
export type ServerErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required';

/** Codes the library itself raises. */
export type LibraryErrorCode =
  | 'invalid_response'
  | 'network_error'
  | 'timeout'
  | 'aborted'
  | 'state_mismatch'
  | 'iss_mismatch'
  | 'nonce_mismatch'
  /** An ID token's claims fail OIDC Core §3.1.3.7 (issuer, audience, expiry…). */
  | 'invalid_id_token'
  | 'pending_expired'
  /** RFC 9126 §2.2: a pushed authorization request's `request_uri` expired before the user agent was sent with it. */
  | 'request_uri_expired'
  /** `loginPopup()`: the browser did not open the login window (no click, or a popup blocker). */
  | 'popup_blocked'
  /** `loginPopup()`: the user closed the login window before the provider answered. */
  | 'popup_closed'
  | 'pending_missing'
  | 'invalid_callback'
  | 'issuer_mismatch'
  | 'insecure_endpoint'
  /** A provider answered with a redirect (3xx, or a browser's opaque redirect), which the library never follows. */
  | 'unexpected_redirect'
  | 'storage_error'
  | 'storage_quota_exceeded'
  | 'invalid_snapshot'
  | 'unsupported_operation'
  /**
   * Refused by the library before anything was sent: the configuration or the call breaks a rule of the
   * provider's profile or of the library (a missing User-Agent the provider requires, a client
   * authentication method it does not accept, a parameter the library sets, a scope or PKCE method the
   * profile forbids). Never the server's answer: no `status`, never retryable.
   */
  | 'configuration_error';

/** Any code; servers may send codes outside the registries, which are kept as sent. */
export type OAuthErrorCode = ServerErrorCode | LibraryErrorCode | (string & {});

/** The plain-data form of an `OAuthError`, as kept in machine context and snapshots. */
export interface OAuthErrorJSON {
  name: 'OAuthError';
  code: OAuthErrorCode;
  description?: string;
  uri?: string;
  status?: number;
  retryable: boolean;
  /** `WWW-Authenticate` header of the response, when it had one (RFC 6750 §3). */
  wwwAuthenticate?: string;
  /** How long the server asked the client to wait before trying again (`Retry-After`, RFC 9110 §10.2.3), in ms. */
  retryAfterMs?: number;
}

export interface OAuthErrorOptions {
  description?: string | undefined;
  uri?: string | undefined;
  status?: number | undefined;
  retryable?: boolean | undefined;
  wwwAuthenticate?: string | undefined;
  /** The server's `Retry-After`, in ms from when the response arrived; kept only if a finite number ≥ 0. */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'server_error',
  'temporarily_unavailable',
  'network_error',
  'timeout',
]);

/**
 * Whether a failure is worth trying again unchanged: `server_error` and
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1), HTTP 429 and 5xx, network
 * failures and timeouts.
 */
export function isRetryable(code: string, status?: number): boolean {
  if (RETRYABLE_CODES.has(code)) return true;
  if (status === undefined) return false;
  return status === 429 || (status >= 500 && status <= 599);
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError' as const;
  readonly code: OAuthErrorCode;
  readonly description: string | undefined;
  readonly uri: string | undefined;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly wwwAuthenticate: string | undefined;
  /**
   * How long the server asked to be left alone before a retry, in milliseconds
   * (its `Retry-After`, RFC 9110 §10.2.3), as sent: a caller caps it to its own policy.
   */
  readonly retryAfterMs: number | undefined;

  constructor(code: OAuthErrorCode, options: OAuthErrorOptions = {}) {
    super(
      options.description ? `${code}: ${options.description}` : code,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.description = options.description;
    this.uri = options.uri;
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryable(code, options.status);
    this.wwwAuthenticate = options.wwwAuthenticate;
    const { retryAfterMs } = options;
    // A delay is a finite duration, never negative; anything else is no delay at all.
    this.retryAfterMs = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? retryAfterMs : undefined;
  }

  /** Plain data, safe for machine context, snapshots and logs (no `cause`, no stack). */
  toJSON(): OAuthErrorJSON {
    const json: OAuthErrorJSON = { name: 'OAuthError', code: this.code, retryable: this.retryable };
    if (this.description !== undefined) json.description = this.description;
    if (this.uri !== undefined) json.uri = this.uri;
    if (this.status !== undefined) json.status = this.status;
    if (this.wwwAuthenticate !== undefined) json.wwwAuthenticate = this.wwwAuthenticate;
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    return json;
  }

  /** Rebuilds an error from its plain-data form (for example from a machine's context). */
  static fromJSON(json: OAuthErrorJSON): OAuthError {
    return new OAuthError(json.code, json);
  }

  /**
   * Turns anything thrown into an `OAuthError`: an `OAuthError` passes through,
   * an abort or timeout `DOMException` keeps its meaning, anything else becomes
   * `fallbackCode` with the original as `cause`.
   */
  static from(thrown: unknown, fallbackCode: OAuthErrorCode = 'network_error'): OAuthError {
    if (thrown instanceof OAuthError) return thrown;
    const name = typeof thrown === 'object' && thrown !== null && 'name' in thrown ? String(thrown.name) : '';
    if (name === 'TimeoutError') return new OAuthError('timeout', { description: 'The request timed out', cause: thrown });
    if (name === 'AbortError') return new OAuthError('aborted', { description: 'The request was aborted', cause: thrown, retryable: false });
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return new OAuthError(fallbackCode, { description: message, cause: thrown });
  }
}

/** Whether a value is an `OAuthError` (also across realms and bundles, by shape). */
export function isOAuthError(value: unknown): value is OAuthError {
  return (
    value instanceof OAuthError ||
    (value instanceof Error && value.name === 'OAuthError' && typeof (value as { code?: unknown }).code === 'string')
  );
}
