/**
 * What a test can inspect on the server: the request log (with secrets
 * redacted), issued tokens, the clock, and option validation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer, type TestClient } from '../src/testing/index.js';

const REDIRECT = 'https://app.test/cb';
const SECRET = 'top-secret-value';

function newServer(logSecrets = false): TestAuthorizationServer {
  return createTestAuthorizationServer({
    logSecrets,
    passwordGrant: true,
    user: { sub: 'u1', password: 'hunter2' },
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT], grants: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], scopes: ['openid', 'offline_access'] },
      { clientId: 'svc', clientSecret: SECRET, authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials', 'password'], scopes: ['read'] },
      { clientId: 'poster', clientSecret: SECRET, authMethod: 'client_secret_post', redirectUris: [], grants: ['client_credentials'], scopes: ['read'] },
    ],
  });
}

function form(server: TestAuthorizationServer, path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return server.fetch(`${server.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) });
}

/** Runs every grant once and returns every secret value that crossed the wire. */
async function everyGrant(server: TestAuthorizationServer): Promise<string[]> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const callback = new URL(await server.authorize(`${server.issuer}/authorize?${new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid offline_access', code_challenge: challenge, code_challenge_method: 'S256' }).toString()}`));
  const code = callback.searchParams.get('code') ?? '';
  const tokens = (await (await form(server, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: verifier })).json()) as Record<string, string>;
  const refreshed = (await (await form(server, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token ?? '' })).json()) as Record<string, string>;
  const basic = `Basic ${btoa(`svc:${SECRET}`)}`;
  await form(server, '/token', { grant_type: 'client_credentials', scope: 'read' }, { authorization: basic });
  await form(server, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: SECRET });
  await form(server, '/token', { grant_type: 'password', username: 'u1', password: 'hunter2' }, { authorization: basic });
  const device = (await (await form(server, '/device_authorization', { client_id: 'spa' })).json()) as Record<string, string>;
  await form(server, '/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'spa', device_code: device.device_code ?? '' });
  await server.fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token ?? ''}` } });
  await form(server, '/revoke', { client_id: 'spa', token: refreshed.refresh_token ?? '' });
  return [SECRET, verifier, code, 'hunter2', device.device_code ?? '', tokens.access_token ?? '', tokens.refresh_token ?? '', refreshed.access_token ?? '', refreshed.refresh_token ?? '', btoa(`svc:${SECRET}`)];
}

describe('server.log', () => {
  it('records each request with its endpoint, method, grant type, client, parameters, status and error', async () => {
    const server = newServer();
    await form(server, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: 'wrong', scope: 'read' });
    expect(server.log).toEqual([
      {
        at: server.clock.now(),
        endpoint: 'token',
        method: 'POST',
        grantType: 'client_credentials',
        clientId: 'poster',
        params: { grant_type: 'client_credentials', client_id: 'poster', client_secret: '[redacted]', scope: 'read' },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 401,
        error: 'invalid_client',
      },
    ]);
  });

  it('never keeps a secret, code, verifier, password, device code, token or Authorization credential by default', async () => {
    const server = newServer();
    const secrets = await everyGrant(server);
    const logged = JSON.stringify(server.log);
    expect(server.log.length).toBeGreaterThanOrEqual(10);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(0);
      expect(logged).not.toContain(secret);
    }
    expect(server.log.find((entry) => entry.headers.authorization !== undefined)?.headers.authorization).toBe('Basic [redacted]');
  });

  it('keeps secrets when logSecrets is on', async () => {
    const server = newServer(true);
    const secrets = await everyGrant(server);
    const logged = JSON.stringify(server.log);
    for (const secret of [SECRET, secrets[1] ?? '', secrets[2] ?? '', 'hunter2']) expect(logged).toContain(secret);
  });

  it('names the client of a Basic-authenticated request', async () => {
    const server = newServer();
    await form(server, '/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${btoa(`svc:${SECRET}`)}` });
    expect(server.log[0]?.clientId).toBe('svc');
  });

  it('lists token requests, optionally of one grant type', async () => {
    const server = newServer();
    await everyGrant(server);
    expect(server.tokenRequests().length).toBe(6);
    expect(server.tokenRequests('client_credentials').map((entry) => entry.clientId)).toEqual(['svc', 'poster']);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(server.tokenRequests('urn:ietf:params:oauth:grant-type:device_code')[0]?.error).toBe('authorization_pending');
  });

  it('records the error code of an error redirect from the authorization endpoint', async () => {
    const server = newServer();
    server.nextAuthorization({ deny: true });
    await server.authorize(`${server.issuer}/authorize?client_id=spa&response_type=code&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
    expect(server.log[0]).toMatchObject({ endpoint: 'authorize', status: 302, error: 'access_denied' });
  });

  it('records the injected fault of a request', async () => {
    const server = newServer();
    server.fail('token', { status: 500 });
    await form(server, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: SECRET });
    expect(server.log[0]).toMatchObject({ status: 500, fault: 'status' });
  });
});

describe('inspection of issued tokens', () => {
  it('lists issued tokens with kind, client, subject, scopes, expiry and state', async () => {
    const server = newServer();
    await everyGrant(server);
    const tokens = server.issuedTokens();
    const byGrant = (grantType: string) => tokens.filter((token) => token.grantType === grantType);
    expect(byGrant('authorization_code').map((token) => token.kind).sort()).toEqual(['access_token', 'refresh_token']);
    expect(byGrant('authorization_code').find((token) => token.kind === 'refresh_token')).toMatchObject({ rotated: true, active: false, sub: 'u1' });
    // The refresh grant's refresh token was revoked at the end, taking the grant's access tokens along.
    expect(byGrant('refresh_token').every((token) => token.revoked && !token.active)).toBe(true);
    const cc = byGrant('client_credentials');
    expect(cc).toHaveLength(2);
    expect(cc[0]).toMatchObject({ kind: 'access_token', clientId: 'svc', scopes: ['read'], active: true, expiresAt: server.clock.now() + 3600_000 });
    expect(cc[0]).not.toHaveProperty('sub');
  });

  it('revokes a token as an administrator would', async () => {
    const server = newServer();
    const response = await form(server, '/token', { grant_type: 'client_credentials', client_id: 'poster', client_secret: SECRET });
    const token = ((await response.json()) as { access_token: string }).access_token;
    expect(server.isActive(token)).toBe(true);
    expect(server.revokeToken(token)).toBe(true);
    expect(server.isActive(token)).toBe(false);
    expect(server.revokeToken('unknown')).toBe(false);
    expect(server.isActive('unknown')).toBe(false);
  });
});

describe('clock', () => {
  it('is frozen until the test advances or sets it', () => {
    const server = newServer();
    const start = server.clock.now();
    expect(server.clock.now()).toBe(start);
    server.clock.advance(1_500);
    expect(server.clock.now()).toBe(start + 1_500);
    server.clock.set(Date.parse('2030-01-01T00:00:00Z'));
    expect(server.clock.now()).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(() => server.clock.advance(-1)).toThrow(RangeError);
  });

  it('follows a clock the test passes in, plus whatever it advanced', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const server = createTestAuthorizationServer({
      clock: { now: () => now },
      clients: [{ clientId: 'svc', clientSecret: SECRET, authMethod: 'client_secret_post', redirectUris: [], grants: ['client_credentials'], scopes: [] }],
      accessTokenTtl: 10,
    });
    const body = (await (await form(server, '/token', { grant_type: 'client_credentials', client_id: 'svc', client_secret: SECRET })).json()) as { access_token: string };
    now += 9_000;
    expect(server.isActive(body.access_token)).toBe(true);
    server.clock.advance(1_000);
    expect(server.clock.now()).toBe(now + 1_000);
    expect(server.isActive(body.access_token)).toBe(false);
  });
});

describe('options', () => {
  const base = { authMethod: 'none' as const, redirectUris: [], grants: [], scopes: [] };

  it('refuses a confidential client without a secret and a public client with one', () => {
    expect(() => createTestAuthorizationServer({ clients: [{ ...base, clientId: 'c', authMethod: 'client_secret_basic' }] })).toThrow(TypeError);
    expect(() => createTestAuthorizationServer({ clients: [{ ...base, clientId: 'c', clientSecret: 'x' }] })).toThrow(TypeError);
  });

  it('refuses a client without a known authMethod, naming the ones it takes', () => {
    const { authMethod: _omitted, ...withoutMethod } = base;
    const unknown = { ...withoutMethod, clientId: 'c', clientSecret: 'x' } as unknown as TestClient;
    expect(() => createTestAuthorizationServer({ clients: [unknown] })).toThrow(/needs an authMethod: none, client_secret_basic, client_secret_post/);
    expect(() => createTestAuthorizationServer({ clients: [{ ...unknown, authMethod: 'private_key_jwt' as never }] })).toThrow(TypeError);
  });

  it('refuses a client registered twice, also through registerClient', () => {
    expect(() => createTestAuthorizationServer({ clients: [{ ...base, clientId: 'c' }, { ...base, clientId: 'c' }] })).toThrow(/twice/);
    const server = createTestAuthorizationServer({ clients: [{ ...base, clientId: 'c' }] });
    expect(() => server.registerClient({ ...base, clientId: 'c' })).toThrow(/twice/);
  });

  it('refuses an issuer with a query or fragment (RFC 8414 §2) and one that is not a URL', () => {
    expect(() => createTestAuthorizationServer({ issuer: 'https://auth.test/?tenant=a' })).toThrow(TypeError);
    expect(() => createTestAuthorizationServer({ issuer: 'https://auth.test/#x' })).toThrow(TypeError);
    expect(() => createTestAuthorizationServer({ issuer: 'not a url' })).toThrow(TypeError);
  });

  it('drops a trailing slash from the issuer', () => {
    expect(createTestAuthorizationServer({ issuer: 'https://id.test/' }).issuer).toBe('https://id.test');
  });

  it('refuses non-positive lifetimes and a times count below one', () => {
    expect(() => createTestAuthorizationServer({ accessTokenTtl: 0 })).toThrow(TypeError);
    expect(() => createTestAuthorizationServer({ codeTtl: -5 })).toThrow(TypeError);
    expect(() => createTestAuthorizationServer().fail('token', { status: 500 }, { times: 0 })).toThrow(RangeError);
  });

  it('returns its metadata document for the in-memory issuer', () => {
    const server = createTestAuthorizationServer();
    expect(server.metadata()).toMatchObject({ issuer: 'https://auth.test', token_endpoint: 'https://auth.test/token' });
    expect(server.metadata('http://127.0.0.1:9')).toMatchObject({ token_endpoint: 'http://127.0.0.1:9/token' });
  });
});
