/**
 * The github() profile against the test server emulating GitHub: form-encoded
 * token answers unless `Accept: application/json`, errors with HTTP 200,
 * comma-separated scopes, non-expiring OAuth app tokens, expiring GitHub App
 * user tokens with rotating refresh tokens, and the device flow.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { github } from '../src/providers/index.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';
import { profileWorld, REDIRECT_URI, rejection, signIn, type ProfileWorld } from './providers.fixtures.js';

const SECRET = 'github-client-secret-0123456789';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** GitHub's layout and answers, as the test server's quirks emulate them. */
function gitHubServer(options: TestAuthorizationServerOptions = {}): ProfileWorld {
  return profileWorld({
    issuer: 'https://github.test',
    paths: { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', device_authorization: '/login/device/code', revoke: null, introspect: null, userinfo: null },
    clients: [
      { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['repo', 'read:user'] },
      { clientId: 'cli', authMethod: 'none', redirectUris: [], grants: [DEVICE_GRANT, 'refresh_token'], scopes: ['repo'] },
    ],
    // An OAuth app: tokens that never expire, no refresh token.
    refreshTokens: 'never',
    ...options,
    quirks: { formEncodedTokenResponses: 'unless-accept-json', tokenErrorsWithStatus200: true, scopeDelimiter: ',', nonExpiringAccessTokens: true, ...options.quirks },
  });
}

function webClient(world: ProfileWorld, provider = github({ baseUrl: world.server.issuer })) {
  return createOAuthClient({
    grant: 'authorization_code',
    provider,
    client: { clientId: 'web', clientSecret: SECRET, redirectUri: REDIRECT_URI, scopes: ['repo', 'read:user'] },
    services: world.services,
  });
}

describe('github()', () => {
  it('asks for JSON with Accept on every token request, sends the secret in the body, and reads comma-separated scopes', async () => {
    const world = gitHubServer();
    const client = webClient(world);
    const tokens = await signIn(world, client);
    const tokenRequests = world.sent.filter((request) => request.url === `${world.server.issuer}/login/oauth/access_token`);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.headers.get('accept')).toBe('application/json');
    expect(new URLSearchParams(tokenRequests[0]?.body).get('client_secret')).toBe(SECRET);
    expect(tokenRequests[0]?.headers.get('authorization')).toBeNull();
    // GitHub's scope "repo,read:user" is two scopes.
    expect(tokens.raw['scope']).toBe('repo,read:user');
    expect(tokens.scope).toEqual(['repo', 'read:user']);
    client.stop();
  });

  it('reads a token response that comes form-encoded all the same (a server that ignores Accept)', async () => {
    const world = gitHubServer({ quirks: { formEncodedTokenResponses: 'always' } });
    const client = webClient(world);
    const tokens = await signIn(world, client);
    expect(tokens.accessToken).toMatch(/\S/);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.scope).toEqual(['repo', 'read:user']);
    client.stop();
  });

  it('without the profile’s quirk, the same form-encoded answer is an invalid_response (the quirk is what reads it)', async () => {
    const world = gitHubServer({ quirks: { formEncodedTokenResponses: 'always' } });
    const profile = github({ baseUrl: world.server.issuer });
    const { formEncodedTokenResponses: _ignored, ...quirks } = profile.quirks ?? {};
    const client = webClient(world, { ...profile, quirks });
    const error = await rejection(signIn(world, client));
    expect(error.code).toBe('invalid_response');
    client.stop();
  });

  it('an OAuth app’s token never expires: served a year later without a request, and no refresh token is kept', async () => {
    const world = gitHubServer();
    const client = webClient(world);
    const tokens = await signIn(world, client);
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
    const before = world.sent.length;
    world.clock.advance(365 * 24 * 3_600_000);
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(world.sent.length).toBe(before);
    client.stop();
  });

  it('a GitHub App’s expiring user token (8 hours) is refreshed with its refresh token, which is replaced on use', async () => {
    const world = gitHubServer({ refreshTokens: 'always', accessTokenTtl: 28_800, quirks: { nonExpiringAccessTokens: false } });
    const client = webClient(world);
    const first = await signIn(world, client);
    expect(first.expiresAt).toBe(world.clock.now() + 28_800_000);
    expect(first.refreshToken).toBeDefined();
    world.clock.advance(28_800_000);
    const renewed = await client.getAccessToken();
    expect(renewed).not.toBe(first.accessToken);
    const now = await client.getTokens();
    expect(now?.refreshToken).not.toBe(first.refreshToken);
    expect(world.server.isActive(first.refreshToken ?? '')).toBe(false);
    client.stop();
  });

  it('an error GitHub answers with HTTP 200 (a code used twice) rejects with the server’s code', async () => {
    const world = gitHubServer();
    const client = webClient(world);
    const callback = await world.server.authorize(await client.login());
    const code = new URL(callback).searchParams.get('code') ?? '';
    // The code is spent by another exchange first (a replayed callback).
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'web', client_secret: SECRET, redirect_uri: REDIRECT_URI });
    await world.server.fetch(`${world.server.issuer}/login/oauth/access_token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const error = await rejection(client.handleCallback(callback));
    expect(error.code).toBe('invalid_grant');
    expect(world.server.log.at(-1)?.status).toBe(200);
    client.stop();
  });

  it('device flow: authorization_pending answered with HTTP 200 is polled through until the user approves', async () => {
    const world = gitHubServer({ refreshTokens: 'never' });
    const client = createOAuthClient({ grant: 'device_code', provider: github({ baseUrl: world.server.issuer }), client: { clientId: 'cli', scopes: ['repo'] }, services: world.services });
    const login = await client.login();
    expect(world.sent[0]?.url).toBe(`${world.server.issuer}/login/device/code`);
    world.clock.advance(1_000);
    await expect.poll(() => world.server.tokenRequests(DEVICE_GRANT).length).toBe(1);
    expect(world.server.tokenRequests(DEVICE_GRANT)[0]).toMatchObject({ status: 200, error: 'authorization_pending' });
    world.server.approveDevice(login.userCode);
    world.clock.advance(1_000);
    const tokens = await login.tokens;
    expect(tokens.scope).toEqual(['repo']);
    expect(tokens.expiresAt).toBeUndefined();
    client.stop();
  });
});
