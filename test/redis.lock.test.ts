/**
 * redisStorage's lock against a real redis-server, with two connections as
 * two processes of a fleet: mutual exclusion, expiry of a dead holder's lock,
 * release by the holder only, the keep-alive, and the wait limit.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { redisStorage, type RedisClientLike, type RedisStorageOptions } from '../src/redis/index.js';
import type { StorageService } from '../src/services/types.js';
import { connectRedis, describeRedis, startRedisServer, type RedisConnection, type RunningRedis } from './support/redis.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `lock` of a storage that has one (redisStorage always does). */
function lockOf(storage: StorageService): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const { lock } = storage;
  if (lock === undefined) throw new Error('redisStorage has no lock');
  return lock.bind(storage);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describeRedis('redisStorage lock', () => {
  let server: RunningRedis;
  let one: RedisConnection;
  let two: RedisConnection;
  let prefixes = 0;
  /** Two storages on two connections sharing a fresh prefix: two processes. */
  const pair = (options: RedisStorageOptions = {}): { a: StorageService; b: StorageService; prefix: string } => {
    const prefix = `lock-test-${(prefixes += 1)}:`;
    return { a: redisStorage(one, { prefix, ...options }), b: redisStorage(two, { prefix, ...options }), prefix };
  };

  beforeAll(async () => {
    server = await startRedisServer();
    one = await connectRedis(server.url);
    two = await connectRedis(server.url);
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await server?.stop();
  });

  it('property: critical sections of one key never overlap, whichever connection and interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            via: fc.constantFrom<'a' | 'b'>('a', 'b'),
            key: fc.constantFrom('k1', 'k2'),
            startMs: fc.integer({ min: 0, max: 10 }),
            holdMs: fc.integer({ min: 0, max: 6 }),
            fails: fc.boolean(),
          }),
          { minLength: 2, maxLength: 10 },
        ),
        async (tasks) => {
          const { a, b } = pair({ retryDelayMs: 3 });
          const active = new Map<string, number>();
          let overlaps = 0;
          let ran = 0;
          const results = await Promise.allSettled(
            tasks.map(async (task, index) => {
              await sleep(task.startMs);
              return lockOf(task.via === 'a' ? a : b)(task.key, async () => {
                const inside = (active.get(task.key) ?? 0) + 1;
                active.set(task.key, inside);
                if (inside > 1) overlaps += 1;
                await sleep(task.holdMs);
                await Promise.resolve();
                active.set(task.key, (active.get(task.key) ?? 1) - 1);
                ran += 1;
                if (task.fails) throw new Error(`task ${index} failed`);
                return index;
              });
            }),
          );
          expect(overlaps).toBe(0);
          expect(ran).toBe(tasks.length);
          // Each caller gets its own section's outcome; a failing section releases the lock for the next.
          results.forEach((result, index) => {
            if (tasks[index]!.fails) expect(result).toMatchObject({ status: 'rejected', reason: { message: `task ${index} failed` } });
            else expect(result).toEqual({ status: 'fulfilled', value: index });
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('holds the lock as a random token under prefix + "lock:" + key while the section runs, and deletes it after', async () => {
    const { a, prefix } = pair();
    const seen = await lockOf(a)('refresh', () => one.get(`${prefix}lock:refresh`));
    expect(seen).toMatch(/^[0-9a-f]{32}$/);
    const ttl = await one.pTTL(`${prefix}lock:refresh`);
    expect(ttl).toBe(-2); // gone
  });

  it('takes a lock whose holder died without releasing it once its TTL runs out', async () => {
    const { b, prefix } = pair({ waitMs: 5_000, retryDelayMs: 10 });
    // A process that took the lock and died: nobody will release or extend it.
    await one.set(`${prefix}lock:k`, 'dead-holder', { PX: 200 });
    const holderWhileInside = await lockOf(b)('k', () => two.get(`${prefix}lock:k`));
    expect(holderWhileInside).not.toBe('dead-holder');
    expect(holderWhileInside).toMatch(/^[0-9a-f]{32}$/);
  });

  it('never releases a lock another holder owns now (its own expired and was taken)', async () => {
    const { a, prefix } = pair({ lockTtlMs: 10_000 });
    const result = await lockOf(a)('k', async () => {
      // As if our lock expired and another process took it meanwhile.
      await two.set(`${prefix}lock:k`, 'next-holder', { PX: 10_000 });
      return 'done';
    });
    expect(result).toBe('done');
    expect(await one.get(`${prefix}lock:k`)).toBe('next-holder');
  });

  it('a holder whose keep-alive failed and whose lock expired leaves the next holder’s lock alone', async () => {
    const prefix = `lock-test-${(prefixes += 1)}:`;
    // Process A cannot extend (its EVAL of the extend script fails), so its lock expires mid-section.
    const noExtend: RedisClientLike = {
      get: (key) => one.get(key),
      set: (key, value, options) => one.set(key, value, options),
      del: (key) => one.del(key),
      eval: (script, options) =>
        script.includes('PEXPIRE') ? Promise.reject(new Error('extend failed')) : one.eval(script, options),
    };
    const a = redisStorage(noExtend, { prefix, lockTtlMs: 150 });
    const b = redisStorage(two, { prefix, waitMs: 5_000, retryDelayMs: 10 });
    const bInside = deferred();
    const aMayFinish = deferred();
    const aDone = lockOf(a)('k', async () => {
      await aMayFinish.promise;
    });
    await sleep(20); // A holds the lock
    let bHeldAfterARelease: string | null = null;
    const bDone = lockOf(b)('k', async () => {
      bInside.resolve();
      aMayFinish.resolve();
      await aDone; // A finishes and "releases" while B holds the lock
      bHeldAfterARelease = await two.get(`${prefix}lock:k`);
    });
    await bInside.promise;
    await bDone;
    expect(bHeldAfterARelease).toMatch(/^[0-9a-f]{32}$/);
  });

  it('extends the lock while a section runs longer than its TTL, so no one else gets in', async () => {
    const { a, b, prefix } = pair({ lockTtlMs: 300, waitMs: 0 });
    const attempts: string[] = [];
    await lockOf(a)('k', async () => {
      for (let i = 0; i < 6; i += 1) {
        await sleep(200); // 1.2 s in all: four TTLs
        const outcome = await lockOf(b)('k', () => Promise.resolve('entered')).catch((error: OAuthError) => error.code);
        attempts.push(outcome);
      }
      expect(await one.pTTL(`${prefix}lock:k`)).toBeGreaterThan(0);
    });
    expect(attempts).toEqual(Array(6).fill('storage_error'));
    // Released at the end: the other process gets it at once.
    expect(await lockOf(b)('k', () => Promise.resolve('entered'))).toBe('entered');
  });

  it('rejects with a retryable storage_error after waitMs without running the section', async () => {
    const { a, b } = pair({ waitMs: 100, retryDelayMs: 10 });
    const release = deferred();
    const holding = lockOf(a)('k', () => release.promise);
    await sleep(10);
    let ran = false;
    const error = await lockOf(b)('k', async () => {
      ran = true;
    }).catch((thrown: unknown) => thrown);
    release.resolve();
    await holding;
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'storage_error', retryable: true });
    expect(ran).toBe(false);
  });

  it('keys are independent: one key held does not block another', async () => {
    const { a, b } = pair({ waitMs: 0 });
    const result = await lockOf(a)('k1', () => lockOf(b)('k2', () => Promise.resolve('other key')));
    expect(result).toBe('other key');
  });

  it('returns the section’s result even when the release command fails (the TTL frees the lock)', async () => {
    const prefix = `lock-test-${(prefixes += 1)}:`;
    const failingRelease: RedisClientLike = {
      get: (key) => one.get(key),
      set: (key, value, options) => one.set(key, value, options),
      del: (key) => one.del(key),
      eval: (script, options) => (script.includes("'DEL'") ? Promise.reject(new Error('release failed')) : one.eval(script, options)),
    };
    const storage = redisStorage(failingRelease, { prefix, lockTtlMs: 100 });
    expect(await lockOf(storage)('k', () => Promise.resolve(42))).toBe(42);
    const b = redisStorage(two, { prefix, waitMs: 5_000, retryDelayMs: 10 });
    expect(await lockOf(b)('k', () => Promise.resolve('after expiry'))).toBe('after expiry');
  });
});
