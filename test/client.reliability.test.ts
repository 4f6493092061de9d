/**
 * Regression tests for the client's reliability promises under a hostile or
 * failing provider: each `describe` is one defect found by adversarial
 * testing, and each test failed before its fix.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import type { StorageService } from '../src/services/types.js';
import { createWorld, signIn, tokenRequests, type World } from './client.fixtures.js';
import { noUnhandledRejection, unhandledRejections } from './support/invariants.js';

const unhandled = unhandledRejections();
beforeEach(() => {
  unhandled.list.length = 0;
  unhandled.start();
});
afterEach(() => {
  unhandled.stop();
  vi.useRealTimers();
  noUnhandledRejection(unhandled.list);
});

const HOUR = 3_600_000;
const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the outcome of `promise`, or `'pending'` if it has not settled after `ms` of real time. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'pending'> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    realDelay(ms).then(() => 'pending' as const),
  ]);
}

/** A `fetch` that rewrites the token endpoint's successful answers with `edit`. */
function editingTokenResponses(world: World, edit: (body: Record<string, unknown>) => Record<string, unknown>): typeof fetch {
  return async (input, init) => {
    const response = await world.server.fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.endsWith('/token') || !response.ok) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(edit(body)), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/** The refresh token the stored session holds. */
async function storedRefreshToken(storage: StorageService, key = 'oauth-machines'): Promise<string | undefined> {
  const text = await storage.get(key);
  if (text === null) return undefined;
  const blob = JSON.parse(text) as { tokens?: { refreshToken?: string } };
  return blob.tokens?.refreshToken;
}

describe('a token lifetime the server gets wrong never drives a request loop', () => {
  it.each([0, -5, 0.0001, 1])('expires_in %s: the background renewal waits at least the minimum interval', async (expiresIn) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const world = await createWorld();
    const client = world.client('client_credentials', {
      services: { ...world.services, fetch: editingTokenResponses(world, (body) => ({ ...body, expires_in: expiresIn })) },
    });
    const first = client.getAccessToken();
    // Ten seconds of timers, with the clock following them: at most one renewal per 5 s minimum interval.
    for (let step = 0; step < 100; step += 1) {
      world.clock.advance(100);
      await vi.advanceTimersByTimeAsync(100);
    }
    await expect(first).resolves.toEqual(expect.any(String));
    expect(tokenRequests(world, 'client_credentials')).toBeGreaterThanOrEqual(1);
    expect(tokenRequests(world, 'client_credentials')).toBeLessThanOrEqual(3);
    client.stop();
  });

  it('a caller demanding a token that expired inside the minimum interval is not answered with a new request each time', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials', {
      services: { ...world.services, fetch: editingTokenResponses(world, (body) => ({ ...body, expires_in: 1 })) },
    });
    await client.getAccessToken();
    world.clock.advance(2_000); // expired, but the minimum renewal interval has not passed
    const burst = Array.from({ length: 50 }, () => within(client.getAccessToken(), 50));
    await Promise.all(burst);
    expect(tokenRequests(world, 'client_credentials')).toBe(1);
    client.stop();
  });
});

describe('a stalled refresh does not hold up callers while the access token is valid', () => {
  it('getAccessToken() answers with the held token at once while the refresh is under way', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const held = await client.getAccessToken();
    world.clock.advance(HOUR - 30_000); // inside the refresh window, still valid for 30 s
    world.server.fail('token', { delayMs: 60_000 });

    const outcome = await within(client.getAccessToken(), 200);
    expect(outcome).toEqual({ value: held });
    expect(client.actor.getSnapshot().hasTag('busy')).toBe(true); // the refresh is under way
    const again = await within(client.getAccessToken(), 200);
    expect(again).toEqual({ value: held });
    client.stop();
  });
});

