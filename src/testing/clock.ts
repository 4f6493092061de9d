import type { TestClock } from './types.js';

/**
 * The server's clock: the given time source (or a frozen start time) plus
 * whatever the test has advanced, so expiry never needs real waiting.
 */
export function createTestClock(source?: { now(): number }): TestClock {
  const start = Date.now();
  let offset = 0;
  const base = (): number => (source ? source.now() : start);
  return {
    now: () => base() + offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('clock.advance(ms) takes a finite, non-negative number');
      offset += ms;
    },
    set(epochMs: number) {
      if (!Number.isFinite(epochMs)) throw new RangeError('clock.set(epochMs) takes a finite number');
      offset = epochMs - base();
    },
  };
}
