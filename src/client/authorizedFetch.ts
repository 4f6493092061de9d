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
 * sender-constrained token carries its proof here: in a DPoP-bound session
 * (RFC 9449 §7) a `DPoP` token goes as `Authorization: DPoP …` with a fresh
 * proof naming the request and the token (`ath`); a resource server that asks
 * for its nonce (401, `error="use_dpop_nonce"` and a `DPoP-Nonce`, §9) gets
 * the request once more with it, and never a third time.
 */
import { RUNTIME, type GrantContext } from '../../machines/types.js';
import type { ProviderConfig } from '../protocol/types.js';
import type { DpopSession } from '../services/types.js';
import { parseWwwAuthenticate } from '../protocol/wwwAuthenticate.js';
import { refreshNow } from './calls.js';
import type { Core } from './core.js';

/** `fetch`'s signature, for a resource server. */
export type AuthorizedFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The `WWW-Authenticate` error of a 401, if it has one. */
function challengeError(response: Response): string | undefined {
  if (response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate');
  if (header === null) return undefined;
  try {
    return parseWwwAuthenticate(header).error;
  } catch {
    return undefined;
  }
}

/** Whether a resource server refused the token itself (RFC 6750 §3.1), not the request or the user's rights. */
function tokenRefused(response: Response): boolean {
  return challengeError(response) === 'invalid_token';
}

/** RFC 9449 §9: the resource server wants a proof with its nonce, and said which. */
function nonceAsked(response: Response): boolean {
  return challengeError(response) === 'use_dpop_nonce' && response.headers.has('dpop-nonce');
}

/** A request whose body can be sent twice: none, or one fetch reads from a value (not a stream used up by the first send). */
function replayable(init: RequestInit | undefined): boolean {
  const body = init?.body;
  return body === undefined || body === null || !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream);
}

/** The session's DPoP binding, when it has one: its key and nonces, and the provider that chose its algorithm. */
interface Binding {
  session: DpopSession;
  provider: ProviderConfig;
}

function bindingOf(core: Core): Binding | undefined {
  const context = core.snapshot()?.context as GrantContext | undefined;
  const runtime = context?.[RUNTIME];
  if (runtime?.dpop === undefined || runtime.provider === undefined) return undefined;
  return { session: runtime.dpop, provider: runtime.provider };
}

/** The token type of the session's tokens, if it holds the token `accessToken`. */
function tokenTypeOf(core: Core, accessToken: string): string | undefined {
  const context = core.snapshot()?.context as GrantContext | undefined;
  const tokens = context?.tokens;
  return tokens?.accessToken === accessToken ? tokens.tokenType : undefined;
}

/** The request, made fresh from the caller's arguments or a spare clone, for one send. */
function requestOf(input: string | URL | Request, init: RequestInit | undefined): Request {
  const request = new Request(input, init);
  if (request.headers.has('authorization')) {
    throw new TypeError('authorizedFetch sets the Authorization header itself; the request already has one');
  }
  return request;
}

/**
 * Sets the request's credentials: `Bearer token` (RFC 6750 §2.1), or, for a
 * `DPoP` token of a DPoP-bound session, `DPoP token` and a proof (RFC 9449 §7.1).
 */
async function authorize(core: Core, request: Request, token: string, binding: Binding | undefined): Promise<void> {
  const bound = binding !== undefined && tokenTypeOf(core, token)?.toLowerCase() === 'dpop';
  if (!bound) {
    request.headers.set('authorization', `Bearer ${token}`);
    return;
  }
  const proof = await binding.session.proof(binding.provider.dpopSigningAlgValuesSupported, core.services, {
    method: request.method,
    url: request.url,
    accessToken: token,
  });
  request.headers.set('authorization', `DPoP ${token}`);
  request.headers.set('dpop', proof);
}

/** The façades' `authorizedFetch`, over the core's access token and its `services.fetch`. */
export function authorizedFetchOf(core: Core): AuthorizedFetch {
  return async (input, init) => {
    const token = await core.getAccessToken();
    const binding = bindingOf(core);
    // A Request's body is a stream: keep copies for the retries (a nonce, a renewal) before the first send reads it.
    const fresh = !(input instanceof Request) && replayable(init);
    const spares: Request[] = [];
    const first = requestOf(input, init);
    if (!fresh) spares.push(first.clone(), first.clone());
    const next = (): Request => (fresh ? requestOf(input, init) : (spares.shift() as Request));
    await authorize(core, first, token, binding);
    let response = await core.services.fetch(first);
    binding?.session.rememberNonce(first.url, response);

    // RFC 9449 §9: once more with the resource server's nonce, never a third time.
    if (binding !== undefined && nonceAsked(response)) {
      await response.body?.cancel().catch(() => undefined);
      const again = next();
      await authorize(core, again, token, binding);
      response = await core.services.fetch(again);
      binding.session.rememberNonce(again.url, response);
    }
    if (!tokenRefused(response)) return response;

    // Renew once, only if the session still holds the token that was refused (another caller may have renewed it).
    // A renewal that fails rejects with its typed error (`login_required` once the session is over): the app's cue to log in.
    const renewed = await refreshNow(core, { accessToken: token });
    const renewedToken = renewed?.accessToken;
    if (renewedToken === undefined || renewedToken === token) return response;
    await response.body?.cancel().catch(() => undefined);
    const second = next();
    await authorize(core, second, renewedToken, binding);
    const answer = await core.services.fetch(second);
    binding?.session.rememberNonce(second.url, answer);
    return answer;
  };
}
