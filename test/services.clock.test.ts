import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { manualClock, systemClock, xstateClock } from '../src/services/clock.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

describe('manualClock timers', () => {
  it('fires a timer only once the clock reaches its due time', () => {
    const clock = manualClock(1_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 500);
    clock.advance(499);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([1_500]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires due timers in due order, each at its own time, and ones they schedule when due too', () => {
    const clock = manualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
    }, 100);
    clock.setTimeout(() => fired.push(`d@${clock.now()}`), 400);
    clock.advance(300);
    expect(fired).toEqual(['a@100', 'c@150', 'b@200']);
    expect(clock.now()).toBe(300);
  });

  it('keeps equal due times in the order they were set', () => {
    const clock = manualClock(0);
    const fired: number[] = [];
    for (const n of [1, 2, 3]) clock.setTimeout(() => fired.push(n), 10);
    clock.advance(10);
    expect(fired).toEqual([1, 2, 3]);
  });

  it('never fires a cancelled timer', () => {
    const clock = manualClock(0);
    let fired = false;
    const cancel = clock.setTimeout(() => (fired = true), 10);
    cancel();
    clock.advance(100);
    expect(fired).toBe(false);
  });

  it('fires nothing when set moves the clock back, and what is due when it moves forward', () => {
    const clock = manualClock(10_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 1_000);
    clock.set(5_000);
    expect(fired).toEqual([]);
    clock.set(11_000);
    expect(fired).toEqual([11_000]);
  });

  it('stops a timer that reschedules itself at 0 ms after a bounded number of turns', () => {
    const clock = manualClock(0);
    let turns = 0;
    const again = (): void => {
      turns += 1;
      clock.setTimeout(again, 0);
    };
    clock.setTimeout(again, 0);
    clock.advance(1);
    expect(turns).toBe(100_000);
  });
});

describe('the clock drives XState delays', () => {
  it("runs a machine's `after` delay on the manual clock, in no real time", () => {
    const clock = manualClock(0);
    const machine = createMachine({ initial: 'waiting', states: { waiting: { after: { 60_000: 'done' } }, done: {} } });
    const actor = createActor(machine, { clock: xstateClock(clock) }).start();
    clock.advance(59_999);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('done');
  });

  it('cancels the delay when the state is left', () => {
    const clock = manualClock(0);
    const machine = createMachine({ initial: 'waiting', states: { waiting: { after: { 1_000: 'late' }, on: { GO: 'gone' } }, late: {}, gone: {} } });
    const actor = createActor(machine, { clock: xstateClock(clock) }).start();
    actor.send({ type: 'GO' });
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(5_000);
    expect(actor.getSnapshot().value).toBe('gone');
  });

  it('systemClock fires on real time', async () => {
    const fired = await new Promise<boolean>((resolve) => {
      systemClock.setTimeout(() => resolve(true), 1);
    });
    expect(fired).toBe(true);
  });
});

describe('the test server shares a manual clock', () => {
  it('is the clock it was given, so one advance moves the server and the client', () => {
    const clock = manualClock(1_700_000_000_000);
    const server = createTestAuthorizationServer({ clock });
    expect(server.clock).toBe(clock);
    let fired = false;
    clock.setTimeout(() => (fired = true), 1_000);
    server.clock.advance(1_000);
    expect(fired).toBe(true);
  });

  it('has a manual clock of its own by default, usable as the client clock', () => {
    const server = createTestAuthorizationServer();
    const start = server.clock.now();
    let firedAt = 0;
    server.clock.setTimeout(() => (firedAt = server.clock.now()), 3_600_000);
    server.clock.advance(3_600_000);
    expect(firedAt).toBe(start + 3_600_000);
  });
});
