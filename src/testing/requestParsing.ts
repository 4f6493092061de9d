/**
 * Reading parameters and client credentials from requests, strictly: a
 * repeated parameter is an error (RFC 6749 §3.1, §3.2), a body must carry the
 * right media type.
 */
import { OAuthFailure } from './responses.js';

/** URL query parameters; a parameter sent twice is `invalid_request`. */
export function queryParams(url: URL): Record<string, string> {
  return uniqueParams(url.searchParams);
}

function uniqueParams(search: URLSearchParams): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of search) {
    if (Object.hasOwn(params, name)) {
      throw new OAuthFailure('invalid_request', `parameter ${name} is repeated`);
    }
    params[name] = value;
  }
  return params;
}

/** The media type without parameters, lower-cased (`application/x-www-form-urlencoded;charset=UTF-8` → `application/x-www-form-urlencoded`). */
export function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The body parameters of a POST (`text`: the body, read once by the handler): form-encoded (RFC 6749 §4.1.3, Appendix B),
 * or a flat JSON object of strings when `allowJson` (a server that takes JSON token requests).
 */
export function bodyParams(request: Request, text: string, allowJson: boolean): Record<string, string> {
  const type = mediaType(request);
  if (type === 'application/x-www-form-urlencoded') return uniqueParams(new URLSearchParams(text));
  if (type === 'application/json' && allowJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OAuthFailure('invalid_request', 'the JSON body does not parse');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OAuthFailure('invalid_request', 'the JSON body must be an object');
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new OAuthFailure('invalid_request', `parameter ${name} must be a string`);
      params[name] = value;
    }
    return params;
  }
  const expected = allowJson ? 'application/x-www-form-urlencoded or application/json' : 'application/x-www-form-urlencoded';
  throw new OAuthFailure('invalid_request', `the body must be ${expected}, not ${type || 'untyped'}`);
}

/** Form-urlencoded decoding of one credential (RFC 6749 §2.3.1, Appendix B). */
function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export type PresentedCredentials =
  | { scheme: 'basic'; clientId: string; clientSecret: string }
  | { scheme: 'none' };

/**
 * HTTP Basic client credentials (RFC 6749 §2.3.1): base64 of
 * `urlencode(id):urlencode(secret)`. A malformed header is `invalid_client`.
 */
export function basicCredentials(request: Request): PresentedCredentials {
  const header = request.headers.get('authorization');
  if (header === null) return { scheme: 'none' };
  const match = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match?.[1]) {
    throw new OAuthFailure('invalid_client', 'the Authorization header is not HTTP Basic', 401, { 'www-authenticate': 'Basic realm="token"' });
  }
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    throw new OAuthFailure('invalid_client', 'the Basic credentials are not base64', 401, { 'www-authenticate': 'Basic realm="token"' });
  }
  const colon = decoded.indexOf(':');
  const id = colon < 0 ? undefined : formDecode(decoded.slice(0, colon));
  const secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined) {
    throw new OAuthFailure('invalid_client', 'the Basic credentials are malformed', 401, { 'www-authenticate': 'Basic realm="token"' });
  }
  return { scheme: 'basic', clientId: id, clientSecret: secret };
}

/** A bearer token from the Authorization header (RFC 6750 §2.1), or `undefined`. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  const match = header === null ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match?.[1];
}
