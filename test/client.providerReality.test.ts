/**
 * The five source providers' documented behaviour through the clients, each
 * profile unchanged but for its endpoints, against the test authorization
 * server configured with that provider's quirks (no network).
 */
import { describe, expect, it, vi } from 'vitest';
import { createOAuthClient, type OAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { generic, jsonTokenEndpoint, pathOfExile, poe, skyMavis } from '../src/providers/index.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import { manualClock, memoryStorage } from '../src/services/index.js';
import type { Services } from '../src/services/types.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';

const ISSUER = 'https://auth.test';
const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
const START = Date.parse('2026-01-01T00:00:00Z');

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error('expected a rejection');
}

/** A test server with one public client `app` (plus `options`), and the services a client of it uses. */
function world(options: TestAuthorizationServerOptions = {}, client: Partial<NonNullable<TestAuthorizationServerOptions['clients']>[number]> = {}) {
  const clock = manualClock(START);
  const server = createTestAuthorizationServer({
    clock,
    issuer: ISSUER,
    clients: [
      {
        clientId: 'app',
        authMethod: 'none',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'email', 'profile', 'offline_access', 'account:profile', 'apikey:create'],
        ...client,
      },
    ],
    ...options,
  });
  const navigations: string[] = [];
  const services: Partial<Services> = {
    fetch: server.fetch,
    clock,
    storage: memoryStorage(),
    navigate: (url) => {
      navigations.push(url);
    },
  };
  return { server, clock, services, navigations };
}

/** A profile with its endpoints moved onto the test server (its quirks untouched). */
function onTestServer(profile: ProviderConfig): ProviderConfig {
  const moved: ProviderConfig = { ...profile, authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` };
  delete moved.baseUrl;
  if (profile.revocationEndpoint !== undefined) moved.revocationEndpoint = `${ISSUER}/revoke`;
  if (profile.introspectionEndpoint !== undefined) moved.introspectionEndpoint = `${ISSUER}/introspect`;
  return moved;
}

describe('Path of Exile (item 10: a refusal of the library is not the server’s)', () => {
  it('a code exchange without the required User-Agent fails with configuration_error, no status, before the token request', async () => {
    const w = world({ quirks: { clientSecretPostOnly: true, userAgentPattern: /^OAuth / } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: onTestServer(pathOfExile()),
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['account:profile'] },
      services: w.services,
    });
    const callback = await w.server.authorize(await client.login());
    const error = await rejection(client.handleCallback(callback));
    expect(error).toMatchObject({ code: 'configuration_error', status: undefined, retryable: false });
    expect(error.description).toMatch(/User-Agent/);
    expect(w.server.log.filter((entry) => entry.endpoint === 'token')).toHaveLength(0);
    client.stop();
  });

  it('Basic authentication for a post-only provider is configuration_error, not invalid_request', async () => {
    const w = world({}, { clientId: 'app', authMethod: 'client_secret_basic', clientSecret: 'a-secret-long-enough-for-tests' });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { ...onTestServer(pathOfExile()), quirks: { ...pathOfExile().quirks, userAgentPattern: '.*' } },
      client: {
        clientId: 'app',
        clientSecret: 'a-secret-long-enough-for-tests',
        authMethod: 'client_secret_basic',
        redirectUri: REDIRECT_URI,
        scopes: ['account:profile'],
        userAgent: 'OAuth app/1.0.0 (contact: dev@example.com)',
      },
      services: w.services,
    });
    const error = await rejection(client.handleCallback(await w.server.authorize(await client.login())));
    expect(error).toMatchObject({ code: 'configuration_error', status: undefined });
    client.stop();
  });

  it('a caller’s own state in extraParams is configuration_error, and nothing is opened', async () => {
    const w = world();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: onTestServer(generic({ authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` })),
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: w.services,
    });
    const error = await rejection(client.login({ extraParams: { state: 'mine' } }));
    expect(error).toMatchObject({ code: 'configuration_error', status: undefined });
    expect(w.navigations).toEqual([]);
    client.stop();
  });
});

