/**
 * What every request to a provider carries: the client's authentication, the
 * body encoding, `Accept` and the User-Agent the provider may demand.
 */
import type { FetchLike } from '../services/types.js';
import { applyClientAuth } from './clientAuth.js';
import { resolveEndpoint, type EndpointName } from './endpoints.js';
import { redirectError } from './errorResponse.js';
import { OAuthError } from '../errors.js';
import { configurationError, runtimeSetsUserAgent } from './providerRules.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from './types.js';

/**
 * Headers for the client's User-Agent. Where the runtime can set the header
 * (see `runtimeSetsUserAgent`), throws `OAuthError('configuration_error')` when
 * the provider requires a format (`quirks.userAgentPattern`, as Path of Exile
 * does) and `userAgent` is missing or does not match: the server would refuse
 * the request. In a browser no `User-Agent` is set and the rule is skipped:
 * the browser sends its own whatever the page asks, so the rule cannot be met there.
 */
export function userAgentHeaders(provider: ProviderConfig, userAgent: string | undefined): Record<string, string> {
  if (!runtimeSetsUserAgent()) return {};
  const pattern = provider.quirks?.userAgentPattern;
  if (pattern !== undefined) {
    let expression: RegExp;
    try {
      expression = new RegExp(pattern);
    } catch (thrown) {
      throw configurationError(`quirks.userAgentPattern is not a regular expression: ${pattern}`, thrown);
    }
    if (userAgent === undefined || !expression.test(userAgent)) {
      throw configurationError(
        userAgent === undefined
          ? `the provider requires a User-Agent matching ${pattern}; set client.userAgent`
          : `client.userAgent ${JSON.stringify(userAgent)} does not match the provider's required format ${pattern}`,
      );
    }
  }
  if (userAgent === undefined) return {};
  if (userAgent === '' || /[\r\n]/.test(userAgent)) throw new TypeError('client.userAgent must be a non-empty single line');
  return { 'User-Agent': userAgent };
}

/**
 * An authenticated POST of `params` to one of the provider's endpoints, form
 * encoded (RFC 6749 §4.1.3) or JSON (`encoding: 'json'`, for a server that takes JSON token requests).
 */
export function buildAuthenticatedPost(
  provider: ProviderConfig,
  client: ClientConfig,
  endpoint: EndpointName,
  params: Record<string, string>,
  encoding: 'form' | 'json' = 'form',
): HttpRequest {
  const url = resolveEndpoint(provider, endpoint);
  const headers: Record<string, string> = {
    Accept: 'application/json',
    ...userAgentHeaders(provider, client.userAgent),
  };
  const body: Record<string, string> = { ...params };
  const assertion = applyClientAuth(provider, client, body, headers);
  let request: HttpRequest;
  if (encoding === 'json') {
    headers['Content-Type'] = 'application/json';
    request = { url, init: { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual' } };
  } else {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    request = { url, init: { method: 'POST', headers, body: new URLSearchParams(body).toString(), redirect: 'manual' } };
  }
  if (assertion !== undefined) request.clientAssertion = assertion;
  return request;
}

/** Throws `TypeError` unless `value` is a non-empty string. */
export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** A token named to the revocation or introspection endpoint, with an optional hint of its kind. */
export interface TokenReference {
  token: string;
  tokenTypeHint?: 'access_token' | 'refresh_token' | (string & {});
}

/** RFC 7009 §2.1 and RFC 7662 §2.1 share their parameters: `token` and an optional `token_type_hint`. */
export function tokenReferenceParams(reference: TokenReference): Record<string, string> {
  const params: Record<string, string> = { token: requireString(reference.token, 'token') };
  if (reference.tokenTypeHint !== undefined) params['token_type_hint'] = requireString(reference.tokenTypeHint, 'tokenTypeHint');
  return params;
}

/** Adds extra parameters, refusing (`configuration_error`) any that would replace one the library sets. */
export function addExtraParams(
  params: Record<string, string>,
  extra: Record<string, string> | undefined,
  reserved: readonly string[],
): void {
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (reserved.includes(name) || Object.hasOwn(params, name)) {
      throw configurationError(`extra parameters cannot set ${name}: the library sets it`);
    }
    if (typeof value !== 'string') throw new TypeError(`extraParams.${name} must be a string`);
    params[name] = value;
  }
}

/**
 * The `OAuthError` for a fetch that threw: an aborted `signal` explains the
 * failure better than whatever the fetch implementation threw (`timeout` for
 * a `TimeoutError` reason, else `aborted`); otherwise `OAuthError.from`.
 */
export function transportError(thrown: unknown, signal: AbortSignal | undefined): OAuthError {
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    const name = typeof reason === 'object' && reason !== null && 'name' in reason ? String(reason.name) : '';
    if (name === 'TimeoutError') return OAuthError.from(reason);
    return new OAuthError('aborted', { description: 'The request was aborted', cause: reason ?? thrown, retryable: false });
  }
  return OAuthError.from(thrown);
}

/**
 * Sends a built request: the one place the library calls `fetch`. It never
 * follows a redirect (`redirect: 'manual'`, whatever the request says) and
 * refuses a redirect answer as `unexpected_redirect`, its body unread; a
 * fetch that throws becomes an `OAuthError` (see {@link transportError}). A
 * request still waiting for its client assertion (`HttpRequest.clientAssertion`)
 * is a `TypeError`, never sent.
 */
export async function sendRequest(fetch: FetchLike, request: HttpRequest, signal: AbortSignal | undefined): Promise<Response> {
  if (request.clientAssertion !== undefined) {
    // Sent as it is, the request would carry no credentials: the server would refuse it, or serve it as a public client's.
    throw new TypeError('the request waits for its client assertion: sign it with signClientAssertion before sending');
  }
  const init: RequestInit = { ...request.init, headers: { ...request.init.headers }, redirect: 'manual' };
  if (signal !== undefined) init.signal = signal;
  let response: Response;
  try {
    response = await fetch(request.url, init);
  } catch (thrown) {
    throw transportError(thrown, signal);
  }
  const redirect = redirectError(response);
  if (redirect !== undefined) {
    await response.body?.cancel().catch(() => undefined);
    throw redirect;
  }
  return response;
}
