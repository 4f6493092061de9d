/**
 * `authorizedFetch`: a fetch to a resource server with the session's access
 * token (RFC 6750 §2.1, `Authorization: Bearer`). When the resource server
 * says the token is no good (401 with `error="invalid_token"`, RFC 6750
 * §3.1) — revoked early, or the server's clock ahead of ours — the session
 * renews once, through the machine (a `REFRESH` shared by every caller that
 * saw the same token), and the request is sent once more. Never a third time:
 * no request loop, whatever the server says.
 *
 * It is the one place requests to resource servers are made, so a
 * sender-constrained token (DPoP, RFC 9449) can add its proof here later.
 */
import { parseWwwAuthenticate } from '../protocol/wwwAuthenticate.js';
import { refreshNow } from './calls.js';
import type { Core } from './core.js';

/** `fetch`'s signature, for a resource server. */
export type AuthorizedFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Whether a resource server refused the token itself (RFC 6750 §3.1), not the request or the user's rights. */
function tokenRefused(response: Response): boolean {
  if (response.status !== 401) return false;
  const header = response.headers.get('www-authenticate');
  if (header === null) return false;
  try {
    return parseWwwAuthenticate(header).error === 'invalid_token';
  } catch {
    return false;
  }
}

/** A request whose body can be sent twice: none, or one fetch reads from a value (not a stream used up by the first send). */
function replayable(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream);
}

/** The request with `Authorization: Bearer token`; a caller's own `Authorization` is refused, never overwritten silently. */
function withToken(input: string | URL | Request, init: RequestInit | undefined, token: string): Request {
  const request = new Request(input, init);
  if (request.headers.has('authorization')) {
    throw new TypeError('authorizedFetch sets the Authorization header itself; the request already has one');
  }
  request.headers.set('authorization', `Bearer ${token}`);
  return request;
}

/** The façades' `authorizedFetch`, over the core's access token and its `services.fetch`. */
export function authorizedFetchOf(core: Core): AuthorizedFetch {
  return async (input, init) => {
    const token = await core.getAccessToken();
    // A Request's body is a stream: keep a copy for the one retry before the first send reads it.
    const first = withToken(input, init, token);
    const spare = input instanceof Request || !replayable(init) ? first.clone() : undefined;
    const response = await core.services.fetch(first);
    if (!tokenRefused(response)) return response;

    // Renew once, only if the session still holds the token that was refused (another caller may have renewed it).
    // A renewal that fails rejects with its typed error (`login_required` once the session is over): the app's cue to log in.
    const renewed = await refreshNow(core, { accessToken: token });
    const next = renewed?.accessToken;
    if (next === undefined || next === token) return response;
    await response.body?.cancel().catch(() => undefined);
    const second = spare === undefined ? withToken(input, init, next) : spare;
    if (spare !== undefined) second.headers.set('authorization', `Bearer ${next}`);
    return core.services.fetch(second);
  };
}
