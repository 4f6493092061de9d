/**
 * The timers the machines' actors use, on the clock service. They live in
 * invoked actors rather than in XState `after` transitions because `after`
 * timers are not part of a persisted snapshot: an invoked actor is started
 * again when a snapshot is restored, so the expiry timer and the device poll
 * survive a page reload.
 */
import { OAuthError } from '../src/errors.js';
import type { Clock } from '../src/services/types.js';

/** Calls `fire` after `delayMs` (clamped at 0) on `clock`. Returns a function that cancels the timer. */
export function startTimer(clock: Clock, delayMs: number, fire: () => void): () => void {
  return clock.setTimeout(fire, Math.max(0, delayMs));
}

/** Resolves after `delayMs` on `clock`, or rejects with `OAuthError('aborted')` as soon as `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      cancel();
      reject(new OAuthError('aborted', { description: 'stopped while waiting', retryable: false }));
    };
    const cancel = startTimer(clock, delayMs, () => {
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
