/**
 * Token revocation (RFC 7009).
 */
import { systemClock } from '../services/clock.js';
import type { TimeSource } from '../services/types.js';
import { readErrorResponse, type ErrorContext } from './errorResponse.js';
import { buildAuthenticatedPost, tokenReferenceParams, type TokenReference } from './providerRequest.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from './types.js';

/** RFC 7009 §2.1: the token, an optional hint, and client authentication. */
export function revocationRequest(
  provider: ProviderConfig,
  client: ClientConfig,
  options: TokenReference,
): HttpRequest {
  return buildAuthenticatedPost(provider, client, 'revocation', tokenReferenceParams(options));
}

/**
 * RFC 7009 §2.2: any 2xx is success whatever the body (an unknown token is
 * success too); anything else is the server's `OAuthError` (503 retryable, §2.2.1,
 * with its `Retry-After` measured against `clock`; `answered` as for `readErrorResponse`).
 */
export async function readRevocationResponse(response: Response, clock: TimeSource = systemClock, answered?: ErrorContext): Promise<void> {
  if (!response.ok) throw await readErrorResponse(response, clock, answered);
  await response.body?.cancel().catch(() => undefined);
}
