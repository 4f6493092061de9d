/**
 * The okta() profile against the test server laid out as Okta's two kinds of
 * authorization server: the org server (issuer the bare domain, endpoints
 * under `/oauth2/v1/`) and a custom one (issuer `/oauth2/{id}`, endpoints
 * under `{issuer}/v1/`), each found by OpenID discovery.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { discover } from '../src/protocol/discovery.js';
import { okta } from '../src/providers/index.js';
import { profileWorld, REDIRECT_URI, signIn } from './providers.fixtures.js';

const KEYS = ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'revocationEndpoint', 'introspectionEndpoint', 'userinfoEndpoint', 'deviceAuthorizationEndpoint'] as const;

function oktaServer(issuer: string, prefix: string) {
  return profileWorld({
    issuer,
    paths: {
      authorize: `${prefix}/authorize`,
      token: `${prefix}/token`,
      revoke: `${prefix}/revoke`,
      introspect: `${prefix}/introspect`,
      userinfo: `${prefix}/userinfo`,
      device_authorization: `${prefix}/device/authorize`,
    },
    clients: [{ clientId: 'app', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] }],
    quirks: { openidDiscoveryOnly: true },
  });
}

describe('okta()', () => {
  it('org authorization server: issuer https://{domain}, endpoints beside it under /oauth2/v1/ — as its discovery says', async () => {
    const world = oktaServer('https://dev-1.okta.test', '/oauth2/v1');
    const profile = okta({ domain: 'dev-1.okta.test' });
    expect(profile.tokenEndpoint).toBe('https://dev-1.okta.test/oauth2/v1/token');
    const discovered = await discover(profile.issuer ?? '', { fetch: world.services.fetch });
    for (const key of KEYS) expect(discovered[key], key).toBe(profile[key]);
  });

  it('custom authorization server: issuer /oauth2/{id}, endpoints under {issuer}/v1/ — as its discovery says — and a login through it', async () => {
    const world = oktaServer('https://dev-1.okta.test/oauth2/default', '/v1');
    const profile = okta({ domain: 'dev-1.okta.test', authorizationServerId: 'default' });
    expect(profile.tokenEndpoint).toBe('https://dev-1.okta.test/oauth2/default/v1/token');
    const discovered = await discover(profile.issuer ?? '', { fetch: world.services.fetch });
    for (const key of KEYS) expect(discovered[key], key).toBe(profile[key]);
    const client = createOAuthClient({ grant: 'authorization_code', provider: profile, client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] }, services: world.services });
    const tokens = await signIn(world, client);
    expect(tokens.refreshToken).toBeDefined();
    expect(tokens.idToken).toBeDefined();
    client.stop();
  });

  it('refuses a domain that is a URL and an authorization server id with a slash', () => {
    expect(() => okta({ domain: 'https://dev-1.okta.com' })).toThrow(TypeError);
    expect(() => okta({ domain: 'dev-1.okta.com', authorizationServerId: 'a/b' })).toThrow(TypeError);
    expect(okta({ baseUrl: 'http://127.0.0.1:4000', authorizationServerId: 'default' }).tokenEndpoint).toBe('http://127.0.0.1:4000/oauth2/default/v1/token');
  });
});
