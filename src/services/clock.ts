import type { Clock } from './types.js';

/** The system clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, for tests. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds (not backwards). */
  advance(ms: number): void;
  /** Sets the clock to `ms` since the epoch (may move backwards, as a real clock can). */
  set(ms: number): void;
}

/** A manual clock starting at `start` (epoch ms, default 0). */
export function manualClock(start = 0): ManualClock {
  let now = finite(start, 'start');
  return {
    now: () => now,
    advance(ms) {
      if (finite(ms, 'ms') < 0) throw new RangeError('manualClock.advance: ms must not be negative');
      now += ms;
    },
    set(ms) {
      now = finite(ms, 'ms');
    },
  };
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new TypeError(`manualClock: ${name} must be a finite number, got ${String(value)}`);
  return value;
}
