/**
 * The three examples of docs/testing.md "Time is the clock's", as written there (imports adjusted to
 * the source tree), so the page cannot drift from the code. No fake timers: the manual clock the test
 * server and the client share moves the machines' timers, in no real time.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { createOAuthClient, manualClock, memoryStorage } from '../src/index.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT_URI = 'http://127.0.0.1:5173/callback';

function setUp() {
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
  const server = createTestAuthorizationServer({
    clock, // the server's expiries and the client's timers run on one clock
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
      { clientId: 'tv', authMethod: 'none', redirectUris: [], grants: ['urn:ietf:params:oauth:grant-type:device_code'], scopes: ['read'] },
    ],
  });
  const services = { fetch: server.fetch, clock, storage: memoryStorage(), navigate: () => {} };
  const spa = () => createOAuthClient({ grant: 'authorization_code', provider: { issuer: server.issuer }, client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] }, services });
  const tv = () => createOAuthClient({ grant: 'device_code', provider: { issuer: server.issuer }, client: { clientId: 'tv', scopes: ['read'] }, services });
  return { clock, server, spa, tv };
}

describe('time is the clock’s (docs/testing.md)', () => {
  it('refreshes on expiry', async () => {
    const { clock, server, spa } = setUp();
    const client = spa();
    const first = await client.handleCallback(await server.authorize(await client.login()));
    clock.advance(3_600_000); // the expiry timer fires on the way: the renewal is under way
    expect(client.actor.getSnapshot().hasTag('renewing')).toBe(true);
    expect(await client.getAccessToken()).not.toBe(first.accessToken);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
  });

  it('retries a 503', async () => {
    const { clock, server, spa } = setUp();
    const client = spa();
    await client.handleCallback(await server.authorize(await client.login()));
    server.fail('token', { status: 503 });
    clock.advance(3_600_000);
    const token = client.getAccessToken(); // expired: waits for the renewal
    await waitFor(client.actor, (snapshot) => snapshot.matches({ refreshing: 'retrying' }));
    clock.advance(2_000); // the backoff (at most 1 s for the first retry) passes
    expect(await token).toMatch(/^at_/);
    expect(server.tokenRequests('refresh_token').map((entry) => entry.status)).toEqual([503, 200]);
  });

  it('device code expires', async () => {
    const { clock, tv } = setUp();
    const login = await tv().login(); // the user never approves
    clock.advance(login.expiresAt - clock.now());
    await expect(login.tokens).rejects.toMatchObject({ code: 'expired_token' });
  });
});
