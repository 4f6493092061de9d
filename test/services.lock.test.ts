import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { processLock } from '../src/services/processLock.js';

interface Caller {
  key: number;
  /** How many scheduler steps the critical section takes. */
  steps: number;
  fails: boolean;
}

const callersArbitrary = fc.array(
  fc.record({ key: fc.nat({ max: 3 }), steps: fc.nat({ max: 3 }), fails: fc.boolean() }),
  { minLength: 1, maxLength: 12 },
);

describe('processLock', () => {
  test.prop([fc.scheduler(), callersArbitrary])(
    'for any interleaving of callers on several keys, critical sections of one key never overlap, run in call order, and each caller gets its own result or rejection',
    async (s, callers: Caller[]) => {
      const lock = processLock();
      const inside = new Map<number, number>();
      const overlaps: string[] = [];
      const callOrder = new Map<number, number[]>();
      const entryOrder = new Map<number, number[]>();

      const launched = callers.map(async (caller, index) => {
        // The scheduler decides when each caller asks for the lock.
        await s.schedule(Promise.resolve(), `start ${index}`);
        callOrder.set(caller.key, [...(callOrder.get(caller.key) ?? []), index]);
        return lock.run(`key-${caller.key}`, async () => {
          entryOrder.set(caller.key, [...(entryOrder.get(caller.key) ?? []), index]);
          if ((inside.get(caller.key) ?? 0) > 0) overlaps.push(`caller ${index} entered key ${caller.key} while it was held`);
          inside.set(caller.key, (inside.get(caller.key) ?? 0) + 1);
          try {
            for (let step = 0; step < caller.steps; step += 1) await s.schedule(Promise.resolve(), `step ${index}.${step}`);
            if (caller.fails) throw new Error(`failure of ${index}`);
            return `result of ${index}`;
          } finally {
            inside.set(caller.key, (inside.get(caller.key) ?? 0) - 1);
          }
        });
      });
      const outcomes = await s.waitFor(Promise.allSettled(launched));

      expect(overlaps).toEqual([]);
      expect(entryOrder).toEqual(callOrder);
      outcomes.forEach((outcome, index) => {
        if (callers[index]?.fails) {
          expect(outcome.status).toBe('rejected');
          expect(outcome.status === 'rejected' && (outcome.reason as Error).message).toBe(`failure of ${index}`);
        } else {
          expect(outcome).toEqual({ status: 'fulfilled', value: `result of ${index}` });
        }
      });
      await Promise.resolve();
      expect(lock.activeKeys).toBe(0);
    },
  );

  it('releases the lock when a critical section throws synchronously, rejecting only that caller', async () => {
    const lock = processLock();
    const first = lock.run('k', () => {
      throw new Error('boom');
    });
    const second = lock.run('k', () => Promise.resolve('after'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('after');
  });

  it('lets different keys run at the same time', async () => {
    const lock = processLock();
    let releaseA!: () => void;
    const a = lock.run('a', () => new Promise<string>((resolve) => (releaseA = () => resolve('a'))));
    // 'b' completes while 'a' is still held: keys are independent.
    await expect(lock.run('b', () => Promise.resolve('b'))).resolves.toBe('b');
    releaseA();
    await expect(a).resolves.toBe('a');
  });

  it('keeps no memory for a key once its queue is empty', async () => {
    const lock = processLock();
    const runs = Array.from({ length: 5 }, (_, index) => lock.run(`key-${index}`, () => Promise.resolve(index)));
    expect(lock.activeKeys).toBe(5);
    await Promise.all(runs);
    await Promise.resolve();
    expect(lock.activeKeys).toBe(0);
  });
});

describe('memoryStorage', () => {
  it('stores, reads and removes values, answering null for a missing key', async () => {
    const storage = memoryStorage();
    expect(await storage.get('a')).toBeNull();
    await storage.set('a', '1');
    expect(await storage.get('a')).toBe('1');
    await storage.remove('a');
    expect(await storage.get('a')).toBeNull();
  });

  it('keeps two instances apart', async () => {
    const one = memoryStorage();
    const two = memoryStorage();
    await one.set('a', '1');
    expect(await two.get('a')).toBeNull();
  });

  it('serialises callers of the same key through its lock', async () => {
    const storage = memoryStorage();
    const lock = storage.lock;
    if (!lock) throw new Error('memoryStorage must offer a lock');
    const events: string[] = [];
    const section = (name: string) => async () => {
      events.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(`${name} out`);
    };
    await Promise.all([lock('k', section('first')), lock('k', section('second'))]);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out']);
  });
});