describe('Poe (item 9: what the profile forbids is refused before any navigation or request)', () => {
  const poeClient = (w: ReturnType<typeof world>, extra: Record<string, unknown> = {}) =>
    createOAuthClient({
      grant: 'authorization_code',
      provider: onTestServer(poe()),
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['apikey:create'], ...extra },
      services: w.services,
    });

  it('refuses PKCE plain, which poe() does not list', async () => {
    const w = world({ allowPlainPkce: true });
    const client = poeClient(w, { pkceMethod: 'plain' });
    const error = await rejection(client.login());
    expect(error).toMatchObject({ code: 'configuration_error', status: undefined });
    expect(error.description).toMatch(/plain/);
    expect(w.navigations).toEqual([]);
    expect(w.server.log).toHaveLength(0);
    client.stop();
  });

  it('refuses a scope other than apikey:create', async () => {
    const w = world();
    const client = poeClient(w);
    const error = await rejection(client.login({ scopes: ['apikey:create', 'openid'] }));
    expect(error).toMatchObject({ code: 'configuration_error' });
    expect(error.description).toMatch(/openid/);
    expect(w.navigations).toEqual([]);
    client.stop();
  });

  it('still logs in with S256 and apikey:create, and maps api_key to the access token', async () => {
    const w = world({ quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: null } });
    const client = poeClient(w);
    const tokens = await client.handleCallback(await w.server.authorize(await client.login()));
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.expiresAt).toBeUndefined();
    client.stop();
  });
});

describe('Poe (item 5: "server_error — safe to retry" is honoured)', () => {
  it('the same code exchange is sent again after a server_error, and the user is signed in without consenting again', async () => {
    const w = world({ quirks: { tokenResponseShape: 'api_key' } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: onTestServer(poe()),
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['apikey:create'] },
      services: w.services,
    });
    const callback = await w.server.authorize(await client.login());
    w.server.fail('token', { oauthError: 'server_error', status: 500 });
    const tokens = client.handleCallback(callback);
    // The retry waits on the clock service: move it past the backoff (at most retryBaseMs · 1).
    await vi.waitFor(() => expect(client.getSnapshot()?.context.exchange?.retryAt).toBeDefined());
    w.clock.advance(1_000);
    expect((await tokens).accessToken).toBeTruthy();
    expect(w.navigations).toHaveLength(1);
    const exchanges = w.server.log.filter((entry) => entry.endpoint === 'token');
    expect(exchanges.map((entry) => entry.status)).toEqual([500, 200]);
    client.stop();
  });
});

describe('SkyMavis SSO (item 3: an authorization code flow without PKCE, by explicit opt-out)', () => {
  it('skyMavis({ pkce: false }) sends no code_challenge and no code_verifier, and the login completes', async () => {
    const w = world({ paths: { authorize: '/oauth2/auth', token: '/oauth2/token' } }, { pkceRequired: false });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: skyMavis({ server: ISSUER, pkce: false }),
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid'] },
      services: w.services,
    });
    const url = new URL(await client.login());
    expect(url.pathname).toBe('/oauth2/auth');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
    const tokens = await client.handleCallback(await w.server.authorize(url));
    expect(tokens.accessToken).toBeTruthy();
    const exchange = w.server.log.find((entry) => entry.endpoint === 'token');
    expect(exchange?.status).toBe(200);
    expect(exchange?.params).not.toHaveProperty('code_verifier');
    client.stop();
  });

  it('keeps sending PKCE by default', async () => {
    const w = world({ paths: { authorize: '/oauth2/auth', token: '/oauth2/token' } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: skyMavis({ server: ISSUER }),
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: w.services,
    });
    const url = new URL(await client.login());
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    await client.handleCallback(await w.server.authorize(url));
    expect(w.server.log.find((entry) => entry.endpoint === 'token')?.params).toHaveProperty('code_verifier');
    client.stop();
  });
});

