/**
 * The shared token lifecycle (authenticated ⇄ refreshing, expiry timer,
 * logout, tab sync), driven through the authorization code machine against
 * the test authorization server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { persistSnapshot, restoreActor } from '../machines/snapshots.js';
import { startTimer } from '../machines/timers.js';
import { backoffDelay } from '../src/session/backoff.js';
import { systemClock } from '../src/services/clock.js';
import { OAuthError } from '../src/errors.js';
import type { StorageService } from '../src/services/types.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { createHarness, settled, stateOf, storedSession, type Harness, type HarnessOptions } from './machines.fixtures.js';

type AuthActor = Actor<typeof authorizationCodeMachine>;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function signedIn(options: HarnessOptions = {}): Promise<{ h: Harness; actor: AuthActor }> {
  const h = createHarness(options);
  const actor = h.start(authorizationCodeMachine);
  await settled(actor);
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  actor.send({ type: 'CALLBACK', url: await h.server.authorize(actor.getSnapshot().context.authorizationUrl!) });
  await settled(actor);
  expect(stateOf(actor)).toBe('authenticated');
  return { h, actor };
}

function tokensOf(actor: AuthActor) {
  const tokens = actor.getSnapshot().context.tokens;
  if (tokens === undefined) throw new Error(`no tokens in ${stateOf(actor)}`);
  return tokens;
}

describe('refresh', () => {
  it('REFRESH rotates the tokens and stores the new ones', async () => {
    const { h, actor } = await signedIn();
    const before = tokensOf(actor);
    actor.send({ type: 'REFRESH' });
    expect(stateOf(actor)).toBe('refreshing');
    expect(actor.getSnapshot().hasTag('signedIn')).toBe(true);
    await settled(actor);
    const after = tokensOf(actor);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(h.server.isActive(before.refreshToken!)).toBe(false);
    expect((await storedSession(h.storage))?.tokens).toMatchObject({ refreshToken: after.refreshToken });
  });

  it('keeps the old refresh token when the response has none', async () => {
    const { h, actor } = await signedIn({ server: { rotateRefreshTokens: false } });
    const before = tokensOf(actor);
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    expect(tokensOf(actor).accessToken).not.toBe(before.accessToken);
    expect(tokensOf(actor).refreshToken).toBe(before.refreshToken);
    expect((await storedSession(h.storage))?.tokens).toMatchObject({ refreshToken: before.refreshToken });
  });

  it('fires the expiry timer at expiresAt − refreshSkewMs, not before', async () => {
    const { h, actor } = await signedIn({ grant: { refreshSkewMs: 30_000 } });
    const { expiresAt } = tokensOf(actor);
    await h.advance(expiresAt! - h.server.clock.now() - 30_001);
    expect(stateOf(actor)).toBe('authenticated');
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(0);
    await h.advance(1);
    await settled(actor);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(tokensOf(actor).expiresAt).toBeGreaterThan(expiresAt!);
  });

  it('a token that lives shorter than the skew is refreshed halfway through its life, not in a loop', async () => {
    const { h, actor } = await signedIn({ server: { accessTokenTtl: 30 }, grant: { refreshSkewMs: 60_000 } });
    await h.advance(14_999);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(0);
    await h.advance(1);
    await settled(actor);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    await h.advance(14_999);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    await h.advance(1);
    await settled(actor);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(2);
  });

  it('invalid_grant ends the session: tokens cleared from context and storage', async () => {
    const { h, actor } = await signedIn();
    h.server.revokeToken(tokensOf(actor).refreshToken!);
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    const { context } = actor.getSnapshot();
    expect(context.error?.code).toBe('invalid_grant');
    expect(context.tokens).toBeUndefined();
    expect(context.staleTokens).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('a retryable failure retries with backoff, keeps serving the valid access token, and keeps the refresh token', async () => {
    const { h, actor } = await signedIn({ grant: { maxRefreshAttempts: 3, retryBaseMs: 1_000 } });
    const before = tokensOf(actor);
    h.server.fail('token', { status: 503 }, { times: 10 });
    actor.send({ type: 'REFRESH' });
    await vi.advanceTimersByTimeAsync(0);
    expect(stateOf(actor)).toBe('refreshing');
    expect(tokensOf(actor).accessToken).toBe(before.accessToken);
    expect(actor.getSnapshot().hasTag('signedIn')).toBe(true);
    // While it backs off, the failure being retried shows in context (a caller serves the valid token meanwhile).
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(actor.getSnapshot().context.error).toMatchObject({ status: 503, retryable: true });
    // Backoff: ≤ 1 s, then ≤ 2 s, on the clock.
    for (let waited = 0; waited < 3_000; waited += 100) await h.advance(100);
    await settled(actor);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(3);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.error).toMatchObject({ status: 503, retryable: true });
    expect(tokensOf(actor)).toEqual(before);
    expect((await storedSession(h.storage))?.tokens).toMatchObject({ refreshToken: before.refreshToken });
  });

  it('a retryable failure after the access token expired goes to error keeping the refresh token; RETRY recovers', async () => {
    const { h, actor } = await signedIn({ grant: { maxRefreshAttempts: 2, retryBaseMs: 10 } });
    const before = tokensOf(actor);
    h.server.fail('token', { drop: true }, { times: 2 });
    h.server.clock.advance(before.expiresAt! - h.server.clock.now() + 1);
    actor.send({ type: 'REFRESH' });
    for (let waited = 0; waited < 100; waited += 10) await h.advance(10);
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    const { context } = actor.getSnapshot();
    expect(context.error?.retryable).toBe(true);
    expect(context.tokens).toBeUndefined();
    expect(context.staleTokens?.refreshToken).toBe(before.refreshToken);
    expect(await storedSession(h.storage)).not.toBeNull();
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(tokensOf(actor).refreshToken).not.toBe(before.refreshToken);
  });

  it('after a failed refresh the timer waits out the backoff rather than hammering the server', async () => {
    const { h, actor } = await signedIn({ grant: { maxRefreshAttempts: 1, refreshSkewMs: 60_000, retryBaseMs: 40_000 } });
    const { expiresAt } = tokensOf(actor);
    h.server.fail('token', { status: 503 });
    await h.advance(expiresAt! - h.server.clock.now() - 60_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    // The first backoff is 20–40 s (half to all of retryBaseMs), before the token expires.
    const { retryNotBefore } = actor.getSnapshot().context;
    const wait = retryNotBefore! - h.server.clock.now();
    expect(wait).toBeGreaterThanOrEqual(20_000);
    expect(wait).toBeLessThanOrEqual(40_000);
    await h.advance(wait - 1);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    await h.advance(1);
    await settled(actor);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(2);
    expect(actor.getSnapshot().context.error).toBeUndefined();
    expect(actor.getSnapshot().context.retryNotBefore).toBeUndefined();
  });

  it('tokens without expiresAt never schedule a refresh (Poe: api_key_expires_in null)', async () => {
    const { h, actor } = await signedIn({
      server: { quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: null } },
      provider: {
        quirks: {
          mapTokenResponse: (body) => ({ access_token: body.api_key, token_type: 'Bearer', expires_in: body.api_key_expires_in }),
        },
      },
    });
    expect(tokensOf(actor).expiresAt).toBeUndefined();
    await h.advance(365 * 24 * 3_600_000);
    expect(stateOf(actor)).toBe('authenticated');
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(0);
  });

  it('without a refresh token the session ends at expiry with login_required', async () => {
    const h = createHarness({ client: { scopes: ['openid'] } });
    const actor = h.start(authorizationCodeMachine);
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    actor.send({ type: 'CALLBACK', url: await h.server.authorize(actor.getSnapshot().context.authorizationUrl!) });
    await settled(actor);
    const { expiresAt, refreshToken } = tokensOf(actor);
    expect(refreshToken).toBeUndefined();
    await h.advance(expiresAt! - h.server.clock.now() - 1);
    expect(stateOf(actor)).toBe('authenticated');
    await h.advance(1);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('login_required');
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
    await vi.runOnlyPendingTimersAsync();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('new tokens that cannot be stored are kept in memory and the storage failure is reported', async () => {
    const backing = memoryStorage();
    let failWrites = false;
    const storage: StorageService = {
      get: (key) => backing.get(key),
      remove: (key) => backing.remove(key),
      set: (key, value) => (failWrites ? Promise.reject(new Error('disk full')) : backing.set(key, value)),
    };
    const { actor } = await signedIn({ storage });
    const before = tokensOf(actor);
    failWrites = true;
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(tokensOf(actor).refreshToken).not.toBe(before.refreshToken);
    expect(actor.getSnapshot().context.error?.code).toBe('storage_error');
  });
});

describe('refresh across tabs', () => {
  it('two actors on one storage refresh once: the second adopts the tokens the first stored', async () => {
    const { h, actor: first } = await signedIn();
    const second = h.start(authorizationCodeMachine);
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
    const before = tokensOf(first);
    first.send({ type: 'REFRESH' });
    second.send({ type: 'REFRESH' });
    await settled(first);
    await settled(second);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(tokensOf(second)).toEqual(tokensOf(first));
    expect(tokensOf(first).refreshToken).not.toBe(before.refreshToken);
    expect(h.server.isActive(tokensOf(first).refreshToken!)).toBe(true);
  });

  it('a tab that refreshes after another already rotated adopts the newer stored tokens without a request', async () => {
    const { h, actor: first } = await signedIn();
    const second = h.start(authorizationCodeMachine);
    await settled(second);
    first.send({ type: 'REFRESH' });
    await settled(first);
    h.server.clock.advance(1);
    second.send({ type: 'REFRESH' });
    await settled(second);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(tokensOf(second).refreshToken).toBe(tokensOf(first).refreshToken);
  });

  it('SESSION_CHANGED with tokens adopts them; without tokens returns to idle', async () => {
    const { actor } = await signedIn();
    const tokens = { ...tokensOf(actor), accessToken: 'from-another-tab' };
    actor.send({ type: 'SESSION_CHANGED', tokens });
    expect(stateOf(actor)).toBe('authenticated');
    expect(tokensOf(actor).accessToken).toBe('from-another-tab');
    actor.send({ type: 'SESSION_CHANGED' });
    expect(stateOf(actor)).toBe('idle');
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
  });
});

describe('logout during a refresh', () => {
  it('LOGOUT while refreshing stops the refresh and still revokes and clears', async () => {
    const { h, actor } = await signedIn();
    h.server.fail('token', { delayMs: 5_000 });
    actor.send({ type: 'REFRESH' });
    await vi.advanceTimersByTimeAsync(10);
    actor.send({ type: 'LOGOUT' });
    expect(stateOf(actor)).toBe('loggingOut');
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(await storedSession(h.storage)).toBeNull();
    expect(h.actorErrors).toEqual([]);
  });
});

describe('stop mid-refresh', () => {
  it('stopping during a backoff wait aborts it and leaves no unhandled rejection', async () => {
    const { h, actor } = await signedIn({ grant: { maxRefreshAttempts: 3, retryBaseMs: 10_000 } });
    h.server.fail('token', { status: 503 }, { times: 3 });
    actor.send({ type: 'REFRESH' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    actor.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(h.actorErrors).toEqual([]);
  });

  it('stopping during the refresh request does not abort the fetch: the rotated tokens are stored', async () => {
    const { h, actor } = await signedIn();
    const before = tokensOf(actor);
    const signals: Array<AbortSignal | undefined> = [];
    const fetch = h.services.fetch;
    h.services.fetch = (input, init) => {
      signals.push(init?.signal ?? undefined);
      return fetch(input, init);
    };
    h.server.fail('token', { delayMs: 5_000 });
    actor.send({ type: 'REFRESH' });
    await vi.advanceTimersByTimeAsync(10);
    expect(signals).toHaveLength(1); // the refresh request is on its way
    actor.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    // The old refresh token is spent at the server: the new one must be stored, or the next start replays the old.
    const storedTokens = async () => (await storedSession(h.storage))?.tokens as { refreshToken?: string } | undefined;
    await vi.waitFor(async () => expect((await storedTokens())?.refreshToken).not.toBe(before.refreshToken));
    expect(signals.at(-1)?.aborted ?? false).toBe(false);
    expect(h.server.tokenRequests('refresh_token')).toMatchObject([{ status: 200 }]);
    expect(h.server.isActive(before.refreshToken!)).toBe(false);
    const stored = await storedTokens();
    expect(h.server.isActive(stored?.refreshToken ?? '')).toBe(true);
    expect(h.actorErrors).toEqual([]);
  });
});

describe('persisted XState snapshots', () => {
  it('the runtime dependencies are in no persisted or serialised data; restoreActor brings back a running expiry timer', async () => {
    const { h, actor } = await signedIn({ grant: { refreshSkewMs: 60_000 } });
    const context: object = actor.getSnapshot().context;
    for (const key of ['provider', 'client', 'services', 'options']) expect(Object.keys(context)).not.toContain(key);
    // What an inspector sends over the wire, and what persistSnapshot keeps: data only, no endpoint, no client.
    expect(JSON.stringify(actor.getSnapshot())).not.toContain(h.provider.tokenEndpoint);
    const snapshot = persistSnapshot(actor);
    const text = JSON.stringify(snapshot);
    expect(text).not.toContain(h.provider.tokenEndpoint);
    expect(text).not.toContain('"clientId"');
    expect(text).not.toContain('"storageKey"');
    // The expiry timer runs: its input was persisted too, as data.
    expect(Object.keys(snapshot.children as object)).toContain('expiryTimer');
    const { expiresAt } = tokensOf(actor);
    actor.stop();
    const restored = restoreActor(authorizationCodeMachine, JSON.parse(text), h.input);
    restored.start();
    expect(stateOf(restored)).toBe('authenticated');
    await h.advance(expiresAt! - h.server.clock.now() - 60_000);
    await settled(restored);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(tokensOf(restored).expiresAt).toBeGreaterThan(expiresAt!);
  });

  it('persistSnapshot refuses a state in the middle of a request', async () => {
    const { h, actor } = await signedIn();
    h.server.fail('token', { delayMs: 1_000 });
    actor.send({ type: 'REFRESH' });
    expect(() => persistSnapshot(actor)).toThrow(OAuthError);
    expect(() => persistSnapshot(actor)).toThrow(/not a stable state/);
    await vi.advanceTimersByTimeAsync(1_000);
  });
});

describe('timers', () => {
  it('backoff is retryBaseMs · 2^attempt · (0.5..1) from the crypto service', () => {
    const low = { randomBytes: (n: number) => new Uint8Array(n), sha256: async () => new Uint8Array(32) };
    const high = { randomBytes: (n: number) => new Uint8Array(n).fill(255), sha256: async () => new Uint8Array(32) };
    expect(backoffDelay(low, 1_000, 0)).toBe(500);
    expect(backoffDelay(low, 1_000, 3)).toBe(4_000);
    expect(backoffDelay(high, 1_000, 3)).toBeLessThan(8_000);
    expect(backoffDelay(high, 1_000, 3)).toBeGreaterThan(7_999);
  });

  it('a timer on the system clock longer than setTimeout allows (2^31 − 1 ms) fires at its time, not at once', async () => {
    let fired = false;
    const cancel = startTimer(systemClock, 3_000_000_000, () => {
      fired = true;
    });
    await vi.advanceTimersByTimeAsync(2_999_999_999);
    expect(fired).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toBe(true);
    cancel();
  });
});
