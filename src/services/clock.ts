import type { Clock } from './types.js';

/** `setTimeout` fires at once for delays above 2^31 − 1 ms (about 24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** The system clock: `Date.now` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    let handle: ReturnType<typeof setTimeout> | undefined;
    const schedule = (remaining: number): void => {
      const step = Math.min(Math.max(remaining, 0), MAX_TIMEOUT_MS);
      handle = setTimeout(() => {
        handle = undefined;
        if (remaining > MAX_TIMEOUT_MS) schedule(remaining - MAX_TIMEOUT_MS);
        else fn();
      }, step);
    };
    schedule(ms);
    return () => {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    };
  },
};

/**
 * A clock that only moves when told to, for tests. Its timers are due at a
 * time on this clock and fire when `advance` or `set` reaches it, in the
 * order they are due, in no real time.
 */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds (not backwards), firing every timer due on the way, in order. */
  advance(ms: number): void;
  /** Sets the clock to `ms` since the epoch; it may move backwards, as a wall clock can. Timers due by then fire. */
  set(ms: number): void;
  /** How many timers wait to fire. */
  pendingTimers(): number;
}

interface ManualTimer {
  dueAt: number;
  order: number;
  fn: () => void;
}

/** A manual clock starting at `start` (epoch ms, default 0). */
export function manualClock(start = 0): ManualClock {
  let now = finite(start, 'start');
  let order = 0;
  const timers = new Set<ManualTimer>();

  const nextDue = (until: number): ManualTimer | undefined => {
    let next: ManualTimer | undefined;
    for (const timer of timers) {
      if (timer.dueAt > until) continue;
      if (next === undefined || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.order < next.order)) next = timer;
    }
    return next;
  };
  // A timer that schedules another one due by `until` sees it fire in the same call, so the
  // clock passes through each due time in turn; the bound stops a timer that reschedules itself at 0 ms.
  const runUntil = (until: number): void => {
    for (let fired = 0; fired < 100_000; fired += 1) {
      const timer = nextDue(until);
      if (timer === undefined) break;
      timers.delete(timer);
      if (timer.dueAt > now) now = timer.dueAt;
      timer.fn();
    }
    now = Math.max(now, until);
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: ManualTimer = { dueAt: now + Math.max(0, Number.isFinite(ms) ? ms : 0), order: order++, fn };
      timers.add(timer);
      return () => {
        timers.delete(timer);
      };
    },
    advance(ms) {
      if (finite(ms, 'ms') < 0) throw new RangeError('manualClock.advance: ms must not be negative');
      runUntil(now + ms);
    },
    set(ms) {
      const target = finite(ms, 'ms');
      if (target < now) {
        now = target;
        return;
      }
      runUntil(target);
    },
    pendingTimers: () => timers.size,
  };
}

/**
 * The clock in the shape XState's `createActor(machine, { clock })` takes, so the
 * machines' `after` delays run on the clock service (a manual clock fires them on `advance`).
 */
export function xstateClock(clock: Clock): { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void } {
  return {
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (cancel) => {
      if (typeof cancel === 'function') cancel();
    },
  };
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw new TypeError(`manualClock: ${name} must be a finite number, got ${String(value)}`);
  return value;
}
