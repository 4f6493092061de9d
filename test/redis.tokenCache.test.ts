/**
 * The server token cache on Redis: two processes (two caches, each with its
 * own Redis connection) share one client-credentials token per key — a
 * process started later restores it, and a renewal due in both is one request.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisStorage } from '../src/redis/index.js';
import { createClientCredentialsCache, type ClientCredentialsCache } from '../src/server/index.js';
import type { StorageService } from '../src/services/types.js';
import { createWorld, SERVICE_SECRET, type World } from './client.fixtures.js';
import { connectRedis, describeRedis, startRedisServer, type RedisConnection, type RunningRedis } from './support/redis.js';

describeRedis('the client-credentials token cache on Redis', () => {
  let server: RunningRedis;
  let one: RedisConnection;
  let two: RedisConnection;

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

  const cache = (world: World, storage: StorageService): ClientCredentialsCache =>
    createClientCredentialsCache({
      provider: world.provider,
      client: { clientId: 'service', clientSecret: SERVICE_SECRET, authMethod: 'client_secret_basic', scopes: ['read'] },
      services: { fetch: world.server.fetch, clock: world.clock, storage },
    });

  it('a process started later restores the token, and a renewal due in both is one request shared by both', async () => {
    const world = await createWorld();
    const a = cache(world, redisStorage(one, { prefix: 'cache-test:', retryDelayMs: 5 }));
    const first = await a.getAccessToken();
    expect(world.server.tokenRequests('client_credentials')).toHaveLength(1);

    const b = cache(world, redisStorage(two, { prefix: 'cache-test:', retryDelayMs: 5 }));
    expect(await b.getAccessToken()).toBe(first);
    expect(world.server.tokenRequests('client_credentials')).toHaveLength(1);

    world.clock.advance(3_600_000 + 1_000); // expired in both: the callers wait for the renewal
    world.server.fail('token', { delayMs: 30 });
    const renewed = await Promise.all([
      ...Array.from({ length: 20 }, () => a.getAccessToken()),
      ...Array.from({ length: 20 }, () => b.getAccessToken()),
    ]);

    expect(world.server.tokenRequests('client_credentials')).toHaveLength(2);
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(first);
    a.clear();
    b.clear();
  });
});
