/**
 * The authorization response at the redirect URI (RFC 6749 §4.1.2, RFC 9207).
 */
import { OAuthError } from '../errors.js';
import { serverError } from './serverError.js';

/** A parsed authorization response: a code, or the server's error. */
export type CallbackResult =
  | { type: 'success'; code: string; state?: string; iss?: string; params: Record<string, string> }
  | {
      type: 'error';
      error: string;
      errorDescription?: string;
      errorUri?: string;
      state?: string;
      iss?: string;
      params: Record<string, string>;
    };

/** What the pending authorization request expects of its response. */
export interface CallbackExpectation {
  state: string;
  /** The provider's issuer identifier, compared with `iss` (RFC 9207 §2.4). */
  issuer?: string;
  /** The server advertises `authorization_response_iss_parameter_supported`: a response without `iss` is rejected. */
  issRequired: boolean;
}

// RFC 6749 §3.1: request and response parameters MUST NOT be included more than once.
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'] as const;

function invalidCallback(description: string): OAuthError {
  return new OAuthError('invalid_callback', { description, retryable: false });
}

function responseParams(url: URL): URLSearchParams {
  const query = url.searchParams;
  if (query.has('code') || query.has('error')) return query;
  // response_mode=fragment: the parameters arrive after `#` (OAuth 2.0 Multiple Response Types §5).
  return new URLSearchParams(url.hash.startsWith('#') ? url.hash.slice(1) : url.hash);
}

/**
 * Reads the authorization response from the callback URL: from the query, or
 * from the fragment when the query has neither `code` nor `error`. Throws
 * `OAuthError('invalid_callback')` for a URL that is no authorization response,
 * a duplicated response parameter, or both a code and an error.
 */
export function parseCallback(url: string | URL): CallbackResult {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidCallback('the callback is not an absolute URL');
  }
  const search = responseParams(parsed);
  for (const name of RESPONSE_PARAMS) {
    if (search.getAll(name).length > 1) throw invalidCallback(`parameter ${name} appears more than once`);
  }
  const params: Record<string, string> = {};
  for (const [name, value] of search) {
    if (!Object.hasOwn(params, name)) params[name] = value;
  }
  const code = search.get('code');
  const error = search.get('error');
  const state = search.get('state');
  const iss = search.get('iss');
  const common: { state?: string; iss?: string } = {};
  if (state !== null) common.state = state;
  if (iss !== null) common.iss = iss;

  if (error !== null) {
    if (code !== null) throw invalidCallback('the callback has both code and error');
    if (error === '') throw invalidCallback('the callback has an empty error');
    const result: CallbackResult = { type: 'error', error, ...common, params };
    const description = search.get('error_description');
    const uri = search.get('error_uri');
    if (description !== null) result.errorDescription = description;
    if (uri !== null) result.errorUri = uri;
    return result;
  }
  if (code === null) throw invalidCallback('the callback has neither code nor error');
  if (code === '') throw invalidCallback('the callback has an empty code');
  return { type: 'success', code, ...common, params };
}

/** Compares two strings in time that depends on their length only, not on where they differ. */
function timingSafeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let difference = a.length ^ b.length;
  for (let i = 0; i < length; i++) difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return difference === 0;
}

/**
 * Accepts a parsed callback for the pending request, returning its `code`.
 * Checks come in an order that lets no forged response through: `state` first
 * (RFC 6749 §10.12, also for error responses), then `iss` (RFC 9207 §2.4: a
 * present `iss` must equal the issuer, a missing one is rejected when the
 * server sends it), then the server's own error (through `serverError`: a
 * code outside RFC 6749's charset is `invalid_response`).
 */
export function checkCallback(result: CallbackResult, expected: CallbackExpectation): { code: string } {
  if (typeof expected.state !== 'string' || expected.state === '') {
    throw new TypeError('checkCallback: the expected state must be a non-empty string');
  }
  if (expected.issRequired && expected.issuer === undefined) {
    throw new TypeError('checkCallback: issRequired needs the expected issuer');
  }
  if (result.state === undefined || !timingSafeEqual(result.state, expected.state)) {
    throw new OAuthError('state_mismatch', {
      description: result.state === undefined ? 'the callback has no state' : 'the callback state does not match',
      retryable: false,
    });
  }
  if (result.iss !== undefined && expected.issuer !== undefined && result.iss !== expected.issuer) {
    throw new OAuthError('iss_mismatch', { description: 'the callback iss is not the expected issuer', retryable: false });
  }
  if (result.iss === undefined && expected.issRequired) {
    throw new OAuthError('iss_mismatch', { description: 'the callback has no iss, which this server sends', retryable: false });
  }
  if (result.type === 'error') {
    throw serverError(
      { error: result.error, error_description: result.errorDescription, error_uri: result.errorUri },
      { cause: result.params },
    );
  }
  return { code: result.code };
}
