/**
 * How long a failed renewal holds the next one back: jittered exponential
 * backoff, or the server's `Retry-After` when that is longer, both capped.
 */
import type { OAuthError } from '../errors.js';
import type { CryptoService } from '../services/types.js';

/** The longest a server's `Retry-After` holds renewals back (RFC 9110 §10.2.3 lets it ask for any time). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** The longest backoff between failed renewals. */
export const MAX_BACKOFF_MS = 5 * 60_000;

/** A uniform number in [0, 1) from the crypto service (the jitter need not be secret, but this keeps tests deterministic). */
function unitRandom(crypto: CryptoService): number {
  const bytes = crypto.randomBytes(4);
  return ((bytes[0] ?? 0) * 2 ** 24 + (bytes[1] ?? 0) * 2 ** 16 + (bytes[2] ?? 0) * 2 ** 8 + (bytes[3] ?? 0)) / 2 ** 32;
}

/**
 * Exponential backoff with jitter: `baseMs · 2^attempt · (0.5..1)`, so that
 * many clients failing together do not retry together.
 */
export function backoffDelay(crypto: CryptoService, baseMs: number, attempt: number): number {
  return baseMs * 2 ** attempt * (0.5 + 0.5 * unitRandom(crypto));
}

/**
 * How long to wait before the next renewal after `failures` failures in a
 * row, the last with `error`: the jittered exponential backoff (at most
 * {@link MAX_BACKOFF_MS}), or the server's `Retry-After` (at most
 * {@link MAX_RETRY_AFTER_MS}) when that is longer.
 */
export function renewalBackoff(crypto: CryptoService, retryBaseMs: number, failures: number, error: OAuthError): number {
  const backoff = Math.min(backoffDelay(crypto, retryBaseMs, Math.max(0, failures - 1)), MAX_BACKOFF_MS);
  return Math.max(backoff, Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
