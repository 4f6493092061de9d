import { manualClock, systemClock } from '../services/clock.js';
import type { TestClock, TestClockSource } from './types.js';

function isTestClock(source: TestClockSource): source is TestClock {
  const candidate = source as Partial<TestClock>;
  return typeof candidate.advance === 'function' && typeof candidate.set === 'function' && typeof candidate.setTimeout === 'function';
}

/**
 * The server's clock. Given a manual clock (`manualClock()` of the services, or another server's
 * clock), the server shares it: one `advance()` expires the server's tokens and fires the client's
 * timers. Given only a time source, the server reads it plus whatever the test has advanced, and
 * its timers run on the source's. Given nothing, a manual clock starting at `Date.now()`.
 */
export function createTestClock(source?: TestClockSource): TestClock {
  if (source === undefined) return manualClock(Date.now());
  if (isTestClock(source)) return source;
  let offset = 0;
  const schedule = source.setTimeout?.bind(source) ?? systemClock.setTimeout;
  return {
    now: () => source.now() + offset,
    setTimeout: schedule,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('clock.advance(ms) takes a finite, non-negative number');
      offset += ms;
    },
    set(epochMs: number) {
      if (!Number.isFinite(epochMs)) throw new RangeError('clock.set(epochMs) takes a finite number');
      offset = epochMs - source.now();
    },
    pendingTimers: () => 0,
  };
}
