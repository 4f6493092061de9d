/**
 * ID token claims validation (OpenID Connect Core §3.1.3.7) for ID tokens
 * received directly from the token endpoint.
 *
 * The signature is not verified. OIDC Core §3.1.3.7 item 6: "If the ID Token
 * is received via direct communication between the Client and the Token
 * Endpoint (which it is in this flow), the TLS server validation MAY be used
 * to validate the issuer in place of checking the token signature." Every
 * endpoint is HTTPS unless the provider config explicitly allows otherwise
 * (`allowInsecureRequests`, loopback), so the token endpoint's TLS identity
 * stands in for the signature. Do not use these functions on an ID token
 * that arrived any other way (a front-channel `id_token` response, a token
 * handed over by another party): those need a signature check.
 */
import { base64urlDecode } from './base64url.js';
import { OAuthError } from '../errors.js';
import { isRecord } from './validators.js';

/** The claims of an ID token after {@link checkIdTokenClaims} (OIDC Core §2); other claims are kept as sent. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  azp?: string;
  auth_time?: number;
  [claim: string]: unknown;
}

/** What an ID token must match: see {@link checkIdTokenClaims}. */
export interface IdTokenExpectation {
  /**
   * The issuer `iss` must equal exactly (OIDC Core §3.1.3.7 item 2). `undefined`
   * skips the check, for a provider configured without an issuer: say so
   * explicitly, it is never skipped by omission.
   */
  issuer: string | undefined;
  /** The client id `aud` must contain (item 3) and `azp` must equal (items 4–5). */
  clientId: string;
  /** The nonce sent in the authorization request (item 11); when given, the token must carry exactly it. */
  nonce?: string | undefined;
  /** The current time, epoch ms (the clock service's `now()`). */
  now: number;
  /** Allowed clock skew for `exp`, `nbf` and `auth_time`, in seconds. Default 60. */
  clockToleranceSec?: number | undefined;
  /** The `max_age` sent in the authorization request, in seconds: `auth_time` is then required and checked (item 12). */
  maxAgeSec?: number | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_response', { description, cause, retryable: false });
}

function invalid(description: string): OAuthError {
  return new OAuthError('invalid_id_token', { description, retryable: false });
}

function decodeJsonPart(part: string, name: 'header' | 'payload'): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(base64urlDecode(part));
  } catch (thrown) {
    throw malformed(`the ID token's ${name} is not base64url-encoded UTF-8`, thrown);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (thrown) {
    throw malformed(`the ID token's ${name} is not JSON`, thrown);
  }
  // RFC 7519 §7.2 step 10 / RFC 7515 §4: both the JOSE header and the claims set are JSON objects.
  if (!isRecord(value)) throw malformed(`the ID token's ${name} is not a JSON object`);
  return value;
}

/**
 * Decodes the claims of a compact-serialised JWS (RFC 7515 §7.1), without
 * verifying its signature. Anything that is not three dot-separated
 * base64url parts whose header and payload are JSON objects throws
 * `OAuthError` `invalid_response`; an encrypted (JWE, five-part) token too.
 */
export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  if (typeof jwt !== 'string' || jwt === '') throw malformed('the ID token is empty');
  const parts = jwt.split('.');
  if (parts.length === 5) throw malformed('the ID token is encrypted (JWE), which is not supported');
  if (parts.length !== 3) throw malformed(`the ID token is not a compact JWS (${parts.length} parts instead of 3)`);
  const [header = '', payload = ''] = parts;
  decodeJsonPart(header, 'header');
  return decodeJsonPart(payload, 'payload');
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/**
 * Checks an ID token's claims against OIDC Core §3.1.3.7 and returns them.
 *
 * - `iss` equals `issuer` exactly (skipped only when `issuer` is `undefined`);
 * - `sub` is a non-empty string (§2);
 * - `aud` is the client id or an array containing it; with several audiences
 *   `azp` is required, and whenever `azp` is present it equals the client id;
 * - `exp` is in the future, `nbf` (if any) in the past, both within `clockToleranceSec`;
 * - `iat` is present and a number;
 * - when `nonce` is given the token carries exactly that nonce — otherwise
 *   `nonce_mismatch`, a missing nonce included;
 * - with `maxAgeSec`, `auth_time` is present and not older than `max_age`.
 *
 * Throws `OAuthError`: `invalid_response` for a token that does not decode,
 * `nonce_mismatch` for the nonce, `invalid_id_token` for every other claim.
 * The signature is NOT verified: this is only sound for an ID token received
 * directly from the token endpoint over TLS (OIDC Core §3.1.3.7 item 6).
 */
