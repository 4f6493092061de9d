/**
 * UserInfo (OIDC Core §5.3) and provider token-info endpoints: a GET with the
 * access token as a bearer credential (RFC 6750 §2.1).
 */
import { systemClock } from '../services/clock.js';
import type { TimeSource } from '../services/types.js';
import { resolveEndpoint, resolveProviderUrl } from './endpoints.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import { requireString, userAgentHeaders } from './providerRequest.js';
import { isAccessTokenSyntax } from './tokenSyntax.js';
import type { HttpRequest, ProviderConfig } from './types.js';

/**
 * A GET of the userinfo endpoint (or `options.endpoint`, for instance
 * `provider.tokenInfoEndpoint`) with `Authorization: Bearer`. `userAgent` is
 * sent, and checked against `quirks.userAgentPattern`, like on token requests.
 * An access token a header cannot carry (a space, a control or non-ASCII
 * character) is refused with `OAuthError('invalid_request')`.
 */
export function userinfoRequest(
  provider: ProviderConfig,
  accessToken: string,
  options: { endpoint?: string; userAgent?: string } = {},
): HttpRequest {
  const token = requireString(accessToken, 'accessToken');
  if (!isAccessTokenSyntax(token)) {
    // Refused here rather than by `Headers` (a TypeError) or, worse, sent split across header lines.
    throw new OAuthError('invalid_request', {
      description: 'the access token cannot be sent as a bearer token (RFC 6750 §2.1: 1*%x21-7E)',
      retryable: false,
    });
  }
  const url =
    options.endpoint === undefined
      ? resolveEndpoint(provider, 'userinfo')
      : resolveProviderUrl(provider, options.endpoint, 'endpoint').href;
  return {
    url,
    init: {
      method: 'GET',
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...userAgentHeaders(provider, options.userAgent) },
      redirect: 'manual',
    },
  };
}

/**
 * Reads the claims (a JSON object); a 401 becomes the `WWW-Authenticate` error (RFC 6750 §3.1, e.g.
 * `invalid_token`), and a `Retry-After` on an error is measured against `clock`.
 */
export async function readUserinfoResponse(response: Response, clock: TimeSource = systemClock): Promise<Record<string, unknown>> {
  if (!response.ok) throw await readErrorResponse(response, clock);
  const body = await readJsonBody(response);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OAuthError('invalid_response', { description: 'the userinfo response is not a JSON object', status: response.status, cause: body });
  }
  return body as Record<string, unknown>;
}
