/**
 * The auth0() profile against the test server emulating Auth0: an issuer
 * with a trailing slash, OpenID-only discovery, `audience` on authorization
 * and token requests, and rotating refresh tokens with reuse detection.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { discover } from '../src/protocol/discovery.js';
import { decodeJwtPayload } from '../src/protocol/idToken.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import { auth0 } from '../src/providers/index.js';
import { profileWorld, REDIRECT_URI, rejection, signIn, tokenRequestParams, type ProfileWorld } from './providers.fixtures.js';

const API = 'https://api.example.test';
const SECRET = 'auth0-client-secret-0123456789';

function auth0Server(): ProfileWorld {
  return profileWorld({
    issuer: 'https://tenant.auth0.test',
    paths: { authorize: '/authorize', token: '/oauth/token', revoke: '/oauth/revoke', userinfo: '/userinfo', device_authorization: '/oauth/device/code', introspect: null },
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'offline_access', 'read:items'] },
      { clientId: 'worker', clientSecret: SECRET, authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['read:items'] },
    ],
    quirks: { issuerTrailingSlash: true, openidDiscoveryOnly: true, audiences: [API] },
  });
}

function spa(world: ProfileWorld, audience: string | undefined = API) {
  return createOAuthClient({
    grant: 'authorization_code',
    provider: auth0({ domain: 'tenant.auth0.test', ...(audience === undefined ? {} : { audience }) }),
    client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access', 'read:items'] },
    services: world.services,
  });
}

describe('auth0()', () => {
  it('has the tenant’s endpoints and its issuer with a trailing slash', () => {
    const provider = auth0({ domain: 'dev-123.us.auth0.com' });
    expect(provider.issuer).toBe('https://dev-123.us.auth0.com/');
    expect(provider.tokenEndpoint).toBe('https://dev-123.us.auth0.com/oauth/token');
    expect(provider.revocationEndpoint).toBe('https://dev-123.us.auth0.com/oauth/revoke');
    expect(provider.endSessionEndpoint).toBe('https://dev-123.us.auth0.com/oidc/logout');
    expect(() => auth0({ domain: 'https://dev-123.us.auth0.com' })).toThrow(TypeError);
    expect(() => auth0({})).toThrow(/either domain or baseUrl/);
    expect(() => auth0({ domain: 'a.auth0.com', baseUrl: 'https://a.auth0.com' })).toThrow(/either domain or baseUrl/);
    // On loopback (a browser test): the base URL instead of a domain.
    expect(auth0({ baseUrl: 'http://127.0.0.1:4000/' }).tokenEndpoint).toBe('http://127.0.0.1:4000/oauth/token');
    expect(auth0({ baseUrl: 'http://127.0.0.1:4000' }).issuer).toBe('http://127.0.0.1:4000/');
  });

  it('discovery of https://{domain}/ reads the OpenID document and keeps the trailing slash of the issuer', async () => {
    const world = auth0Server();
    const discovered = await discover('https://tenant.auth0.test/', { fetch: world.services.fetch });
    const profile = auth0({ domain: 'tenant.auth0.test' });
    for (const key of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'userinfoEndpoint', 'deviceAuthorizationEndpoint'] as const) {
      expect(discovered[key], key).toBe(profile[key]);
    }
  });

  it('sends audience with the authorization request and every token request; the ID token’s issuer has the slash', async () => {
    const world = auth0Server();
    const client = spa(world);
    const url = new URL(await client.login());
    expect(url.searchParams.get('audience')).toBe(API);
    const tokens = await client.handleCallback(await world.server.authorize(url));
    expect(decodeJwtPayload(tokens.idToken ?? '')['iss']).toBe('https://tenant.auth0.test/');
    world.clock.advance(3_600_000);
    await client.getAccessToken();
    expect(tokenRequestParams(world).map((params) => [params['grant_type'], params['audience']])).toEqual([
      ['authorization_code', API],
      ['refresh_token', API],
    ]);
    client.stop();
  });

  it('rotates the refresh token on every refresh; the spent one is dead at the server', async () => {
    const world = auth0Server();
    const client = spa(world);
    const first = await signIn(world, client);
    world.clock.advance(3_600_000);
    await client.getAccessToken();
    const second = (await client.getTokens())?.refreshToken;
    expect(second).toBeDefined();
    expect(second).not.toBe(first.refreshToken);
    expect(world.server.isActive(first.refreshToken ?? '')).toBe(false);
    expect(world.server.isActive(second ?? '')).toBe(true);
    client.stop();
  });

  it('client credentials name the API with audience; without one Auth0 refuses them access_denied (403)', async () => {
    const world = auth0Server();
    const worker = createOAuthClient({ grant: 'client_credentials', provider: auth0({ domain: 'tenant.auth0.test', audience: API }), client: { clientId: 'worker', clientSecret: SECRET, scopes: ['read:items'] }, services: world.services });
    expect(await worker.getAccessToken()).toMatch(/\S/);
    expect(tokenRequestParams(world, 'client_credentials')[0]?.['audience']).toBe(API);
    worker.stop();
    const other = auth0Server();
    const bare = createOAuthClient({ grant: 'client_credentials', provider: auth0({ domain: 'tenant.auth0.test' }), client: { clientId: 'worker', clientSecret: SECRET, scopes: ['read:items'] }, services: other.services });
    const error = await rejection(bare.getAccessToken());
    expect(error.code).toBe('access_denied');
    expect(error.status).toBe(403);
    bare.stop();
  });

  it('a call’s own audience wins over the profile’s; names the library sets are refused in the profile’s parameters', () => {
    const provider = auth0({ domain: 'tenant.auth0.test', audience: API });
    const client = { clientId: 'spa', redirectUri: REDIRECT_URI };
    const url = new URL(buildAuthorizationUrl(provider, client, { state: 's'.repeat(22), codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256', extraParams: { audience: 'https://other.test' } }));
    expect(url.searchParams.getAll('audience')).toEqual(['https://other.test']);
    const request = tokenRequest.clientCredentials(provider, { clientId: 'worker', clientSecret: SECRET }, { extraParams: { audience: 'https://other.test' } });
    expect(new URLSearchParams(request.init.body).getAll('audience')).toEqual(['https://other.test']);

    const forging = { ...provider, quirks: { authorizationParams: { state: 'fixed' }, tokenParams: { grant_type: 'password' } } };
    expect(() => buildAuthorizationUrl(forging, client, { state: 's'.repeat(22), codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256' })).toThrow(/extraParams cannot set state/);
    expect(() => tokenRequest.refreshToken(forging, client, { refreshToken: 'r' })).toThrow(/quirks.tokenParams cannot set grant_type/);
    expect(() => createOAuthClient({ grant: 'authorization_code', provider: forging, client: { clientId: 'spa', redirectUri: REDIRECT_URI } })).toThrow(/authorizationParams: Invalid parameter: the library sets it/);
  });
});