describe('SkyMavis SSO (item 6: the discovery document first, otherwise the default endpoints)', () => {
  it('falls back to provider.fallback when the issuer has no discovery document', async () => {
    const w = world({ paths: { authorize: '/oauth2/auth', token: '/oauth2/token' } });
    w.server.fail('metadata', { status: 404 }, { times: 2 });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER, fallback: skyMavis({ server: ISSUER }) },
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: w.services,
    });
    await client.ready;
    expect(client.provider.tokenEndpoint).toBe('/oauth2/token');
    const tokens = await client.handleCallback(await w.server.authorize(await client.login()));
    expect(tokens.accessToken).toBeTruthy();
    client.stop();
  });

  it('uses the discovered endpoints when there is a document, and fails on a server error rather than fall back', async () => {
    const found = world();
    const discovered = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER, fallback: skyMavis({ server: ISSUER }) },
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: found.services,
    });
    await discovered.ready;
    expect(discovered.provider.tokenEndpoint).toBe(`${ISSUER}/token`);
    discovered.stop();

    const down = world();
    down.server.fail('metadata', { status: 503 }, { times: 2 });
    const failing = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER, fallback: skyMavis({ server: ISSUER }) },
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: down.services,
    });
    await expect(failing.ready).rejects.toMatchObject({ status: 503 });
    failing.stop();
  });

  it('refuses a fallback next to a token endpoint, and an unknown key in it', () => {
    const services = world().services;
    expect(() =>
      createOAuthClient({
        grant: 'authorization_code',
        provider: { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token`, authorizationEndpoint: `${ISSUER}/authorize`, fallback: skyMavis({ server: ISSUER }) },
        client: { clientId: 'app', redirectUri: REDIRECT_URI },
        services,
      }),
    ).toThrow(/fallback/);
    expect(() =>
      createOAuthClient({
        grant: 'authorization_code',
        provider: { issuer: ISSUER, fallback: { ...skyMavis({ server: ISSUER }), tokenEndpiont: '/x' } as ProviderConfig },
        client: { clientId: 'app', redirectUri: REDIRECT_URI },
        services,
      }),
    ).toThrow(/tokenEndpiont/);
  });
});

describe('JSON token endpoint servers (items 4 and 7)', () => {
  const provider = (encoding?: 'base64') =>
    jsonTokenEndpoint({ server: ISSUER, authorizationEndpoint: '/oauth2/authorize', tokenEndpoint: '/oauth2/token', ...(encoding ? { pkceChallengeEncoding: encoding } : {}) });
  const serverOptions = (encoding?: 'base64'): TestAuthorizationServerOptions => ({
    paths: { authorize: '/oauth2/authorize', token: '/oauth2/token' },
    quirks: { jsonTokenRequests: true, pkceMethodName: 'SHA-256', ...(encoding ? { pkceChallengeEncoding: encoding } : {}) },
  });

  it('pkceChallengeEncoding base64 sends btoa(sha256(verifier)), padded, which a server checking that encoding accepts', async () => {
    const w = world(serverOptions('base64'));
    const client = createOAuthClient({ grant: 'authorization_code', provider: provider('base64'), client: { clientId: 'app', redirectUri: REDIRECT_URI }, services: w.services });
    const url = new URL(await client.login());
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('SHA-256');
    const tokens = await client.handleCallback(await w.server.authorize(url));
    expect(tokens.accessToken).toBeTruthy();
    client.stop();
  });

  it('the default stays RFC 7636 base64url, which that server refuses as malformed', async () => {
    const w = world(serverOptions('base64'));
    const client = createOAuthClient({ grant: 'authorization_code', provider: provider(), client: { clientId: 'app', redirectUri: REDIRECT_URI }, services: w.services });
    const url = new URL(await client.login());
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const error = await rejection(client.handleCallback(await w.server.authorize(url)));
    expect(error.code).toBe('invalid_request');
    client.stop();
  });

  it('login({ tokenParams: { scope } }) sends scope with the JSON code exchange, as the server’s sample does', async () => {
    const w = world(serverOptions());
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: provider(),
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'email', 'profile', 'offline_access'] },
      services: w.services,
    });
    const scope = 'openid email profile offline_access';
    await client.handleCallback(await w.server.authorize(await client.login({ tokenParams: { scope } })));
    const exchange = w.server.log.find((entry) => entry.endpoint === 'token');
    expect(exchange?.headers['content-type']).toMatch(/application\/json/);
    expect(exchange?.params['scope']).toBe(scope);
    client.stop();
  });

  it('refuses tokenParams that would replace the code or verifier, before the user leaves', async () => {
    const w = world(serverOptions());
    const client = createOAuthClient({ grant: 'authorization_code', provider: provider(), client: { clientId: 'app', redirectUri: REDIRECT_URI }, services: w.services });
    const error = await rejection(client.login({ tokenParams: { code_verifier: 'x' } }));
    expect(error).toMatchObject({ code: 'configuration_error' });
    expect(w.navigations).toEqual([]);
    client.stop();
  });
});

describe('extra token parameters on a renewal (item 7)', () => {
  it('refresh({ tokenParams }) sends them with that renewal only; a name the library sets is refused before anything is sent', async () => {
    const w = world({}, { authMethod: 'client_secret_post', clientSecret: 'a-secret-long-enough-for-tests' });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: generic({ authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` }),
      client: { clientId: 'app', clientSecret: 'a-secret-long-enough-for-tests', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    await client.refresh({ tokenParams: { audience: 'https://api.example' } });
    await client.refresh();
    const refreshes = w.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token');
    expect(refreshes.map((entry) => entry.params['audience'])).toEqual(['https://api.example', undefined]);
    const error = await rejection(client.refresh({ tokenParams: { refresh_token: 'mine' } }));
    expect(error).toMatchObject({ code: 'configuration_error', status: undefined });
    expect(w.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token')).toHaveLength(2);
    client.stop();
  });
});

describe('Generic RFC 6749 provider (item 8: token info)', () => {
  it('tokenInfo() reads the token-info endpoint into a typed result, expires_at in epoch ms', async () => {
    const w = world({ quirks: { tokenInfo: true } }, { authMethod: 'client_secret_post', clientSecret: 'a-secret-long-enough-for-tests' });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: generic({
        authorizationEndpoint: `${ISSUER}/authorize`,
        tokenEndpoint: `${ISSUER}/token`,
        tokenInfoEndpoint: `${ISSUER}/v1/oauth/token/info`,
      }),
      client: { clientId: 'app', clientSecret: 'a-secret-long-enough-for-tests', redirectUri: REDIRECT_URI, scopes: ['account:profile'] },
      services: w.services,
    });
    const tokens = await client.handleCallback(await w.server.authorize(await client.login()));
    const info = await client.tokenInfo();
    expect(info).toMatchObject({ clientId: 'app', userId: 'test-user', scopes: ['account:profile'] });
    expect(info.expiresAt).toBe(Math.floor((tokens.expiresAt ?? 0) / 1000) * 1000);
    expect(typeof info.raw['expires_at']).toBe('string');
    client.stop();
  });

  it('tokenInfo() without a token-info endpoint is unsupported_operation, and costs no request', async () => {
    const w = world();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: generic({ authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` }),
      client: { clientId: 'app', redirectUri: REDIRECT_URI },
      services: w.services,
    });
    const error = await rejection((client as OAuthClient<'authorization_code'>).tokenInfo());
    expect(error.code).toBe('unsupported_operation');
    expect(w.server.log).toHaveLength(0);
    client.stop();
  });
});

describe('bodiless refusals from real servers (items 12 and 13)', () => {
  const confidential = { authMethod: 'client_secret_post' as const, clientSecret: 'a-secret-long-enough-for-tests', scopes: ['offline_access', 'account:profile'] };
  const signedIn = async (w: ReturnType<typeof world>) => {
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: generic({ authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` }),
      client: { clientId: 'app', clientSecret: confidential.clientSecret, redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    return client;
  };

  it('a refresh refused with 400 and no body ends the session (invalid_grant, status kept): no dead refresh token is kept', async () => {
    const w = world({}, confidential);
    const client = await signedIn(w);
    w.server.fail('token', { status: 400 });
    const error = await rejection(client.refresh());
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
    expect(await client.getTokens()).toBeUndefined();
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
    client.stop();
  });

  it('a gateway’s HTML page with 400 does not end the session: the refresh token is kept', async () => {
    const w = world({}, confidential);
    const client = await signedIn(w);
    const before = await client.getTokens();
    w.server.fail('token', { notJson: true, status: 400 });
    // The access token is still valid: it is served, and the failure shows in context.
    expect((await client.refresh())?.refreshToken).toBe(before?.refreshToken);
    expect(client.getSnapshot()?.context.error).toMatchObject({ code: 'invalid_response', status: 400 });
    expect((await client.getTokens())?.refreshToken).toBe(before?.refreshToken);
    client.stop();
  });

  it('a bodiless 401 to an authenticated client is invalid_client with its status', async () => {
    const w = world({}, confidential);
    const client = await signedIn(w);
    w.server.fail('token', { status: 401 });
    await client.refresh();
    expect(client.getSnapshot()?.context.error).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
    client.stop();
  });

  it('a profile maps such answers explicitly with quirks.mapErrorResponse', async () => {
    const w = world({}, confidential);
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: {
        ...generic({ authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` }),
        quirks: {
          clientAuthMethods: ['client_secret_post'],
          mapErrorResponse: (answer) => (answer.status === 403 && answer.endpoint === 'token' ? { error: 'invalid_grant', error_description: 'mapped' } : undefined),
        },
      },
      client: { clientId: 'app', clientSecret: confidential.clientSecret, redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    w.server.fail('token', { status: 403, body: 'Forbidden' });
    const error = await rejection(client.refresh());
    expect(error).toMatchObject({ code: 'invalid_grant', status: 403, description: 'mapped' });
    expect(await client.getTokens()).toBeUndefined();
    client.stop();
  });
});

describe('logout() says what was and was not revoked, and why (item 14)', () => {
  const signIn = async (w: ReturnType<typeof world>, provider: ProviderConfig) => {
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider,
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    return client;
  };
  const withRevocation = { authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, revocationEndpoint: `${ISSUER}/revoke` };

  it('revoked both tokens: the refresh token first', async () => {
    const w = world();
    const client = await signIn(w, withRevocation);
    expect(await client.logout()).toEqual({ revoked: ['refresh_token', 'access_token'], notRevoked: [] });
    expect(w.server.issuedTokens().filter((token) => token.active)).toHaveLength(0);
  });

  it('a provider that does not advertise revocation (Django OAuth Toolkit): nothing revoked, no_revocation_endpoint', async () => {
    const w = world();
    const client = await signIn(w, { authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token` });
    expect(await client.logout()).toEqual({
      revoked: [],
      notRevoked: [
        { token: 'refresh_token', reason: 'no_revocation_endpoint' },
        { token: 'access_token', reason: 'no_revocation_endpoint' },
      ],
    });
    expect(await client.getTokens()).toBeUndefined();
  });

  it('a server that refuses revocation from public clients (Glewlwyd): refused, with its error', async () => {
    const w = world();
    const client = await signIn(w, withRevocation);
    w.server.fail('revoke', { oauthError: 'unauthorized_client', status: 403 }, { times: 2 });
    const result = await client.logout();
    expect(result.revoked).toEqual([]);
    expect(result.notRevoked).toEqual([
      { token: 'refresh_token', reason: 'refused', error: expect.objectContaining({ code: 'unauthorized_client', status: 403 }) },
      { token: 'access_token', reason: 'refused', error: expect.objectContaining({ code: 'unauthorized_client', status: 403 }) },
    ]);
    expect(await client.getTokens()).toBeUndefined();
  });

  it('a server that asks to wait: failed, then not_attempted', async () => {
    const w = world();
    const client = await signIn(w, withRevocation);
    w.server.fail('revoke', { status: 503, headers: { 'retry-after': '30' } });
    const result = await client.logout();
    expect(result.notRevoked.map(({ token, reason }) => [token, reason])).toEqual([
      ['refresh_token', 'failed'],
      ['access_token', 'not_attempted'],
    ]);
  });

  it('with no session: nothing held, nothing to say', async () => {
    const w = world();
    const client = createOAuthClient({ grant: 'authorization_code', provider: withRevocation, client: { clientId: 'app', redirectUri: REDIRECT_URI }, services: w.services });
    expect(await client.logout()).toEqual({ revoked: [], notRevoked: [] });
  });
});

describe('Glewlwyd and Django OAuth Toolkit, as the test server emulates them (items 12, 13, 14)', () => {
  const confidential = { authMethod: 'client_secret_post' as const, clientSecret: 'a-secret-long-enough-for-tests', scopes: ['offline_access', 'openid'] };

  it('Glewlwyd refuses a revoked refresh token with an empty 400: the session ends and the refresh token is dropped', async () => {
    const w = world({ quirks: { bodilessErrors: true } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER },
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    const tokens = await client.handleCallback(await w.server.authorize(await client.login()));
    w.server.revokeToken(tokens.refreshToken ?? '');
    const error = await rejection(client.refresh());
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(await client.getTokens()).toBeUndefined();
    expect(w.server.log.at(-1)).toMatchObject({ endpoint: 'token', status: 400, error: 'invalid_grant' });
    client.stop();
  });

  it('a wrong client secret answered with an empty 401 is invalid_client', async () => {
    const w = world({ quirks: { bodilessErrors: true } }, confidential);
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER },
      client: { clientId: 'app', clientSecret: 'the-wrong-secret-for-this-client', authMethod: 'client_secret_post', redirectUri: REDIRECT_URI },
      services: w.services,
    });
    const error = await rejection(client.handleCallback(await w.server.authorize(await client.login())));
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, retryable: false });
    client.stop();
  });

  it('Django OAuth Toolkit serves revocation without advertising it: logout() says nothing was revoked, and why', async () => {
    const w = world({ quirks: { unadvertisedRevocation: true } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER },
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    const result = await client.logout();
    expect(result.revoked).toEqual([]);
    expect(result.notRevoked.map(({ token, reason }) => [token, reason])).toEqual([
      ['refresh_token', 'no_revocation_endpoint'],
      ['access_token', 'no_revocation_endpoint'],
    ]);
    // Still valid at the server: what the result warns about.
    expect(w.server.issuedTokens().filter((token) => token.active)).toHaveLength(2);
    // Named by hand, the endpoint is used.
    const named = world({ quirks: { unadvertisedRevocation: true } });
    const withEndpoint = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER, revocationEndpoint: `${ISSUER}/revoke` },
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: named.services,
    });
    await withEndpoint.handleCallback(await named.server.authorize(await withEndpoint.login()));
    expect((await withEndpoint.logout()).revoked).toEqual(['refresh_token', 'access_token']);
  });

  it('Glewlwyd refuses revocation from a public client: logout() says both were refused, with the answer', async () => {
    const w = world({ quirks: { revocationRequiresClientAuthentication: true, bodilessErrors: true } });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: ISSUER },
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
      services: w.services,
    });
    await client.handleCallback(await w.server.authorize(await client.login()));
    const result = await client.logout();
    expect(result.revoked).toEqual([]);
    expect(result.notRevoked).toEqual([
      { token: 'refresh_token', reason: 'refused', error: expect.objectContaining({ status: 401 }) },
      { token: 'access_token', reason: 'refused', error: expect.objectContaining({ status: 401 }) },
    ]);
    expect(await client.getTokens()).toBeUndefined();
  });
});
