/**
 * The authorization code machine, one behaviour per test, against the strict
 * in-memory test authorization server with its manual clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fromPromise, type Actor } from 'xstate';
import { authorizationCodeMachine, type ExchangeInput } from '../machines/authorizationCode.js';
import type { NewSession } from '../machines/lifecycleActors.js';
import { createHarness, REDIRECT_URI, settled, stateOf, storedSession, type Harness } from './machines.fixtures.js';

type AuthActor = Actor<typeof authorizationCodeMachine>;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function startIdle(h: Harness, overrides: Parameters<Harness['start']>[1] = {}): Promise<AuthActor> {
  const actor = h.start(authorizationCodeMachine, overrides);
  await settled(actor);
  return actor;
}

/** LOGIN, then the server's redirect back: the callback URL (not yet sent). */
async function redirect(h: Harness, actor: AuthActor): Promise<string> {
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  expect(stateOf(actor)).toBe('awaitingCallback');
  const url = actor.getSnapshot().context.authorizationUrl;
  if (url === undefined) throw new Error('no authorization URL');
  return h.server.authorize(url);
}

async function login(h: Harness, actor: AuthActor): Promise<void> {
  const callback = await redirect(h, actor);
  actor.send({ type: 'CALLBACK', url: callback });
  await settled(actor);
  expect(stateOf(actor)).toBe('authenticated');
}

function withParam(url: string, name: string, value: string | null): string {
  const parsed = new URL(url);
  if (value === null) parsed.searchParams.delete(name);
  else parsed.searchParams.set(name, value);
  return parsed.toString();
}

describe('login', () => {
  it('logs in: redirect, callback, exchange, authenticated, tokens stored', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    expect(stateOf(actor)).toBe('idle');
    await login(h, actor);
    const { context } = actor.getSnapshot();
    expect(context.error).toBeUndefined();
    expect(context.pending).toBeUndefined();
    expect(context.exchange).toBeUndefined();
    expect(context.tokens?.refreshToken).toBeDefined();
    expect(actor.getSnapshot().hasTag('signedIn')).toBe(true);
    const stored = await storedSession(h.storage);
    expect(stored).toMatchObject({ version: 1, machine: 'authorizationCode', state: 'authenticated' });
    expect(stored?.pending).toBeUndefined();
    expect(h.server.tokenRequests('authorization_code')).toHaveLength(1);
    expect(h.actorErrors).toEqual([]);
  });

  it('sends state, an S256 challenge and, with openid, a nonce; stores the pending record before navigating', async () => {
    const h = createHarness();
    const navigated: { url: string; stored: Record<string, unknown> | null }[] = [];
    const services = {
      ...h.services,
      navigate: async (url: string) => {
        navigated.push({ url, stored: await storedSession(h.storage, 'oauth-machines:pending') });
      },
    };
    const actor = await startIdle(h, { services });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(navigated).toHaveLength(1);
    const url = new URL(navigated[0]!.url);
    const pending = actor.getSnapshot().context.pending;
    expect(url.searchParams.get('state')).toBe(pending?.state);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('nonce')).toBe(pending?.nonce);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(navigated[0]!.stored).toMatchObject({ state: 'awaitingCallback', pending: { state: pending?.state } });
  });

  it('sends no nonce without openid, and the scopes of LOGIN', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    actor.send({ type: 'LOGIN', scopes: ['profile'] });
    await settled(actor);
    const url = new URL(actor.getSnapshot().context.authorizationUrl!);
    expect(url.searchParams.has('nonce')).toBe(false);
    expect(url.searchParams.get('scope')).toBe('profile');
    expect(actor.getSnapshot().context.pending?.nonce).toBeUndefined();
  });

  it('a LOGIN sent right after start (during restoring) is remembered and acted on', async () => {
    const h = createHarness();
    const actor = h.start(authorizationCodeMachine);
    expect(stateOf(actor)).toBe('restoring');
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
  });

  it('fails a login without a redirect URI as configuration_error, before anything is sent', async () => {
    const h = createHarness({ client: { redirectUri: '' } });
    const actor = await startIdle(h);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('configuration_error');
    expect(h.server.log).toHaveLength(0);
  });
});

