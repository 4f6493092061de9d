/**
 * The point of the Redis adapter: two processes (two `createOAuthClient`
 * instances, each with its own Redis connection) share one session, and a
 * refresh due in both at once spends the refresh token exactly once.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OAuthClient } from '../src/client.js';
import { redisStorage } from '../src/redis/index.js';
import type { StorageService } from '../src/services/types.js';
import { createWorld, signIn, type World } from './client.fixtures.js';
import { connectRedis, describeRedis, startRedisServer, type RedisConnection, type RunningRedis } from './support/redis.js';

const HOUR = 3_600_000;

describeRedis('two processes sharing a session through Redis', () => {
  let server: RunningRedis;
  let one: RedisConnection;
  let two: RedisConnection;
  let prefixes = 0;

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

  /** Process A signs in; process B starts later and restores the session A stored. */
  async function twoProcesses(
    world: World,
    storages: (prefix: string) => { a: StorageService; b: StorageService },
  ): Promise<{ a: OAuthClient<'authorization_code'>; b: OAuthClient<'authorization_code'> }> {
    const { a: storageA, b: storageB } = storages(`client-test-${(prefixes += 1)}:`);
    const a = world.client('authorization_code', { services: { ...world.services, storage: storageA } });
    await signIn(world, a);
    const b = world.client('authorization_code', { services: { ...world.services, storage: storageB } });
    await b.ready;
    expect((await b.getTokens())?.accessToken).toBe((await a.getTokens())?.accessToken);
    return { a, b };
  }

  const redisPair = (prefix: string): { a: StorageService; b: StorageService } => ({
    a: redisStorage(one, { prefix, retryDelayMs: 5 }),
    b: redisStorage(two, { prefix, retryDelayMs: 5 }),
  });

  it('a refresh due in both at once: exactly one refresh request, and both get the same new token', async () => {
    const world = await createWorld();
    const { a, b } = await twoProcesses(world, redisPair);
    const before = await a.getAccessToken();
    world.clock.advance(HOUR + 1_000); // expired in both: their callers wait for the refresh
    world.server.fail('token', { delayMs: 30 }); // the refresh takes a while: both are surely waiting by then

    const tokens = await Promise.all([a.getAccessToken(), b.getAccessToken()]);

    expect(world.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[0]).not.toBe(before);
    // The refresh token was spent once: no reuse was detected, the new tokens work for both.
    expect((await a.getTokens())?.refreshToken).toBe((await b.getTokens())?.refreshToken);
    world.clock.advance(HOUR + 1_000);
    const next = await Promise.all([b.getAccessToken(), a.getAccessToken()]);
    expect(world.server.tokenRequests('refresh_token')).toHaveLength(2);
    expect(next[0]).toBe(next[1]);
    a.stop();
    b.stop();
  });

  it('without the lock, the same race spends the refresh token twice (what the lock prevents)', async () => {
    const world = await createWorld();
    const withoutLock = (prefix: string): { a: StorageService; b: StorageService } => {
      const { a, b } = redisPair(prefix);
      return {
        a: { get: (k) => a.get(k), set: (k, v) => a.set(k, v), remove: (k) => a.remove(k) },
        b: { get: (k) => b.get(k), set: (k, v) => b.set(k, v), remove: (k) => b.remove(k) },
      };
    };
    const { a, b } = await twoProcesses(world, withoutLock);
    world.clock.advance(HOUR + 1_000); // expired: both wait for their own refresh
    world.server.fail('token', { delayMs: 30 }, { times: 2 }); // both read the old session before either stores

    await Promise.allSettled([a.getAccessToken(), b.getAccessToken()]);

    expect(world.server.tokenRequests('refresh_token')).toHaveLength(2);
    a.stop();
    b.stop();
  });

  it('property: for any number of callers in each process and any rounds of expiry, one refresh request per round and one token shared by all', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.boolean()), {
          minLength: 1,
          maxLength: 3,
        }),
        async (rounds) => {
          const world = await createWorld();
          const { a, b } = await twoProcesses(world, redisPair);
          try {
            let previous = await a.getAccessToken();
            for (const [callersA, callersB, bFirst] of rounds) {
              const refreshesBefore = world.server.tokenRequests('refresh_token').length;
              world.clock.advance(HOUR + 1_000); // expired: every caller waits for the round's refresh
              const fromA = Array.from({ length: callersA }, () => a.getAccessToken());
              const fromB = Array.from({ length: callersB }, () => b.getAccessToken());
              const tokens = await Promise.all(bFirst ? [...fromB, ...fromA] : [...fromA, ...fromB]);
              expect(world.server.tokenRequests('refresh_token').length - refreshesBefore).toBe(1);
              expect(new Set(tokens).size).toBe(1);
              expect(tokens[0]).not.toBe(previous);
              previous = tokens[0]!;
            }
          } finally {
            a.stop();
            b.stop();
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
