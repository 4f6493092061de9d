/**
 * The entraId() profile against the test server emulating Microsoft Entra
 * ID's `common` authority: v2.0 endpoints beside the issuer's path, a
 * discovery document whose issuer is `…/{tenantid}/v2.0`, ID tokens naming
 * the user's tenant (`tid`), and `.default` scopes for client credentials.
 */
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { decodeJwtPayload } from '../src/protocol/idToken.js';
import { discover } from '../src/protocol/discovery.js';
import { ENTRA_MULTI_TENANT_QUIRKS, entraId, entraIdTokenIssuer, isEntraIssuerTemplate } from '../src/providers/index.js';
import type { FetchLike } from '../src/services/types.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';
import { profileWorld, REDIRECT_URI, rejection, signIn, type ProfileWorld } from './providers.fixtures.js';

const ORIGIN = 'https://login.microsoftonline.test';
const USER_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET = 'entra-client-secret-0123456789';

function entraServer(tenant = 'common', options: TestAuthorizationServerOptions = {}): ProfileWorld {
  return profileWorld({
    issuer: `${ORIGIN}/${tenant}/v2.0`,
    paths: { authorize: '/oauth2/v2.0/authorize', token: '/oauth2/v2.0/token', device_authorization: '/oauth2/v2.0/devicecode', revoke: null, introspect: null, userinfo: null },
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'offline_access', 'User.Read'] },
      { clientId: 'daemon', clientSecret: SECRET, authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['https://graph.microsoft.test/.default', 'User.Read'] },
    ],
    ...options,
    quirks: {
      endpointBasePath: `/${tenant}`,
      openidDiscoveryOnly: true,
      defaultScopeForClientCredentials: true,
      ...(tenant === USER_TENANT ? {} : { tenantIssuer: { tenantId: USER_TENANT } }),
    },
  });
}

function spa(world: ProfileWorld, provider: Parameters<typeof createOAuthClient>[0]['provider']) {
  return createOAuthClient({
    grant: 'authorization_code',
    provider,
    client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'profile', 'offline_access', 'User.Read'] },
    services: world.services,
  });
}

describe('entraId()', () => {
  it('has the v2.0 endpoints of the tenant and, for common, the {tenantid} issuer template', () => {
    const provider = entraId();
    expect(provider.authorizationEndpoint).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
    expect(provider.tokenEndpoint).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/token');
    expect(provider.deviceAuthorizationEndpoint).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/devicecode');
    expect(provider.endSessionEndpoint).toBe('https://login.microsoftonline.com/common/oauth2/v2.0/logout');
    expect(provider.issuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    expect(provider.quirks?.idTokenIssuer).toBe(entraIdTokenIssuer);
    expect(provider.quirks?.acceptsDiscoveredIssuer).toBe(isEntraIssuerTemplate);
    const single = entraId({ tenant: USER_TENANT });
    expect(single.issuer).toBe(`https://login.microsoftonline.com/${USER_TENANT}/v2.0`);
    expect(single.quirks).toBeUndefined();
    expect(() => entraId({ tenant: 'a/b' })).toThrow(TypeError);
  });

  it('discovery of the common authority accepts the {tenantid} issuer of its document when asked to, and finds the profile’s endpoints', async () => {
    const world = entraServer();
    const issuer = `${ORIGIN}/common/v2.0`;
    // The document names `${ORIGIN}/{tenantid}/v2.0`, not the issuer it was fetched for.
    expect((await rejection(discover(issuer, { fetch: world.services.fetch }))).code).toBe('issuer_mismatch');
    const discovered = await discover(issuer, { fetch: world.services.fetch }, { acceptIssuer: isEntraIssuerTemplate });
    const profile = entraId({ baseUrl: ORIGIN });
    expect(discovered.issuer).toBe(profile.issuer);
    expect(discovered.authorizationEndpoint).toBe(profile.authorizationEndpoint);
    expect(discovered.tokenEndpoint).toBe(profile.tokenEndpoint);
    expect(discovered.deviceAuthorizationEndpoint).toBe(profile.deviceAuthorizationEndpoint);
  });

  it('discovery refuses a document whose issuer differs in more than the tenant', async () => {
    const world = entraServer();
    const elsewhere = `${ORIGIN}/common/v3.0`;
    const fetch: FetchLike = (input, init) => world.services.fetch(String(input).replace('/common/v3.0/', '/common/v2.0/'), init);
    expect((await rejection(discover(elsewhere, { fetch }, { acceptIssuer: isEntraIssuerTemplate }))).code).toBe('issuer_mismatch');
  });

  it('a client given { issuer, quirks: ENTRA_MULTI_TENANT_QUIRKS } discovers the common authority and accepts the tenant’s ID token', async () => {
    const world = entraServer();
    const client = spa(world, { issuer: `${ORIGIN}/common/v2.0`, quirks: { ...ENTRA_MULTI_TENANT_QUIRKS } });
    const tokens = await signIn(world, client);
    expect(decodeJwtPayload(tokens.idToken ?? '')).toMatchObject({ iss: `${ORIGIN}/${USER_TENANT}/v2.0`, tid: USER_TENANT });
    client.stop();
  });

  it('the profile signs a user in through common: ID token of the user’s tenant accepted, refresh token rotated', async () => {
    const world = entraServer();
    const client = spa(world, entraId({ baseUrl: ORIGIN }));
    const url = new URL(await client.login());
    expect(url.pathname).toBe('/common/oauth2/v2.0/authorize');
    const tokens = await client.handleCallback(await world.server.authorize(url));
    expect(tokens.idToken).toBeDefined();
    world.clock.advance(3_600_000);
    await client.getAccessToken();
    expect((await client.getTokens())?.refreshToken).not.toBe(tokens.refreshToken);
    client.stop();
  });

  it('an ID token whose issuer names another tenant than its tid is refused invalid_id_token', async () => {
    const world = entraServer();
    const swapTenant: FetchLike = async (input, init) => {
      const response = await world.services.fetch(input, init);
      if (!String(input).endsWith('/oauth2/v2.0/token')) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const [header, payload] = String(body['id_token']).split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
      claims['tid'] = '00000000-0000-0000-0000-000000000000';
      body['id_token'] = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: entraId({ baseUrl: ORIGIN }),
      client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
      services: { ...world.services, fetch: swapTenant },
    });
    const error = await rejection(signIn(world, client));
    expect(error.code).toBe('invalid_id_token');
    client.stop();
  });

  it('client credentials ask for {resource}/.default; a plain scope is refused invalid_scope', async () => {
    const world = entraServer(USER_TENANT);
    const provider = entraId({ baseUrl: ORIGIN, tenant: USER_TENANT });
    const daemon = createOAuthClient({ grant: 'client_credentials', provider, client: { clientId: 'daemon', clientSecret: SECRET, scopes: ['https://graph.microsoft.test/.default'] }, services: world.services });
    expect(await daemon.getAccessToken()).toMatch(/\S/);
    daemon.stop();
    const other = entraServer(USER_TENANT);
    const wrong = createOAuthClient({ grant: 'client_credentials', provider, client: { clientId: 'daemon', clientSecret: SECRET, scopes: ['User.Read'] }, services: other.services });
    const error = await rejection(wrong.getAccessToken());
    expect(error.code).toBe('invalid_scope');
    expect(error.status).toBe(400);
    wrong.stop();
  });
});