describe('callback checks', () => {
  it('refuses a callback whose state does not match with state_mismatch, and keeps the pending authorization', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    const pending = actor.getSnapshot().context.pending;
    actor.send({ type: 'CALLBACK', url: withParam(callback, 'state', 'forged') });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    expect(actor.getSnapshot().context.error?.code).toBe('state_mismatch');
    expect(actor.getSnapshot().context.pending).toEqual(pending);
    expect((await storedSession(h.storage, 'oauth-machines:pending'))?.pending).toEqual(pending);
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('a forged callback cannot deny the user’s login: the genuine callback after it is redeemed', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: withParam(callback, 'state', 'forged') });
    actor.send({ type: 'CALLBACK', url: `${REDIRECT_URI}?code=attacker&state=%00` });
    actor.send({ type: 'CALLBACK', url: 'not a url' });
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.error).toBeUndefined();
    expect(h.server.tokenRequests()).toHaveLength(1);
  });

  it('its own callback, refused (access_denied), still ends the pending authorization', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = new URL(await redirect(h, actor));
    const denied = `${REDIRECT_URI}?error=access_denied&state=${callback.searchParams.get('state') ?? ''}&iss=${encodeURIComponent(callback.searchParams.get('iss') ?? '')}`;
    actor.send({ type: 'CALLBACK', url: denied });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('access_denied');
    expect(actor.getSnapshot().context.pending).toBeUndefined();
    await vi.waitFor(async () => expect(await storedSession(h.storage)).toBeNull());
    actor.send({ type: 'CALLBACK', url: callback.href });
    await settled(actor);
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('redeems a replayed callback at most once', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: callback });
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    // A fresh actor on the callback page, with the same URL replayed.
    const replay = h.start(authorizationCodeMachine);
    replay.send({ type: 'CALLBACK', url: callback });
    await settled(replay);
    expect(h.server.tokenRequests('authorization_code')).toHaveLength(1);
  });

  it('refuses a callback after the pending authorization expired (pending_expired)', async () => {
    const h = createHarness({ grant: { callbackTtlMs: 60_000 } });
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    h.server.clock.advance(60_001);
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(actor.getSnapshot().context.error?.code).toBe('pending_expired');
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('refuses a callback whose iss is not the issuer (RFC 9207)', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: withParam(callback, 'iss', 'https://evil.test') });
    await settled(actor);
    expect(actor.getSnapshot().context.error?.code).toBe('iss_mismatch');
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('refuses a callback without iss when the provider announces it sends one', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: withParam(callback, 'iss', null) });
    await settled(actor);
    expect(actor.getSnapshot().context.error?.code).toBe('iss_mismatch');
  });

  it('accepts a callback without iss when the provider does not announce RFC 9207', async () => {
    const h = createHarness({ provider: { authorizationResponseIssParameterSupported: false } });
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: withParam(callback, 'iss', null) });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
  });

  it('turns an error callback into a typed error (access_denied)', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    h.server.nextAuthorization({ deny: true });
    const callback = await redirect(h, actor);
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'access_denied', retryable: false });
    expect(actor.getSnapshot().hasTag('error')).toBe(true);
    expect(actor.getSnapshot().context.pending).toBeUndefined();
  });

  it('a failed exchange (server_error) sends the same code again after the backoff, without a new consent', async () => {
    const h = createHarness({ grant: { retryBaseMs: 1_000 } });
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    h.server.fail('token', { oauthError: 'server_error', status: 500 });
    actor.send({ type: 'CALLBACK', url: callback });
    await vi.waitFor(() => expect(actor.getSnapshot().value).toEqual({ exchanging: 'waiting' }));
    expect(actor.getSnapshot().context.error?.code).toBe('server_error');
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);
    h.server.clock.advance(1_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    const exchanges = h.server.tokenRequests('authorization_code');
    expect(exchanges.map((entry) => entry.status)).toEqual([500, 200]);
    expect(new Set(exchanges.map((entry) => entry.params.code)).size).toBe(1);
  });

  it('gives up with the error after maxExchangeAttempts, and RETRY starts a new login rather than redeem the code again', async () => {
    const h = createHarness({ grant: { retryBaseMs: 1_000, maxExchangeAttempts: 2 } });
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    h.server.fail('token', { status: 503 }, { times: 5 });
    actor.send({ type: 'CALLBACK', url: callback });
    await vi.waitFor(() => expect(actor.getSnapshot().value).toEqual({ exchanging: 'waiting' }));
    h.server.clock.advance(1_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ status: 503 });
    expect(h.server.tokenRequests('authorization_code')).toHaveLength(2);
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
  });

  it('never sends the code again past its life, nor after a 4xx other than 429', async () => {
    // A Retry-After longer than the code lives: give up at once.
    const late = createHarness({ grant: { codeLifetimeMs: 30_000 } });
    const lateActor = await startIdle(late);
    const lateCallback = await redirect(late, lateActor);
    late.server.fail('token', { status: 503, headers: { 'retry-after': '60' } });
    lateActor.send({ type: 'CALLBACK', url: lateCallback });
    await settled(lateActor);
    expect(stateOf(lateActor)).toBe('error');
    expect(late.server.tokenRequests('authorization_code')).toHaveLength(1);

    const refused = createHarness();
    const refusedActor = await startIdle(refused);
    const refusedCallback = await redirect(refused, refusedActor);
    refused.server.fail('token', { oauthError: 'invalid_request', status: 400 });
    refusedActor.send({ type: 'CALLBACK', url: refusedCallback });
    await settled(refusedActor);
    expect(stateOf(refusedActor)).toBe('error');
    expect(refused.server.tokenRequests('authorization_code')).toHaveLength(1);
  });

  it('a 429 is sent again once its Retry-After is over', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    const callback = await redirect(h, actor);
    h.server.fail('token', { status: 429, headers: { 'retry-after': '5' } });
    actor.send({ type: 'CALLBACK', url: callback });
    await vi.waitFor(() => expect(actor.getSnapshot().value).toEqual({ exchanging: 'waiting' }));
    h.server.clock.advance(4_000);
    await Promise.resolve();
    expect(actor.getSnapshot().value).toEqual({ exchanging: 'waiting' });
    expect(h.server.tokenRequests('authorization_code')).toHaveLength(1);
    h.server.clock.advance(1_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
  });
});