describe('a malformed refresh answer leaves the session renewable', () => {
  it.each([
    ['an HTML 200 page', { notJson: true } as const],
    ['a 403 page', { status: 403, body: '<html>blocked</html>' } as const],
    ['JSON with wrong types', { wrongShape: true } as const],
  ])('after %s, a later getAccessToken() refreshes with the stored refresh token', async (_name, fault) => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { retryBaseMs: 1 } });
    await signIn(world, client);
    world.clock.advance(HOUR + 1_000); // expired: no token to serve
    world.server.fail('token', fault);

    const first = await client.getAccessToken().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(OAuthError);
    expect((first as OAuthError).code).not.toBe('login_required');

    world.clock.advance(60_000); // past any backoff
    await realDelay(5);
    const token = await client.getAccessToken();
    expect(token).toBe((await client.getTokens())?.accessToken);
    expect(tokenRequests(world, 'refresh_token')).toBe(2);
    client.stop();
  });

  it('a login that fails after a failed renewal leaves the set-aside tokens renewable, and stored', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { retryBaseMs: 1 } });
    await signIn(world, client);
    world.clock.advance(HOUR + 1_000);
    world.server.fail('token', { notJson: true }, { times: 2 });
    await expect(client.getAccessToken()).rejects.toBeInstanceOf(OAuthError); // the refresh fails: tokens set aside
    // A new login keeps its pending authorization beside the stored session; its exchange fails too.
    await expect(signIn(world, client)).rejects.toBeInstanceOf(OAuthError);
    expect(JSON.parse((await world.storage.get('oauth-machines')) ?? 'null')).toMatchObject({ state: 'authenticated' });

    world.clock.advance(60_000); // past any backoff
    await expect(client.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(tokenRequests(world, 'refresh_token')).toBe(2);
    client.stop();
  });

  it('a burst of callers after the failure does not send a request each: they wait out the backoff', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { retryBaseMs: 10_000 } });
    await signIn(world, client);
    world.clock.advance(HOUR + 1_000);
    world.server.fail('token', { notJson: true }, { times: 100 });

    await client.getAccessToken().catch(() => undefined);
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => client.getAccessToken()));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(outcome.status === 'rejected' ? outcome.reason : undefined).toBeInstanceOf(OAuthError);
    }
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });
});

describe('stop() never throws away tokens the server issued', () => {
  it('a refresh sent before stop() is completed and stored, so the next client never replays the spent refresh token', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const spent = await storedRefreshToken(world.storage);
    world.clock.advance(HOUR + 1_000);
    world.server.fail('token', { delayMs: 30 });

    const waiting = client.getAccessToken();
    await realDelay(5); // the refresh request is on its way
    client.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    await realDelay(80); // the server answers; the stopped client still stores what it got

    const stored = await storedRefreshToken(world.storage);
    expect(stored).toBeDefined();
    expect(stored).not.toBe(spent);

    const next = world.client('authorization_code');
    await next.getAccessToken();
    const refreshes = world.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token');
    expect(refreshes.every((entry) => entry.status === 200)).toBe(true);
    expect(refreshes).toHaveLength(1);
    next.stop();
  });

  it('a code exchange sent before stop() is stored, and the code is not sent again', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const url = await client.login();
    const callback = await world.server.authorize(url);
    world.server.fail('token', { delayMs: 30 });
    const exchange = client.handleCallback(callback);
    await realDelay(5);
    client.stop();
    await expect(exchange).rejects.toMatchObject({ code: 'aborted' });
    // The answer arrives after the stop, and is stored all the same (no fixed wait: a loaded machine is slower).
    await vi.waitFor(async () => expect(JSON.parse((await world.storage.get('oauth-machines')) ?? 'null')).toMatchObject({ state: 'authenticated' }), { timeout: 2_000 });

    const next = world.client('authorization_code');
    await expect(next.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(tokenRequests(world, 'authorization_code')).toBe(1);
    next.stop();
  });
});

describe('one authorization code leaves the client at most once', () => {
  it('two clients on one storage handling the same callback send the code once', async () => {
    const world = await createWorld();
    const first = world.client('authorization_code');
    const callback = await world.server.authorize(await first.login());
    first.stop();

    // The callback page loaded twice: two fresh clients restore the same pending authorization.
    const a = world.client('authorization_code');
    const b = world.client('authorization_code');
    await Promise.all([a.ready, b.ready]);
    const outcomes = await Promise.allSettled([a.handleCallback(callback), b.handleCallback(callback)]);

    expect(tokenRequests(world, 'authorization_code')).toBe(1);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(refused?.status === 'rejected' ? refused.reason : undefined).toBeInstanceOf(OAuthError);
    // The winner's tokens are alive: the server did not see a replayed code.
    const winner = outcomes[0]?.status === 'fulfilled' ? a : b;
    await expect(winner.userinfo()).resolves.toMatchObject({ sub: expect.any(String) });
    a.stop();
    b.stop();
  });
});

describe('logout() does not report success while the session is still stored', () => {
  it('rejects with storage_error when storage.remove throws, and a later logout() finishes the job', async () => {
    const world = await createWorld();
    const inner = world.storage;
    let failRemove = false;
    const storage: StorageService = {
      get: (key) => inner.get(key),
      set: (key, value) => inner.set(key, value),
      remove: (key) => (failRemove ? Promise.reject(new Error('disk full')) : inner.remove(key)),
    };
    const client = world.client('authorization_code', { services: { ...world.services, storage } });
    await signIn(world, client);
    failRemove = true;
    await expect(client.logout()).rejects.toMatchObject({ code: 'storage_error' });
    expect(await inner.get('oauth-machines')).not.toBeNull();

    failRemove = false;
    await client.logout();
    expect(await inner.get('oauth-machines')).toBeNull();
    client.stop();
  });
});

