/**
 * The google() profile against the test server emulating Google: offline
 * access (a refresh token only with `access_type=offline`, again only with
 * `prompt=consent`), OpenID-only discovery, and refresh tokens that are not
 * rotated.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { discover } from '../src/protocol/discovery.js';
import { google } from '../src/providers/index.js';
import { profileWorld, REDIRECT_URI, signIn, type ProfileWorld } from './providers.fixtures.js';

function googleServer(): ProfileWorld {
  return profileWorld({
    issuer: 'https://accounts.google.test',
    paths: { authorize: '/o/oauth2/v2/auth', token: '/token', revoke: '/revoke', userinfo: '/v1/userinfo', device_authorization: '/device/code', introspect: null },
    clients: [{ clientId: 'web.apps.googleusercontent.test', clientSecret: 'google-secret-0123456789', authMethod: 'client_secret_basic', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'email'] }],
    rotateRefreshTokens: false,
    quirks: { offlineAccessType: true, openidDiscoveryOnly: true },
  });
}

function webClient(world: ProfileWorld, provider = google({ baseUrl: world.server.issuer })) {
  return createOAuthClient({
    grant: 'authorization_code',
    provider,
    client: { clientId: 'web.apps.googleusercontent.test', clientSecret: 'google-secret-0123456789', redirectUri: REDIRECT_URI, scopes: ['openid', 'email'] },
    services: world.services,
  });
}

describe('google()', () => {
  it('has Google’s endpoints and issuer', () => {
    const provider = google();
    expect(provider.issuer).toBe('https://accounts.google.com');
    expect(provider.authorizationEndpoint).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(provider.tokenEndpoint).toBe('https://oauth2.googleapis.com/token');
    expect(provider.revocationEndpoint).toBe('https://oauth2.googleapis.com/revoke');
    expect(provider.deviceAuthorizationEndpoint).toBe('https://oauth2.googleapis.com/device/code');
  });

  it('discovery finds the same endpoints from the OpenID document alone (no RFC 8414 document)', async () => {
    const world = googleServer();
    const discovered = await discover(world.server.issuer, { fetch: world.services.fetch });
    const profile = google({ baseUrl: world.server.issuer });
    for (const key of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'userinfoEndpoint', 'deviceAuthorizationEndpoint'] as const) {
      expect(discovered[key], key).toBe(profile[key]);
    }
    expect(world.sent.map((request) => new URL(request.url).pathname)).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']);
  });

  it('asks for access_type=offline and prompt=consent, so every login brings a refresh token', async () => {
    const world = googleServer();
    const client = webClient(world);
    const url = new URL(await client.login());
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('prompt')).toBe('consent');
    const first = await client.handleCallback(await world.server.authorize(url));
    expect(first.refreshToken).toBeDefined();
    await client.logout();
    const second = await signIn(world, client);
    expect(second.refreshToken).toBeDefined();
    client.stop();
  });

  it('a later login that does not ask for consent again gets no refresh token (as at Google)', async () => {
    const world = googleServer();
    const client = webClient(world);
    expect((await signIn(world, client)).refreshToken).toBeDefined();
    await client.logout();
    const url = await client.login({ extraParams: { prompt: 'select_account' } });
    expect(new URL(url).searchParams.get('prompt')).toBe('select_account');
    const again = await client.handleCallback(await world.server.authorize(url));
    expect(again.refreshToken).toBeUndefined();
    client.stop();
  });

  it('google({ refreshToken: false }) sends neither parameter and gets no refresh token', async () => {
    const world = googleServer();
    const client = webClient(world, google({ baseUrl: world.server.issuer, refreshToken: false }));
    const url = new URL(await client.login());
    expect(url.searchParams.has('access_type')).toBe(false);
    expect(url.searchParams.has('prompt')).toBe(false);
    expect((await client.handleCallback(await world.server.authorize(url))).refreshToken).toBeUndefined();
    client.stop();
  });

  it('a refresh answers no new refresh token: the session keeps the one it has, still valid', async () => {
    const world = googleServer();
    const client = webClient(world);
    const first = await signIn(world, client);
    world.clock.advance(3_600_000);
    const renewed = await client.getAccessToken();
    expect(renewed).not.toBe(first.accessToken);
    expect(world.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect((await client.getTokens())?.refreshToken).toBe(first.refreshToken);
    expect(world.server.isActive(first.refreshToken ?? '')).toBe(true);
    client.stop();
  });
});