export function checkIdTokenClaims(idToken: string, expected: IdTokenExpectation): IdTokenClaims {
  const claims = decodeJwtPayload(idToken);
  const toleranceMs = (expected.clockToleranceSec ?? 60) * 1000;
  const { now, clientId } = expected;

  const { iss, sub, aud, azp, exp, iat, nbf, nonce } = claims;
  if (!isNonEmptyString(iss)) throw invalid('the ID token has no iss claim');
  // Item 2: exact string comparison, no normalisation (a trailing slash is a different issuer).
  if (expected.issuer !== undefined && iss !== expected.issuer) {
    throw invalid(`the ID token was issued by "${iss}", expected "${expected.issuer}"`);
  }
  if (!isNonEmptyString(sub)) throw invalid('the ID token has no sub claim');

  // Item 3: aud contains the client id; it may be one string or an array of strings (RFC 7519 §4.1.3).
  let audiences: string[];
  if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud) && aud.length > 0 && aud.every((entry) => typeof entry === 'string')) audiences = aud as string[];
  else throw invalid('the ID token has no valid aud claim');
  if (!audiences.includes(clientId)) throw invalid(`the ID token's audience does not include the client "${clientId}"`);
  if (azp !== undefined && typeof azp !== 'string') throw invalid('the ID token has an azp claim that is not a string');
  // Item 4: several audiences require an authorized party; item 5: it must be us.
  if (audiences.length > 1 && azp === undefined) throw invalid('the ID token has several audiences but no azp claim');
  if (azp !== undefined && azp !== clientId) throw invalid(`the ID token was issued to the party "${azp}", not to this client`);

  // Item 9: the current time must be before exp (RFC 7519 §4.1.4), allowing for clock skew.
  if (!isNumericDate(exp)) throw invalid('the ID token has no numeric exp claim');
  if (now >= exp * 1000 + toleranceMs) throw invalid('the ID token has expired');
  // Item 10: iat is required; its distance from now is the client's own policy, not checked here.
  if (!isNumericDate(iat)) throw invalid('the ID token has no numeric iat claim');
  // RFC 7519 §4.1.5: not to be accepted before nbf.
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) throw invalid('the ID token has an nbf claim that is not a number');
    if (now + toleranceMs < nbf * 1000) throw invalid('the ID token is not valid yet (nbf)');
  }

  // Item 11: the nonce sent must come back unchanged; its absence is a mismatch too (a replayed or injected token).
  if (expected.nonce !== undefined) {
    if (nonce === undefined) throw new OAuthError('nonce_mismatch', { description: 'the ID token has no nonce, one was sent', retryable: false });
    if (nonce !== expected.nonce) {
      throw new OAuthError('nonce_mismatch', { description: 'the ID token nonce does not match the one sent', retryable: false });
    }
  }
  if (nonce !== undefined && typeof nonce !== 'string') throw invalid('the ID token has a nonce claim that is not a string');

  const authTime = claims.auth_time;
  if (authTime !== undefined && !isNumericDate(authTime)) throw invalid('the ID token has an auth_time claim that is not a number');
  // Item 12: with max_age, auth_time is required and the authentication must be recent enough.
  if (expected.maxAgeSec !== undefined) {
    if (authTime === undefined) throw invalid('the ID token has no auth_time claim, max_age was requested');
    if (now > (authTime + expected.maxAgeSec) * 1000 + toleranceMs) {
      throw invalid('the end-user authenticated longer ago than max_age allows');
    }
  }
  return claims as IdTokenClaims;
}
