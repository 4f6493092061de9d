/**
 * redisStorage during a Redis outage, against a real redis-server that is
 * frozen (it holds its connections and answers nothing) or stopped (node-redis
 * queues commands until it reconnects): every command and the lock end in a
 * retryable `storage_error` by their deadlines instead of waiting for Redis,
 * nothing is left behind (no late rejection, no stray lock), and once Redis
 * is back the same storage works again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isOAuthError, OAuthError } from '../src/errors.js';
import { redisStorage, type RedisClientLike, type RedisStorageOptions } from '../src/redis/index.js';
import type { StorageService } from '../src/services/types.js';
import { createWorld } from './client.fixtures.js';
import { connectRedis, describeRedis, startRedisServer, type RedisConnection, type RunningRedis } from './support/redis.js';

/** Short deadlines: the point is that they end the wait, not how long they are. */
const SHORT: RedisStorageOptions = { commandTimeoutMs: 150, waitMs: 150, retryDelayMs: 5 };

function lockOf(storage: StorageService): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const { lock } = storage;
  if (lock === undefined) throw new Error('redisStorage has no lock');
  return lock.bind(storage);
}

async function failure(operation: () => Promise<unknown>): Promise<unknown> {
  return operation().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
}

function expectRetryableStorageError(error: unknown): void {
  expect(error).toBeInstanceOf(OAuthError);
  expect(error).toMatchObject({ code: 'storage_error', retryable: true });
}

