import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { createWorld, signIn, tokenRequests } from './client.fixtures.js';

describe('getAccessToken() is single-flight', () => {
  it('1,000 concurrent callers of an expired token cause exactly one refresh token request and all get the new token', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const before = await client.getAccessToken();
    world.clock.advance(3_600_000 + 1_000); // expired: the callers must wait for the refresh

    const results = await Promise.all(Array.from({ length: 1_000 }, () => client.getAccessToken()));

    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    const distinct = new Set(results);
    expect(distinct.size).toBe(1);
    expect(distinct.has(before)).toBe(false);
    expect(results[0]).toBe((await client.getTokens())?.accessToken);
    client.stop();
  });

  it('callers of an expired token that arrive while the refresh is already under way wait for that same refresh', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const before = await client.getAccessToken();
    world.clock.advance(3_600_000 + 1_000); // expired: no held token to serve meanwhile
    world.server.fail('token', { delayMs: 20 });

    const early = client.getAccessToken();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const late = Array.from({ length: 100 }, () => client.getAccessToken());

    const tokens = await Promise.all([early, ...late]);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(before);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });

  it('a provider error during the refresh rejects every waiting caller with the same typed error', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    world.clock.advance(3_600_000 + 1_000); // expired: no still-valid token to fall back on
    world.server.fail('token', { oauthError: 'invalid_grant', status: 400 });

    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => client.getAccessToken()));

    const reasons = outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as unknown) : outcome.value));
    for (const reason of reasons) {
      expect(reason).toBeInstanceOf(OAuthError);
      expect((reason as OAuthError).code).toBe('invalid_grant');
    }
    expect(new Set(reasons).size).toBe(1); // the very same error instance
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    // invalid_grant ended the session.
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
    client.stop();
  });

  it('while a refresh backs off after a transient failure, callers get the still-valid token at once', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { retryBaseMs: 60_000, maxRefreshAttempts: 2 } });
    await signIn(world, client);
    const before = await client.getAccessToken();
    world.clock.advance(3_600_000 - 10_000); // inside the refresh window, not expired
    world.server.fail('token', { status: 503 }, { times: 5 });

    // This call starts the refresh; its first attempt fails and the machine then waits 30–60 s on the (manual) clock.
    expect(await client.getAccessToken()).toBe(before);
    await vi.waitFor(() => expect(client.actor.getSnapshot().context.error).toMatchObject({ status: 503 }));
    const served = await Promise.all(Array.from({ length: 50 }, () => client.getAccessToken()));

    expect(new Set(served)).toEqual(new Set([before]));
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    expect(client.actor.getSnapshot().value).toEqual({ refreshing: 'retrying' });
    client.stop();
  });

  it('a token that lives shorter than the skew is served until half its life, then renewed once in the background — not on every call', async () => {
    const world = await createWorld({ accessTokenTtl: 30 }); // 30 s tokens, 60 s default skew
    const client = world.client('authorization_code');
    await signIn(world, client);
    const first = await client.getAccessToken();
    for (let i = 0; i < 20; i += 1) expect(await client.getAccessToken()).toBe(first);
    expect(tokenRequests(world, 'refresh_token')).toBe(0);

    world.clock.advance(15_000); // half its life: still valid, so this call gets it and starts the renewal
    expect(await client.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(client.actor.getSnapshot().hasTag('busy')).toBe(false));
    const renewed = await client.getAccessToken();
    expect(renewed).not.toBe(first);
    for (let i = 0; i < 20; i += 1) expect(await client.getAccessToken()).toBe(renewed);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });

  it('serves a still-valid token without any request (hot path)', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const requests = world.server.log.length;
    const tokens = await Promise.all(Array.from({ length: 1_000 }, () => client.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(world.server.log.length).toBe(requests);
    client.stop();
  });
  it('property: for any number of concurrent callers and any refresh outcome, one refresh request and one shared outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom('success', 'invalid_grant', 'temporarily_unavailable', 'dropped'),
        fc.boolean(),
        async (callers, outcome, expired) => {
          const world = await createWorld();
          const client = world.client('authorization_code', { options: { maxRefreshAttempts: 1 } });
          await signIn(world, client);
          const before = await client.getAccessToken();
          world.clock.advance(expired ? 3_600_000 + 1_000 : 3_600_000 - 10_000);
          if (outcome === 'invalid_grant') world.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
          if (outcome === 'temporarily_unavailable') world.server.fail('token', { status: 503, body: { error: 'temporarily_unavailable' } });
          if (outcome === 'dropped') world.server.fail('token', { drop: true });

          const settled = await Promise.allSettled(Array.from({ length: callers }, () => client.getAccessToken()));
          // A still-valid token is served at once and renewed in the background: let that renewal finish.
          await vi.waitFor(() => expect(client.actor.getSnapshot().hasTag('busy')).toBe(false));
          const held = client.actor.getSnapshot().context.tokens?.accessToken;
          client.stop();

          expect(tokenRequests(world, 'refresh_token')).toBe(1);
          const values = new Set(settled.map((result) => (result.status === 'fulfilled' ? result.value : result.reason)));
          if (!expired) {
            // Whatever the refresh's outcome, every caller got the still-valid token without waiting for it.
            expect(settled.every((result) => result.status === 'fulfilled')).toBe(true);
            expect([...values]).toEqual([before]);
            // The one refresh's outcome is the session's: a new token, none (invalid_grant), or the held one.
            if (outcome === 'success') expect(held).not.toBe(before);
            else expect(held).toBe(outcome === 'invalid_grant' ? undefined : before);
          } else if (outcome === 'success') {
            expect(settled.every((result) => result.status === 'fulfilled')).toBe(true);
            expect(values.size).toBe(1);
            expect(values.has(before)).toBe(false);
            expect(held).toBe([...values][0]);
          } else {
            expect(settled.every((result) => result.status === 'rejected')).toBe(true);
            expect(values.size).toBe(1);
            const [reason] = values;
            expect(reason).toBeInstanceOf(OAuthError);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('one wait for many callers', () => {
  it('10,000 concurrent callers on an expired token: one REFRESH, one answer, no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    world.clock.advance(3_600_000 + 1_000);
    const tokens = await Promise.all(Array.from({ length: 10_000 }, () => client.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    client.stop();
  });
});