describe('cancel and logout', () => {
  it('CANCEL while awaiting the callback returns to idle and removes the pending authorization', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    await redirect(h, actor);
    actor.send({ type: 'CANCEL' });
    await settled(actor);
    await vi.runAllTimersAsync();
    expect(stateOf(actor)).toBe('idle');
    expect(actor.getSnapshot().context.pending).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('CANCEL while redirecting leaves no pending authorization behind', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    actor.send({ type: 'LOGIN' });
    expect(stateOf(actor)).toBe('redirecting');
    actor.send({ type: 'CANCEL' });
    expect(stateOf(actor)).toBe('idle');
    await vi.runAllTimersAsync();
    expect(await storedSession(h.storage)).toBeNull();
    expect(h.actorErrors).toEqual([]);
  });

  it('LOGOUT revokes the refresh token, then the access token, clears storage and ends in idle', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    await login(h, actor);
    const tokens = actor.getSnapshot().context.tokens!;
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    const revocations = h.server.log.filter((entry) => entry.endpoint === 'revoke');
    expect(revocations.map((entry) => entry.params.token_type_hint)).toEqual(['refresh_token', 'access_token']);
    expect(h.server.isActive(tokens.accessToken)).toBe(false);
    expect(h.server.isActive(tokens.refreshToken!)).toBe(false);
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
    expect(actor.getSnapshot().context.staleTokens).toBeUndefined();
    expect(actor.getSnapshot().context.error).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('a revocation failure is recorded but does not block the logout', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    await login(h, actor);
    h.server.fail('revoke', { status: 503 }, { times: 2 });
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(actor.getSnapshot().context.error?.status).toBe(503);
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('LOGOUT without a revocation endpoint only clears the session', async () => {
    const h = createHarness();
    const { revocationEndpoint: _, ...provider } = h.provider;
    const actor = await startIdle(h, { provider });
    await login(h, actor);
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(h.server.log.filter((entry) => entry.endpoint === 'revoke')).toHaveLength(0);
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('LOGOUT while awaiting the callback ends the login and clears storage', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    await redirect(h, actor);
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(actor.getSnapshot().context.pending).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
  });
});

describe('restore', () => {
  it('redirect → new actor from storage → callback → authenticated', async () => {
    const h = createHarness();
    const first = await startIdle(h);
    const callback = await redirect(h, first);
    first.stop();
    const second = h.start(authorizationCodeMachine);
    await settled(second);
    expect(stateOf(second)).toBe('awaitingCallback');
    second.send({ type: 'CALLBACK', url: callback });
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
  });

  it('a CALLBACK sent right after start waits for the restore', async () => {
    const h = createHarness();
    const first = await startIdle(h);
    const callback = await redirect(h, first);
    first.stop();
    const second = h.start(authorizationCodeMachine);
    second.send({ type: 'CALLBACK', url: callback });
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
  });

  it('a CALLBACK in idle (restore off) loads the pending authorization from storage first', async () => {
    const h = createHarness({ grant: { restore: false } });
    const first = await startIdle(h);
    const callback = await redirect(h, first);
    first.stop();
    const second = await startIdle(h);
    expect(stateOf(second)).toBe('idle');
    second.send({ type: 'CALLBACK', url: callback });
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
  });

  it('a CALLBACK with nothing pending is refused (pending_missing)', async () => {
    const h = createHarness();
    const actor = await startIdle(h);
    actor.send({ type: 'CALLBACK', url: `${REDIRECT_URI}?code=abc&state=xyz&iss=${encodeURIComponent(h.server.issuer)}` });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('pending_missing');
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('an expired stored pending authorization restores to idle and is removed', async () => {
    const h = createHarness({ grant: { callbackTtlMs: 1_000 } });
    const first = await startIdle(h);
    await redirect(h, first);
    first.stop();
    h.server.clock.advance(5_000);
    const second = await startIdle(h);
    expect(stateOf(second)).toBe('idle');
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('restores an authenticated session, and its refresh timer still fires', async () => {
    const h = createHarness({ grant: { refreshSkewMs: 60_000 } });
    const first = await startIdle(h);
    await login(h, first);
    const before = first.getSnapshot().context.tokens!;
    first.stop();
    const second = await startIdle(h);
    expect(stateOf(second)).toBe('authenticated');
    expect(second.getSnapshot().context.tokens?.accessToken).toBe(before.accessToken);
    await h.advance(before.expiresAt! - h.server.clock.now() - 60_000);
    await settled(second);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(second.getSnapshot().context.tokens?.accessToken).not.toBe(before.accessToken);
  });

  it.each([
    ['not JSON', '{oops'],
    ['an old version', JSON.stringify({ version: 0, machine: 'authorizationCode', state: 'authenticated', savedAt: 1 })],
    ['an unknown machine', JSON.stringify({ version: 1, machine: 'other', state: 'authenticated', savedAt: 1 })],
    ['tokens missing', JSON.stringify({ version: 1, machine: 'authorizationCode', state: 'authenticated', savedAt: 1 })],
  ])('a stored blob that is %s gives idle with a typed invalid_snapshot error, and is removed', async (_, blob) => {
    const h = createHarness();
    await h.storage.set('oauth-machines', blob);
    const actor = await startIdle(h);
    expect(stateOf(actor)).toBe('idle');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'invalid_snapshot', retryable: false });
    expect(await storedSession(h.storage)).toBeNull();
    expect(h.actorErrors).toEqual([]);
  });

  it('with restore off the stored session is not read', async () => {
    const h = createHarness({ grant: { restore: false } });
    const first = await startIdle(h);
    await login(h, first);
    first.stop();
    const second = await startIdle(h);
    expect(stateOf(second)).toBe('idle');
  });
});

describe('stop mid-request', () => {
  it('completes and stores a code exchange that was sent, without aborting it, and leaves no unhandled rejection', async () => {
    const h = createHarness();
    const sent: Array<{ url: string; signal: AbortSignal | undefined }> = [];
    const services = {
      ...h.services,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        sent.push({ url: input instanceof Request ? input.url : String(input), signal: init?.signal ?? undefined });
        return h.server.fetch(input, init);
      },
    };
    const actor = await startIdle(h, { services });
    const callback = await redirect(h, actor);
    h.server.fail('token', { delayMs: 10_000 });
    actor.send({ type: 'CALLBACK', url: callback });
    expect(stateOf(actor)).toBe('exchanging');
    await vi.advanceTimersByTimeAsync(10);
    const exchange = sent.at(-1);
    expect(exchange?.url).toBe(h.provider.tokenEndpoint);
    actor.stop();
    await vi.runAllTimersAsync();
    // The code is spent once sent: stop() does not abort the request, and the tokens it brings are stored
    // (the server's PKCE check is real crypto, outside the fake timers: wait for it).
    await vi.waitFor(async () =>
      expect(await storedSession(h.storage)).toMatchObject({ state: 'authenticated', tokens: { accessToken: expect.any(String) } }),
    );
    expect(exchange?.signal?.aborted ?? false).toBe(false);
    expect(h.server.tokenRequests('authorization_code')).toMatchObject([{ status: 200 }]);
    expect(h.actorErrors).toEqual([]);
  });

  it('a replaced exchange step can stand in for the protocol (machine.provide)', async () => {
    const h = createHarness();
    const machine = authorizationCodeMachine.provide({
      actors: {
        'exchange code for tokens': fromPromise<NewSession, ExchangeInput>(async () => ({
          tokens: { accessToken: 'at', tokenType: 'Bearer', raw: {} },
          savedAt: 0,
        })),
      },
    });
    const actor = h.start(machine);
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    actor.send({ type: 'CALLBACK', url: await h.server.authorize(actor.getSnapshot().context.authorizationUrl!) });
    await settled(actor);
    expect(actor.getSnapshot().context.tokens?.accessToken).toBe('at');
  });
});