/** Polls `read` until it returns `expected`; bounded (10 s in 20 ms steps). */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  let value = await read();
  for (let round = 0; round < 500 && value !== expected; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

describeRedis('redisStorage while Redis does not answer', () => {
  let server: RunningRedis;
  let one: RedisConnection;
  let two: RedisConnection;
  let prefixes = 0;
  const nextPrefix = (): string => `outage-${(prefixes += 1)}:`;

  beforeAll(async () => {
    server = await startRedisServer();
    one = await connectRedis(server.url);
    two = await connectRedis(server.url);
  });

  afterEach(() => {
    server.thaw(); // a failed test must not leave the next one without Redis
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await server?.stop();
  });

  it('rejects get, set and remove with a retryable storage_error while Redis is frozen, and works again once it answers', async () => {
    const storage = redisStorage(one, { prefix: nextPrefix(), ...SHORT });
    await storage.set('session', 'before');

    server.freeze();
    for (const operation of [() => storage.get('session'), () => storage.set('session', 'during'), () => storage.remove('other')]) {
      const error = await failure(operation);
      expectRetryableStorageError(error);
      expect((error as OAuthError).description).toMatch(/did not answer within 150 ms/);
    }
    server.thaw();

    // A timed-out command may still take effect once Redis answers: the `set` above was sent.
    expect(await eventually(() => storage.get('session'), 'during')).toBe('during');
    await storage.set('session', 'after');
    expect(await storage.get('session')).toBe('after');
    await storage.remove('session');
    expect(await storage.get('session')).toBeNull();
  });

  it('rejects lock with a retryable storage_error without running fn while Redis is frozen, and leaves no lock behind', async () => {
    const prefix = nextPrefix();
    const storage = redisStorage(one, { prefix, ...SHORT });
    let ran = false;

    server.freeze();
    const error = await failure(() =>
      lockOf(storage)('refresh', async () => {
        ran = true;
      }),
    );
    server.thaw();

    expectRetryableStorageError(error);
    expect(ran).toBe(false);
    // The SET NX that timed out reaches Redis after all; its holder deletes it again (same token, same connection, in order).
    expect(await eventually(() => one.exists(`${prefix}lock:refresh`), 0)).toBe(0);
    expect(await lockOf(storage)('refresh', () => Promise.resolve('ran'))).toBe('ran');
  });

  it("a timed-out lock attempt never releases another holder's lock", async () => {
    const prefix = nextPrefix();
    const holder = redisStorage(two, { prefix, ...SHORT, commandTimeoutMs: 2_000 });
    const waiter = redisStorage(one, { prefix, ...SHORT });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holderIn!: () => void;
    const entered = new Promise<void>((resolve) => (holderIn = resolve));
    const holding = lockOf(holder)('refresh', async () => {
      holderIn();
      await held;
      return 'holder done';
    });
    await entered;
    const holderToken = await one.get(`${prefix}lock:refresh`);
    expect(holderToken).toMatch(/^[0-9a-f]{32}$/);

    server.freeze();
    expectRetryableStorageError(await failure(() => lockOf(waiter)('refresh', () => Promise.resolve('waiter ran'))));
    server.thaw();

    // Everything the waiter sent (its SET NX, its clean-up) is answered before this GET on the same connection.
    expect(await one.get(`${prefix}lock:refresh`)).toBe(holderToken);
    release();
    expect(await holding).toBe('holder done');
    expect(await one.exists(`${prefix}lock:refresh`)).toBe(0);
  });

  it('ends a critical section whose release Redis does not answer: fn\'s result is kept', async () => {
    const prefix = nextPrefix();
    const storage = redisStorage(one, { prefix, ...SHORT });
    const result = await lockOf(storage)('k', async () => {
      server.freeze(); // Redis goes away while fn runs: the release cannot be answered
      return 'fn result';
    });
    server.thaw();
    expect(result).toBe('fn result');
    // The release was sent and is answered once Redis is back: the lock does not wait for its TTL.
    expect(await eventually(() => one.exists(`${prefix}lock:k`), 0)).toBe(0);
  });
});

describeRedis('redisStorage while Redis is down and node-redis queues every command', () => {
  let server: RunningRedis;
  let redis: RedisConnection;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url);
  });

  afterAll(async () => {
    // Not close(): it would wait for commands queued while the server was down, had the test stopped early.
    redis?.destroy();
    await server?.stop();
  });

  it('rejects get, set, remove and lock with a retryable storage_error while the server is stopped, and works again after it restarts', async () => {
    const storage = redisStorage(redis, { prefix: 'down:', ...SHORT });
    await storage.set('k', 'v');

    await server.stop();
    for (const operation of [
      () => storage.get('k'),
      () => storage.set('k', 'v2'),
      () => storage.remove('k'),
      () => lockOf(storage)('k', () => Promise.resolve('ran')),
    ]) {
      expectRetryableStorageError(await failure(operation));
    }

    await server.restart();
    // node-redis reconnects by itself; the storage needs nothing to recover.
    const stored = await eventually(
      () => storage.set('k', 'back').then(
        () => 'ok',
        () => 'not yet',
      ),
      'ok',
    );
    expect(stored).toBe('ok');
    expect(await storage.get('k')).toBe('back');
    expect(await lockOf(storage)('k', () => Promise.resolve('ran'))).toBe('ran');
  });
});

const HOUR = 3_600_000;

describeRedis('a client-credentials client on Redis during an outage', () => {
  let server: RunningRedis;
  let redis: RedisConnection;
  let prefixes = 0;
  const nextPrefix = (): string => `client-outage-${(prefixes += 1)}:`;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url);
  });

  afterEach(() => {
    server.thaw();
  });

  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('keeps answering getAccessToken() with the valid token it holds while Redis does not answer, and renews once Redis is back', async () => {
    const world = await createWorld();
    const storage = redisStorage(redis, { prefix: nextPrefix(), ...SHORT });
    const client = world.client('client_credentials', { services: { ...world.services, storage } });
    try {
      await client.ready;
      const held = await client.getAccessToken();

      server.freeze();
      expect(await client.getAccessToken()).toBe(held);
      // Renewal is due but the token is still valid: the renewal needs the lock, which Redis cannot give.
      world.clock.advance(HOUR - 10_000);
      expect(await client.getAccessToken()).toBe(held);
      expect(await client.getAccessToken()).toBe(held);
      server.thaw();

      // Bounded: the lifecycle's next attempt (on demand or by its own timer) renews through Redis again.
      let renewed = held;
      for (let round = 0; round < 200 && renewed === held; round += 1) {
        world.clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
        renewed = await client.getAccessToken();
      }
      expect(renewed).not.toBe(held);
    } finally {
      client.stop();
    }
  });

  it('settles ready while Redis does not answer, instead of waiting for it', async () => {
    const world = await createWorld();
    const storage = redisStorage(redis, { prefix: nextPrefix(), ...SHORT });
    server.freeze();
    const client = world.client('client_credentials', { services: { ...world.services, storage } });
    try {
      const outcome = await client.ready.then(
        () => 'ready' as const,
        (thrown: unknown) => thrown,
      );
      server.thaw();
      if (outcome !== 'ready') expect(isOAuthError(outcome) && outcome.code === 'storage_error').toBe(true);
    } finally {
      client.stop();
    }
  });
});

