/**
 * The keycloak() profile against the test server laid out as a Keycloak
 * realm: the realm is the issuer, every endpoint under
 * `protocol/openid-connect/`, OpenID discovery, revocation at logout.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { discover } from '../src/protocol/discovery.js';
import { buildEndSessionUrl } from '../src/protocol/endSession.js';
import { keycloak } from '../src/providers/index.js';
import { profileWorld, REDIRECT_URI, signIn } from './providers.fixtures.js';

const OIDC = '/protocol/openid-connect';
const SIGNED_OUT = 'http://127.0.0.1:5173/signed-out';

function keycloakServer() {
  return profileWorld({
    issuer: 'https://sso.example.test/realms/demo',
    paths: {
      authorize: `${OIDC}/auth`,
      token: `${OIDC}/token`,
      revoke: `${OIDC}/revoke`,
      introspect: `${OIDC}/token/introspect`,
      userinfo: `${OIDC}/userinfo`,
      device_authorization: `${OIDC}/auth/device`,
      end_session: `${OIDC}/logout`,
    },
    clients: [{ clientId: 'portal', authMethod: 'none', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [SIGNED_OUT], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile'] }],
    refreshTokens: 'always',
    quirks: { openidDiscoveryOnly: true },
  });
}

describe('keycloak()', () => {
  it('puts the realm in the issuer and every endpoint under protocol/openid-connect, end_session_endpoint included', () => {
    const provider = keycloak({ baseUrl: 'https://sso.example.com/auth/', realm: 'my realm' });
    expect(provider.issuer).toBe('https://sso.example.com/auth/realms/my%20realm');
    expect(provider.tokenEndpoint).toBe('https://sso.example.com/auth/realms/my%20realm/protocol/openid-connect/token');
    expect(provider.endSessionEndpoint).toBe('https://sso.example.com/auth/realms/my%20realm/protocol/openid-connect/logout');
    expect(() => keycloak({ baseUrl: 'https://sso.example.com', realm: '../master' })).toThrow(TypeError);
    expect(() => keycloak({ baseUrl: 'sso.example.com', realm: 'demo' })).toThrow(TypeError);
  });

  it('discovery of the realm finds the profile’s endpoints', async () => {
    const world = keycloakServer();
    const discovered = await discover('https://sso.example.test/realms/demo', { fetch: world.services.fetch });
    const profile = keycloak({ baseUrl: 'https://sso.example.test', realm: 'demo' });
    for (const key of ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'introspectionEndpoint', 'userinfoEndpoint', 'deviceAuthorizationEndpoint', 'endSessionEndpoint'] as const) {
      expect(discovered[key], key).toBe(profile[key]);
    }
  });

  it('signs in through the realm and revokes the refresh token at the realm’s revocation endpoint on logout', async () => {
    const world = keycloakServer();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: keycloak({ baseUrl: 'https://sso.example.test', realm: 'demo' }),
      client: { clientId: 'portal', redirectUri: REDIRECT_URI, scopes: ['openid', 'profile'] },
      services: world.services,
    });
    const tokens = await signIn(world, client);
    expect(tokens.idToken).toBeDefined();
    await client.logout();
    expect(world.server.isActive(tokens.refreshToken ?? '')).toBe(false);
    expect(world.server.log.filter((entry) => entry.endpoint === 'revoke').length).toBeGreaterThanOrEqual(1);
    client.stop();
  });

  it('RP-initiated logout: the end_session_endpoint with id_token_hint ends the realm session and sends the user back with state', async () => {
    const world = keycloakServer();
    const provider = keycloak({ baseUrl: 'https://sso.example.test', realm: 'demo' });
    const client = createOAuthClient({ grant: 'authorization_code', provider, client: { clientId: 'portal', redirectUri: REDIRECT_URI, scopes: ['openid', 'profile'] }, services: world.services });
    const tokens = await signIn(world, client);
    const url = new URL(buildEndSessionUrl(provider, { clientId: 'portal' }, { idTokenHint: tokens.idToken ?? '', postLogoutRedirectUri: SIGNED_OUT, state: 'st-9' }));
    expect(url.origin + url.pathname).toBe('https://sso.example.test/realms/demo/protocol/openid-connect/logout');
    expect(url.searchParams.get('client_id')).toBe('portal');
    const response = await world.server.fetch(url.href, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${SIGNED_OUT}?state=st-9`);
    // The realm session's tokens are gone at the server.
    expect(world.server.isActive(tokens.refreshToken ?? '')).toBe(false);
    expect(world.server.isActive(tokens.accessToken)).toBe(false);
    client.stop();
  });

  it('an unregistered post_logout_redirect_uri is refused, and nothing is revoked', async () => {
    const world = keycloakServer();
    const provider = keycloak({ baseUrl: 'https://sso.example.test', realm: 'demo' });
    const client = createOAuthClient({ grant: 'authorization_code', provider, client: { clientId: 'portal', redirectUri: REDIRECT_URI, scopes: ['openid', 'profile'] }, services: world.services });
    const tokens = await signIn(world, client);
    const url = buildEndSessionUrl(provider, { clientId: 'portal' }, { idTokenHint: tokens.idToken ?? '', postLogoutRedirectUri: 'https://evil.example/' });
    const response = await world.server.fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(world.server.isActive(tokens.refreshToken ?? '')).toBe(true);
    expect(() => buildEndSessionUrl({ tokenEndpoint: 'https://id.example/token' }, { clientId: 'portal' })).toThrow(TypeError);
    client.stop();
  });
});
