import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { createWorld, REDIRECT_URI, signIn } from './client.fixtures.js';

let unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

describe('stopping the client', () => {
  it('mid-refresh: the waiting callers reject with aborted and nothing is left unhandled, not even when the refresh ends', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    world.clock.advance(3_600_000 + 1_000); // expired: the callers wait for the refresh
    world.server.fail('token', { delayMs: 50 });

    const waiting = Array.from({ length: 10 }, () => client.getAccessToken());
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.stop();

    const outcomes = await Promise.allSettled(waiting);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(outcome.status === 'rejected' ? outcome.reason : undefined).toMatchObject({ code: 'aborted' });
    }
    // The refresh that was sent still completes after stop(): its end must not surface either.
    await new Promise((resolve) => setTimeout(resolve, 80));
    const refreshes = world.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token');
    expect(refreshes.map((entry) => entry.status)).toEqual([200]);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('mid-discovery: ready rejects with aborted and nothing is left unhandled', async () => {
    const world = await createWorld();
    world.server.fail('metadata', { delayMs: 10_000 });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: world.server.issuer },
      client: { clientId: 'spa', redirectUri: REDIRECT_URI },
      services: world.services,
    });
    const login = client.login();
    client.stop();
    await expect(client.ready).rejects.toMatchObject({ code: 'aborted' });
    await expect(login).rejects.toMatchObject({ code: 'aborted' });
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('a stopped client rejects every call with aborted', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    await client.ready;
    client.stop();
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: 'aborted' });
    await expect(client.login()).rejects.toMatchObject({ code: 'aborted' });
    await expect(client.logout()).rejects.toMatchObject({ code: 'aborted' });
  });

  it('an unobserved failing ready is not an unhandled rejection', async () => {
    const world = await createWorld();
    world.server.fail('metadata', { drop: true }, { times: 10 });
    const client = createOAuthClient({
      grant: 'client_credentials',
      provider: { issuer: world.server.issuer },
      client: { clientId: 'service', clientSecret: 'service-secret-that-is-long-enough' },
      services: world.services,
    });
    await settle();
    expect(unhandled).toEqual([]);
    client.stop();
  });
});

describe('stop() builds nothing it does not need', () => {
  it('stopping a client given a full provider makes no AbortController (and so no DOMException)', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await client.ready;
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made += 1;
      }
    };
    try {
      client.stop();
      expect(made).toBe(0);
    } finally {
      globalThis.AbortController = Original;
    }
  });
});