describe('a session another client ended stays ended', () => {
  it('a client whose session another client on the same storage logged out sends no refresh and reports login_required', async () => {
    const world = await createWorld();
    const a = world.client('authorization_code');
    await signIn(world, a);
    const b = world.client('authorization_code');
    await b.ready;
    expect(await b.getTokens()).toBeDefined();

    await b.logout();
    expect(await world.storage.get('oauth-machines')).toBeNull();
    const refreshesBefore = tokenRequests(world, 'refresh_token');
    world.clock.advance(2 * HOUR);
    await expect(a.getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
    expect(tokenRequests(world, 'refresh_token')).toBe(refreshesBefore);
    expect(await a.getTokens()).toBeUndefined();
    a.stop();
    b.stop();
  });

  it('a client whose tokens could not be stored keeps renewing them: an empty store is not a logout then', async () => {
    const world = await createWorld();
    const inner = world.storage;
    let failSet = true;
    const storage: StorageService = {
      get: (key) => inner.get(key),
      set: (key, value) => (failSet && key === 'oauth-machines' && value.includes('"authenticated"') ? Promise.reject(new Error('quota')) : inner.set(key, value)),
      remove: (key) => inner.remove(key),
    };
    const client = world.client('authorization_code', { services: { ...world.services, storage } });
    await signIn(world, client).catch(() => undefined);
    expect(await client.getTokens()).toBeDefined();
    failSet = false;
    world.clock.advance(2 * HOUR);
    await expect(client.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });
});

describe('Retry-After and backoff', () => {
  it('a 429 with Retry-After holds the next refresh attempt back at least that long', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { retryBaseMs: 1, maxRefreshAttempts: 1 } });
    await signIn(world, client);
    world.clock.advance(HOUR + 1_000);
    world.server.fail('token', { status: 429, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '120' } });

    await expect(client.getAccessToken()).rejects.toBeInstanceOf(OAuthError);
    world.clock.advance(60_000); // half the server's Retry-After
    await expect(client.getAccessToken()).rejects.toBeInstanceOf(OAuthError);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    world.clock.advance(61_000);
    await expect(client.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(tokenRequests(world, 'refresh_token')).toBe(2);
    client.stop();
  });

  it('a client-credentials client whose server fails does not send a request on every call', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials', { options: { retryBaseMs: 5_000, maxRefreshAttempts: 1 } });
    world.server.fail('token', { status: 503 }, { times: 100 });
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, async () => client.getAccessToken()));
    for (let call = 0; call < 20; call += 1) outcomes.push(...(await Promise.allSettled([client.getAccessToken()])));
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(tokenRequests(world, 'client_credentials')).toBe(1);
    client.stop();
  });
});

describe('getAccessToken() racing stop()', () => {
  it('rejects with aborted, not login_required, when the client is stopped right after the call', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await client.ready;
    await client.login();
    // A refused callback leaves the machine in error.
    await client.handleCallback('http://127.0.0.1:5173/callback?code=x&state=forged').catch(() => undefined);
    const demand = client.getAccessToken();
    client.stop();
    await expect(demand).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('a clock that jumps backwards', () => {
  it('a forced refresh on shared storage does not replay a refresh token another client already rotated', async () => {
    const world = await createWorld();
    const storage = memoryStorage();
    const services = { ...world.services, storage };
    const a = world.client('authorization_code', { services });
    await signIn(world, a);
    const b = world.client('authorization_code', { services });
    await b.ready; // b restored a's session
    world.clock.set(world.clock.now() - HOUR); // the clock jumps back an hour
    a.actor.send({ type: 'REFRESH' });
    await vi.waitFor(() => expect(tokenRequests(world, 'refresh_token')).toBe(1));
    await vi.waitFor(() => expect(a.actor.getSnapshot().hasTag('busy')).toBe(false));

    b.actor.send({ type: 'REFRESH' }); // b still holds the rotated refresh token
    await vi.waitFor(() => expect(b.actor.getSnapshot().hasTag('busy')).toBe(false));
    const refreshes = world.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token');
    expect(refreshes.every((entry) => entry.status === 200)).toBe(true);
    expect(await b.getAccessToken()).toBe(await a.getAccessToken());
    a.stop();
    b.stop();
  });
});

describe('a storage failure is answered as one', () => {
  it('getAccessToken() in an error-tagged state with storage_error rejects with it, not login_required', async () => {
    const world = await createWorld();
    const inner = world.storage;
    const storage: StorageService = {
      get: (key) => inner.get(key),
      set: () => Promise.reject(new Error('disk full')),
      remove: (key) => inner.remove(key),
    };
    const client = world.client('authorization_code', { services: { ...world.services, storage } });
    // The pending authorization cannot be stored: the login fails before it navigates.
    await expect(client.login()).rejects.toMatchObject({ code: 'storage_error' });
    expect(client.getSnapshot()?.hasTag('error')).toBe(true);
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: 'storage_error' });
    expect(world.navigations).toEqual([]);
    client.stop();
  });
});
