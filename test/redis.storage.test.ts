/**
 * redisStorage's values against a real redis-server: the round trip under
 * the prefix, time to live, and failures of the client as `storage_error`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { redisStorage, type RedisClientLike } from '../src/redis/index.js';
import { connectRedis, describeRedis, startRedisServer, type RedisConnection, type RunningRedis } from './support/redis.js';

describeRedis('redisStorage values', () => {
  let server: RunningRedis;
  let redis: RedisConnection;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url);
  });

  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('round-trips get, set and remove under the default prefix', async () => {
    const storage = redisStorage(redis);
    expect(await storage.get('session')).toBeNull();
    await storage.set('session', '{"tokens":1}');
    expect(await storage.get('session')).toBe('{"tokens":1}');
    expect(await redis.get('oauth-machines:session')).toBe('{"tokens":1}');
    expect(await redis.pTTL('oauth-machines:session')).toBe(-1); // no TTL unless asked for
    await storage.remove('session');
    expect(await storage.get('session')).toBeNull();
    expect(await redis.exists('oauth-machines:session')).toBe(0);
  });

  it('keeps storages with different prefixes apart', async () => {
    const a = redisStorage(redis, { prefix: 'app-a:' });
    const b = redisStorage(redis, { prefix: 'app-b:' });
    await a.set('k', 'from a');
    await b.set('k', 'from b');
    expect(await a.get('k')).toBe('from a');
    expect(await b.get('k')).toBe('from b');
    expect(await redis.get('app-a:k')).toBe('from a');
    await a.remove('k');
    expect(await b.get('k')).toBe('from b');
  });

  it('stores values with ttlMs as their time to live, and they expire', async () => {
    const storage = redisStorage(redis, { prefix: 'ttl:', ttlMs: 300 });
    await storage.set('k', 'v');
    const ttl = await redis.pTTL('ttl:k');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    let value: string | null = 'v';
    for (let i = 0; i < 100 && value !== null; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      value = await storage.get('k');
    }
    expect(value).toBeNull();
  });

  it('turns a closed connection into a retryable storage_error with the client error as cause, for every operation', async () => {
    const closed = await connectRedis(server.url);
    await closed.close();
    const storage = redisStorage(closed);
    for (const operation of [
      () => storage.get('k'),
      () => storage.set('k', 'v'),
      () => storage.remove('k'),
      () => storage.lock!('k', () => Promise.resolve('ran')),
    ]) {
      const error = await operation().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'storage_error', retryable: true });
      expect((error as OAuthError).cause).toBeInstanceOf(Error);
    }
  });

  it('rejects a set that the client does not acknowledge, so a value is never lost silently', async () => {
    const unacknowledged: RedisClientLike = {
      get: () => Promise.resolve(null),
      set: () => Promise.resolve(null),
      del: () => Promise.resolve(0),
      eval: () => Promise.resolve(0),
    };
    await expect(redisStorage(unacknowledged).set('k', 'v')).rejects.toMatchObject({ code: 'storage_error' });
  });

  it('refuses options that are not milliseconds', () => {
    expect(() => redisStorage(redis, { lockTtlMs: 0 })).toThrow(TypeError);
    expect(() => redisStorage(redis, { lockTtlMs: 1.5 })).toThrow(TypeError);
    expect(() => redisStorage(redis, { ttlMs: -1 })).toThrow(TypeError);
    expect(() => redisStorage(redis, { waitMs: Number.NaN })).toThrow(TypeError);
    expect(() => redisStorage(redis, { retryDelayMs: 0 })).toThrow(TypeError);
  });

  it('works through the documented ioredis wrapper (an ioredis-shaped client over raw commands)', async () => {
    // The call shapes of ioredis (variadic SET flags, EVAL with numkeys), sent as raw commands.
    const send = (args: string[]): Promise<unknown> => redis.sendCommand(args);
    const ioredisLike = {
      get: (key: string) => send(['GET', key]) as Promise<string | null>,
      set: (key: string, value: string, ...flags: (string | number)[]) =>
        send(['SET', key, value, ...flags.map(String)]) as Promise<string | null>,
      del: (key: string) => send(['DEL', key]),
      eval: (script: string, numKeys: number, ...rest: string[]) => send(['EVAL', script, String(numKeys), ...rest]),
    };
    // The wrapper as docs/server.md and the RedisClientLike TSDoc show it.
    const client: RedisClientLike = {
      get: (key) => ioredisLike.get(key),
      set: (key, value, o = {}) =>
        o.PX === undefined
          ? ioredisLike.set(key, value)
          : o.NX
            ? ioredisLike.set(key, value, 'PX', o.PX, 'NX')
            : ioredisLike.set(key, value, 'PX', o.PX),
      del: (key) => ioredisLike.del(key),
      eval: (script, { keys, arguments: args }) => ioredisLike.eval(script, keys.length, ...keys, ...args),
    };
    const storage = redisStorage(client, { prefix: 'io:' });
    await storage.set('k', 'v');
    expect(await storage.get('k')).toBe('v');
    expect(await storage.lock!('k', async () => redis.get('io:lock:k'))).toMatch(/^[0-9a-f]{32}$/);
    expect(await redis.exists('io:lock:k')).toBe(0);
    await storage.remove('k');
    expect(await storage.get('k')).toBeNull();
  });
});
