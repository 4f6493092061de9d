/**
 * The timers the machines' actors use, on the clock service. They live in
 * invoked actors rather than in XState `after` transitions because `after`
 * timers are not part of a persisted snapshot: an invoked actor is started
 * again when a snapshot is restored, so the expiry timer and the device poll
 * survive a page reload.
 */
import type { Clock } from '../src/services/types.js';

/** Calls `fire` after `delayMs` (clamped at 0) on `clock`. Returns a function that cancels the timer. */
export function startTimer(clock: Clock, delayMs: number, fire: () => void): () => void {
  return clock.setTimeout(fire, Math.max(0, delayMs));
}
