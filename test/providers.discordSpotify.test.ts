/**
 * The discord() and spotify() profiles against the test server answering as
 * they do: Discord's week-long tokens with a refresh token on every grant,
 * replaced on refresh, `iss` in callbacks and RFC 7009 revocation; Spotify's
 * refresh that may keep the refresh token, and its refresh tokens that expire.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { discord, spotify } from '../src/providers/index.js';
import { profileWorld, REDIRECT_URI, signIn } from './providers.fixtures.js';

const SECRET = 'client-secret-0123456789abcdef';

describe('discord()', () => {
  function discordServer() {
    return profileWorld({
      issuer: 'https://discord.test',
      paths: { authorize: '/oauth2/authorize', token: '/api/oauth2/token', revoke: '/api/oauth2/token/revoke', introspect: null, userinfo: null, device_authorization: null },
      clients: [{ clientId: '1234567890', clientSecret: SECRET, authMethod: 'client_secret_basic', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['identify', 'email'] }],
      accessTokenTtl: 604_800,
      refreshTokens: 'always',
    });
  }

  it('has Discord’s endpoints; its callbacks carry iss, which the profile requires', () => {
    const provider = discord();
    expect(provider.authorizationEndpoint).toBe('https://discord.com/oauth2/authorize');
    expect(provider.tokenEndpoint).toBe('https://discord.com/api/oauth2/token');
    expect(provider.revocationEndpoint).toBe('https://discord.com/api/oauth2/token/revoke');
    expect(provider.authorizationResponseIssParameterSupported).toBe(true);
  });

  it('signs in with a week-long token and a refresh token, refreshes (replacing it), and revokes both on logout', async () => {
    const world = discordServer();
    const client = createOAuthClient({ grant: 'authorization_code', provider: discord({ baseUrl: world.server.issuer }), client: { clientId: '1234567890', clientSecret: SECRET, redirectUri: REDIRECT_URI, scopes: ['identify', 'email'] }, services: world.services });
    const first = await signIn(world, client);
    expect(first.expiresAt).toBe(world.clock.now() + 604_800_000);
    expect(first.scope).toEqual(['identify', 'email']);
    world.clock.advance(604_800_000);
    await client.getAccessToken();
    const second = await client.getTokens();
    expect(second?.refreshToken).not.toBe(first.refreshToken);
    await client.logout();
    expect(world.server.isActive(second?.refreshToken ?? '')).toBe(false);
    expect(world.server.isActive(second?.accessToken ?? '')).toBe(false);
    client.stop();
  });

  it('a callback without iss is refused: Discord always sends it', async () => {
    const world = discordServer();
    const client = createOAuthClient({ grant: 'authorization_code', provider: discord({ baseUrl: world.server.issuer }), client: { clientId: '1234567890', clientSecret: SECRET, redirectUri: REDIRECT_URI, scopes: ['identify'] }, services: world.services });
    const callback = new URL(await world.server.authorize(await client.login()));
    callback.searchParams.delete('iss');
    await expect(client.handleCallback(callback.href)).rejects.toMatchObject({ code: 'iss_mismatch' });
    client.stop();
  });
});

describe('spotify()', () => {
  function spotifyServer(options: { refreshTokenTtl?: number } = {}) {
    return profileWorld({
      issuer: 'https://accounts.spotify.test',
      paths: { authorize: '/authorize', token: '/api/token', revoke: null, introspect: null, userinfo: null, device_authorization: null },
      clients: [{ clientId: 'player', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['user-read-private', 'playlist-read-private'] }],
      refreshTokens: 'always',
      rotateRefreshTokens: false,
      ...options,
    });
  }
  const player = (world: ReturnType<typeof spotifyServer>) =>
    createOAuthClient({ grant: 'authorization_code', provider: spotify({ baseUrl: world.server.issuer }), client: { clientId: 'player', redirectUri: REDIRECT_URI, scopes: ['user-read-private'] }, services: world.services });

  it('has Spotify’s endpoints', () => {
    expect(spotify().authorizationEndpoint).toBe('https://accounts.spotify.com/authorize');
    expect(spotify().tokenEndpoint).toBe('https://accounts.spotify.com/api/token');
  });

  it('a PKCE client refreshes; an answer without a refresh token keeps the one the session has', async () => {
    const world = spotifyServer();
    const client = player(world);
    const first = await signIn(world, client);
    expect(first.refreshToken).toBeDefined();
    world.clock.advance(3_600_000);
    const renewed = await client.getAccessToken();
    expect(renewed).not.toBe(first.accessToken);
    expect((await client.getTokens())?.refreshToken).toBe(first.refreshToken);
    client.stop();
  });

  it('an expired refresh token (six months) is refused invalid_grant and the session ends', async () => {
    const world = spotifyServer({ refreshTokenTtl: 7_200 });
    const client = player(world);
    await signIn(world, client);
    world.clock.advance(3 * 3_600_000);
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(await client.getTokens()).toBeUndefined();
    client.stop();
  });
});
