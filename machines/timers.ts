/**
 * The timers the machines' actors use. They live in invoked actors rather
 * than in XState `after` transitions because `after` timers are not part of a
 * persisted snapshot: an invoked actor is started again when a snapshot is
 * restored, so the expiry timer and the device poll survive a page reload.
 */
import { OAuthError } from '../src/errors.js';
import type { CryptoService } from '../src/services/types.js';

/** `setTimeout` fires at once for delays above 2^31 − 1 ms (about 24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Calls `fire` after `delayMs` (clamped at 0), however long that is. Returns
 * a function that cancels the timer.
 */
export function startTimer(delayMs: number, fire: () => void): () => void {
  let handle: ReturnType<typeof setTimeout> | undefined;
  const schedule = (remaining: number): void => {
    const step = Math.min(Math.max(remaining, 0), MAX_TIMEOUT_MS);
    handle = setTimeout(() => {
      handle = undefined;
      if (remaining > MAX_TIMEOUT_MS) schedule(remaining - MAX_TIMEOUT_MS);
      else fire();
    }, step);
  };
  schedule(delayMs);
  return () => {
    if (handle !== undefined) clearTimeout(handle);
    handle = undefined;
  };
}

/** Resolves after `delayMs`, or rejects with `OAuthError('aborted')` as soon as `signal` aborts. */
export function sleep(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      cancel();
      reject(new OAuthError('aborted', { description: 'stopped while waiting', retryable: false }));
    };
    const cancel = startTimer(delayMs, () => {
      signal.removeEventListener('abort', aborted);
      resolve();
    });
    if (signal.aborted) {
      aborted();
      return;
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}

/** A uniform number in [0, 1) from the crypto service (the jitter need not be secret, but this keeps tests deterministic). */
function unitRandom(crypto: CryptoService): number {
  const bytes = crypto.randomBytes(4);
  const value = ((bytes[0] ?? 0) * 2 ** 24 + (bytes[1] ?? 0) * 2 ** 16 + (bytes[2] ?? 0) * 2 ** 8 + (bytes[3] ?? 0)) / 2 ** 32;
  return value;
}

/**
 * Exponential backoff with jitter: `baseMs · 2^attempt · (0.5..1)`, so that
 * many clients failing together do not retry together.
 */
export function backoffDelay(crypto: CryptoService, baseMs: number, attempt: number): number {
  return baseMs * 2 ** attempt * (0.5 + 0.5 * unitRandom(crypto));
}