/** A connection that accepts commands and never answers them (a hung socket), or answers when told to. */
function hungClient(): { client: RedisClientLike; pending: { reject: (error: Error) => void; resolve: (value: unknown) => void }[] } {
  const pending: { reject: (error: Error) => void; resolve: (value: unknown) => void }[] = [];
  const hang = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      pending.push({ reject, resolve: (value) => resolve(value as T) });
    });
  return {
    client: { get: () => hang(), set: () => hang(), del: () => hang(), eval: () => hang() },
    pending,
  };
}

const answering: RedisClientLike = {
  get: () => Promise.resolve('v'),
  set: () => Promise.resolve('OK'),
  del: () => Promise.resolve(1),
  eval: () => Promise.resolve(1),
};

describe('redisStorage command deadlines', () => {
  it('ends every operation of a connection that never answers in a retryable storage_error naming the command', async () => {
    const { client } = hungClient();
    const storage = redisStorage(client, { prefix: 'p:', commandTimeoutMs: 20, waitMs: 20 });
    const operations: [string, () => Promise<unknown>][] = [
      ['GET p:k', () => storage.get('k')],
      ['SET p:k', () => storage.set('k', 'v')],
      ['DEL p:k', () => storage.remove('k')],
      ['SET NX p:lock:k', () => lockOf(storage)('k', () => Promise.resolve())],
    ];
    for (const [command, operation] of operations) {
      const error = await failure(operation);
      expectRetryableStorageError(error);
      expect((error as OAuthError).description).toContain(command);
    }
  });

  it('drops a reply that comes after the deadline, even a failure, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { client, pending } = hungClient();
      const storage = redisStorage(client, { commandTimeoutMs: 20, waitMs: 20 });
      expectRetryableStorageError(await failure(() => storage.get('k')));
      expectRetryableStorageError(await failure(() => storage.set('k', 'v')));
      expectRetryableStorageError(await failure(() => lockOf(storage)('k', () => Promise.resolve())));
      // Everything sent so far answers late; half of it with a failure, as a connection that breaks would.
      for (const [index, { reject, resolve }] of pending.entries()) {
        if (index % 2 === 0) reject(new Error('Socket closed unexpectedly'));
        else resolve('OK');
      }
      // Node reports an unhandled rejection after the microtask queue drains: give it two macrotask turns.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('clears the deadline of every command once it is answered, so no timer outlives an operation', async () => {
    vi.useFakeTimers();
    try {
      const storage = redisStorage(answering);
      expect(await storage.get('k')).toBe('v');
      await storage.set('k', 'v');
      await storage.remove('k');
      expect(await lockOf(storage)('k', () => Promise.resolve('ran'))).toBe('ran');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses option keys it does not know with a TypeError naming the key', () => {
    expect(() => redisStorage(answering, { commandTimeoutMS: 100 } as RedisStorageOptions)).toThrow(
      new TypeError('redisStorage: unknown option commandTimeoutMS'),
    );
    expect(() => redisStorage(answering, { prefix: 'p:', lockTTL: 5 } as RedisStorageOptions)).toThrow(/lockTTL/);
  });

  it('refuses a commandTimeoutMs that is not a positive number of milliseconds', () => {
    for (const commandTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => redisStorage(answering, { commandTimeoutMs })).toThrow(TypeError);
    }
  });
});
