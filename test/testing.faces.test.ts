/**
 * The test authorization server's behaviour, run on both faces: the
 * in-memory `server.fetch` and the loopback HTTP server driven by the global
 * `fetch`. Plain HTTP only — nothing from src/protocol — so a bug the client
 * and the fake shared could not hide here.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer, type TestAuthorizationServerOptions, type TestClient } from '../src/testing/index.js';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const SPA_REDIRECT = 'https://app.test/callback';
const WEB_SECRET = 'web secret:with/odd+chars&=%';

const CLIENTS: TestClient[] = [
  {
    clientId: 'spa',
    authMethod: 'none',
    redirectUris: [SPA_REDIRECT],
    grants: ['authorization_code', 'refresh_token', DEVICE],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
  },
  {
    clientId: 'web app',
    clientSecret: WEB_SECRET,
    authMethod: 'client_secret_basic',
    redirectUris: ['https://web.test/cb', 'https://web.test/other'],
    grants: ['authorization_code', 'refresh_token', 'client_credentials'],
    scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
  },
  {
    clientId: 'backend',
    clientSecret: 's3cret',
    authMethod: 'client_secret_post',
    redirectUris: [],
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['api:read', 'service:leagues', 'offline_access', 'openid'],
  },
  {
    clientId: 'legacy',
    authMethod: 'none',
    redirectUris: ['https://legacy.test/cb'],
    grants: ['authorization_code'],
    scopes: ['openid'],
    pkceRequired: false,
  },
];

interface Face {
  server: TestAuthorizationServer;
  /** The issuer on this face. */
  issuer: string;
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
}

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

async function open(face: 'memory' | 'loopback', options: TestAuthorizationServerOptions = {}): Promise<Face> {
  const server = createTestAuthorizationServer({ clients: CLIENTS, ...options });
  if (face === 'memory') return { server, issuer: server.issuer, fetch: (input, init) => server.fetch(input, init) };
  const listening = await server.listen();
  opened.push(listening.close);
  return { server, issuer: listening.issuer, fetch: (input, init) => fetch(input, init) };
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** RFC 6749 §2.3.1: Basic over form-urlencoded id and secret. */
function basic(id: string, secret: string): string {
  const encode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

function post(f: Face, path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return f.fetch(`${f.issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

/** Sends an authorization request and returns the response without following it. */
function authorizeRequest(f: Face, params: Record<string, string>): Promise<Response> {
  return f.fetch(`${f.issuer}/authorize?${new URLSearchParams(params).toString()}`, { redirect: 'manual' });
}

async function callback(f: Face, params: Record<string, string>): Promise<URL> {
  const response = await authorizeRequest(f, params);
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

function claimsOf(idToken: string): Record<string, unknown> {
  const payload = idToken.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A full authorization for the public SPA client: returns the code and its verifier. */
async function spaCode(f: Face, scope = 'openid offline_access', extra: Record<string, string> = {}): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const url = await callback(f, {
    client_id: 'spa',
    response_type: 'code',
    redirect_uri: SPA_REDIRECT,
    scope,
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    nonce: 'nonce-1',
    ...extra,
  });
  return { code: url.searchParams.get('code') ?? '', verifier };
}

async function spaTokens(f: Face, scope = 'openid offline_access'): Promise<Record<string, unknown>> {
  const { code, verifier } = await spaCode(f, scope);
  const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
  expect(response.status).toBe(200);
  return json(response);
}

describe.each(['memory', 'loopback'] as const)('test authorization server (%s face)', (faceName) => {
  const openFace = (options?: TestAuthorizationServerOptions): Promise<Face> => open(faceName, options);

  describe('metadata', () => {
    it('serves RFC 8414 metadata whose issuer and endpoints follow the face', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/.well-known/oauth-authorization-server`);
      expect(response.status).toBe(200);
      const doc = await json(response);
      expect(doc.issuer).toBe(f.issuer);
      expect(doc.token_endpoint).toBe(`${f.issuer}/token`);
      expect(doc.authorization_endpoint).toBe(`${f.issuer}/authorize`);
      expect(doc.revocation_endpoint).toBe(`${f.issuer}/revoke`);
      expect(doc.introspection_endpoint).toBe(`${f.issuer}/introspect`);
      expect(doc.userinfo_endpoint).toBe(`${f.issuer}/userinfo`);
      expect(doc.device_authorization_endpoint).toBe(`${f.issuer}/device_authorization`);
      expect(doc.authorization_response_iss_parameter_supported).toBe(true);
      expect(doc.code_challenge_methods_supported).toEqual(['S256']);
      expect(doc.response_types_supported).toEqual(['code']);
      expect(doc.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials', DEVICE]);
      expect(doc.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
      expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'api:read', 'service:leagues']));
    });

    it('serves the OpenID configuration under the issuer', async () => {
      const f = await openFace();
      const doc = await json(await f.fetch(`${f.issuer}/.well-known/openid-configuration`));
      expect(doc.issuer).toBe(f.issuer);
      // Its ID tokens are unsigned or HMAC-keyed: it has no public key to publish, so no jwks_uri (a client would verify against it).
      expect(doc.jwks_uri).toBeUndefined();
      expect(doc.id_token_signing_alg_values_supported).toEqual(['none']);
    });

    it('lists plain PKCE and the password grant only when enabled, and leaves out switched-off endpoints', async () => {
      const f = await openFace({ allowPlainPkce: true, passwordGrant: true, paths: { revoke: null, token: '/oauth2/token' } });
      const doc = await json(await f.fetch(`${f.issuer}/.well-known/oauth-authorization-server`));
      expect(doc.code_challenge_methods_supported).toEqual(['S256', 'plain']);
      expect(doc.grant_types_supported).toContain('password');
      expect(doc).not.toHaveProperty('revocation_endpoint');
      expect(doc.token_endpoint).toBe(`${f.issuer}/oauth2/token`);
      expect((await post(f, '/revoke', { token: 'x', client_id: 'spa' })).status).toBe(404);
    });

    it('serves an issuer with a path at the RFC 8414 §3.1 well-known location', async () => {
      const f = await openFace({ issuer: 'https://auth.test/tenant-a' });
      expect(f.issuer.endsWith('/tenant-a')).toBe(true);
      const origin = new URL(f.issuer).origin;
      const doc = await json(await f.fetch(`${origin}/.well-known/oauth-authorization-server/tenant-a`));
      expect(doc.issuer).toBe(f.issuer);
      expect(doc.token_endpoint).toBe(`${f.issuer}/token`);
      expect((await f.fetch(`${origin}/.well-known/oauth-authorization-server`)).status).toBe(404);
    });
  });

  describe('authorization endpoint', () => {
    it('redirects to the registered redirect URI with code, state and iss', async () => {
      const f = await openFace();
      const { challenge } = pkce();
      const url = await callback(f, { client_id: 'spa', response_type: 'code', redirect_uri: SPA_REDIRECT, scope: 'openid', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256' });
      expect(`${url.origin}${url.pathname}`).toBe(SPA_REDIRECT);
      expect(url.searchParams.get('code')).toMatch(/^ac_[A-Za-z0-9_-]+$/);
      expect(url.searchParams.get('state')).toBe('xyz');
      expect(url.searchParams.get('iss')).toBe(f.issuer);
    });

    it('answers an unknown client with a 400 page, never a redirect', async () => {
      const f = await openFace();
      const response = await authorizeRequest(f, { client_id: 'nobody', response_type: 'code', redirect_uri: SPA_REDIRECT });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/html');
    });

    it('answers a redirect URI that differs by one character with a 400 page, never a redirect', async () => {
      const f = await openFace();
      const { challenge } = pkce();
      for (const redirect of [`${SPA_REDIRECT}/`, SPA_REDIRECT.toUpperCase(), `${SPA_REDIRECT}?x=1`]) {
        const response = await authorizeRequest(f, { client_id: 'spa', response_type: 'code', redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256' });
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
      }
    });

    it('requires redirect_uri when the client registered several', async () => {
      const f = await openFace();
      const { challenge } = pkce();
      const response = await authorizeRequest(f, { client_id: 'web app', response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' });
      expect(response.status).toBe(400);
    });

    it('uses the only registered redirect URI when none is sent', async () => {
      const f = await openFace();
      const { challenge } = pkce();
      const url = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' });
      expect(`${url.origin}${url.pathname}`).toBe(SPA_REDIRECT);
      expect(url.searchParams.has('code')).toBe(true);
    });

    it('redirects with invalid_request when a client that requires PKCE sends no challenge', async () => {
      const f = await openFace();
      const url = await callback(f, { client_id: 'spa', response_type: 'code', redirect_uri: SPA_REDIRECT, state: 's' });
      expect(url.searchParams.get('error')).toBe('invalid_request');
      expect(url.searchParams.get('state')).toBe('s');
      expect(url.searchParams.get('iss')).toBe(f.issuer);
      expect(url.searchParams.has('code')).toBe(false);
    });

    it('refuses plain PKCE (and an absent method, which means plain) unless the server allows it', async () => {
      const strict = await openFace();
      const challenge = randomBytes(32).toString('base64url');
      for (const method of [{ code_challenge_method: 'plain' }, {}]) {
        const url = await callback(strict, { client_id: 'spa', response_type: 'code', code_challenge: challenge, ...method });
        expect(url.searchParams.get('error')).toBe('invalid_request');
      }
      const lax = await openFace({ allowPlainPkce: true });
      const url = await callback(lax, { client_id: 'spa', response_type: 'code', code_challenge: challenge, code_challenge_method: 'plain' });
      const token = await post(lax, '/token', { grant_type: 'authorization_code', client_id: 'spa', code: url.searchParams.get('code') ?? '', code_verifier: challenge });
      expect(token.status).toBe(200);
    });

    it('rejects a malformed S256 challenge and an unknown method', async () => {
      const f = await openFace();
      const bad = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: 'short', code_challenge_method: 'S256' });
      expect(bad.searchParams.get('error')).toBe('invalid_request');
      const unknown = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S512' });
      expect(unknown.searchParams.get('error')).toBe('invalid_request');
    });

    it('redirects with invalid_scope for a scope the client is not registered for', async () => {
      const f = await openFace();
      const url = await callback(f, { client_id: 'spa', response_type: 'code', scope: 'openid admin', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(url.searchParams.get('error')).toBe('invalid_scope');
    });

    it('redirects with unsupported_response_type for anything but code', async () => {
      const f = await openFace();
      const url = await callback(f, { client_id: 'spa', response_type: 'token', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(url.searchParams.get('error')).toBe('unsupported_response_type');
    });

    it('redirects with unauthorized_client when the client may not use the code grant', async () => {
      const f = await openFace();
      f.server.registerClient({ clientId: 'cc-only', clientSecret: 'x', authMethod: 'client_secret_post', redirectUris: ['https://cc.test/cb'], grants: ['client_credentials'], scopes: [] });
      const url = await callback(f, { client_id: 'cc-only', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(url.searchParams.get('error')).toBe('unauthorized_client');
    });

    it('answers a repeated parameter with a 400 page', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/authorize?client_id=spa&client_id=spa&response_type=code`, { redirect: 'manual' });
      expect(response.status).toBe(400);
    });

    it('denies the next authorization when told, then approves again', async () => {
      const f = await openFace();
      f.server.nextAuthorization({ deny: true });
      const denied = await callback(f, { client_id: 'spa', response_type: 'code', state: 'a', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(denied.searchParams.get('error')).toBe('access_denied');
      expect(denied.searchParams.get('state')).toBe('a');
      expect(denied.searchParams.get('iss')).toBe(f.issuer);
      const approved = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(approved.searchParams.has('code')).toBe(true);
    });

    it('redirects with the error the test injects, with its description', async () => {
      const f = await openFace();
      f.server.nextAuthorization({ error: 'server_error', errorDescription: 'boom' });
      const url = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(url.searchParams.get('error')).toBe('server_error');
      expect(url.searchParams.get('error_description')).toBe('boom');
    });

    it('signs in the user the decision names', async () => {
      const f = await openFace();
      f.server.nextAuthorization({ user: { sub: 'alice', claims: { email: 'alice@example.test' } } });
      const tokens = await spaTokens(f, 'openid');
      expect(claimsOf(String(tokens.id_token)).sub).toBe('alice');
      const info = await json(await f.fetch(`${f.issuer}/userinfo`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } }));
      expect(info).toEqual({ sub: 'alice', email: 'alice@example.test' });
    });
  });

  describe('authorization code grant', () => {
    it('exchanges a code with the right verifier for tokens and an ID token with iss, sub, aud, nonce, iat, exp', async () => {
      const f = await openFace({ user: { sub: 'user-1', claims: { name: 'Ada' } } });
      const tokens = await spaTokens(f, 'openid offline_access');
      expect(tokens.token_type).toBe('Bearer');
      expect(tokens.expires_in).toBe(3600);
      expect(tokens.scope).toBe('openid offline_access');
      expect(String(tokens.access_token)).toMatch(/^at_/);
      expect(String(tokens.refresh_token)).toMatch(/^rt_/);
      const claims = claimsOf(String(tokens.id_token));
      expect(claims).toMatchObject({ iss: f.issuer, sub: 'user-1', aud: 'spa', nonce: 'nonce-1', name: 'Ada' });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
      expect(Math.abs(Number(claims.iat) * 1000 - f.server.clock.now())).toBeLessThan(1000);
    });

    it('signs ID tokens with HS256 keyed by the client secret when asked', async () => {
      const f = await openFace({ idTokenAlg: 'HS256' });
      const { verifier, challenge } = pkce();
      const url = await callback(f, { client_id: 'web app', response_type: 'code', redirect_uri: 'https://web.test/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
      const tokens = await json(await post(f, '/token', { grant_type: 'authorization_code', code: url.searchParams.get('code') ?? '', redirect_uri: 'https://web.test/cb', code_verifier: verifier }, { authorization: basic('web app', WEB_SECRET) }));
      const [header = '', payload = '', signature = ''] = String(tokens.id_token).split('.');
      expect(JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(signature).toBe(createHmac('sha256', WEB_SECRET).update(`${header}.${payload}`).digest('base64url'));
      expect(claimsOf(String(tokens.id_token)).aud).toBe('web app');
    });

    it('answers token responses with Cache-Control: no-store', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
      expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('issues no refresh token without offline_access, and no ID token without openid', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f, 'profile');
      expect(tokens).not.toHaveProperty('refresh_token');
      expect(tokens).not.toHaveProperty('id_token');
    });

    it('issues refresh tokens without offline_access when the server says always', async () => {
      const f = await openFace({ refreshTokens: 'always' });
      const tokens = await spaTokens(f, 'profile');
      expect(tokens).toHaveProperty('refresh_token');
    });

    it('rejects a wrong verifier with invalid_grant', async () => {
      const f = await openFace();
      const { code } = await spaCode(f);
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: pkce().verifier });
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({ error: 'invalid_grant' });
    });

    it('rejects a missing verifier, and a verifier for a code issued without a challenge', async () => {
      const f = await openFace();
      const { code } = await spaCode(f);
      const missing = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT });
      expect(await json(missing)).toMatchObject({ error: 'invalid_grant' });
      const url = await callback(f, { client_id: 'legacy', response_type: 'code' });
      const downgrade = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'legacy', code: url.searchParams.get('code') ?? '', code_verifier: pkce().verifier });
      expect(await json(downgrade)).toMatchObject({ error: 'invalid_grant' });
    });

    it('rejects a redirect_uri that differs from the authorization request', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: 'https://app.test/other', code_verifier: verifier });
      expect(await json(response)).toMatchObject({ error: 'invalid_grant' });
      const { code: code2, verifier: verifier2 } = await spaCode(f);
      const omitted = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code: code2, code_verifier: verifier2 });
      expect(await json(omitted)).toMatchObject({ error: 'invalid_grant' });
    });

    it('refuses a code issued to another client', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      const response = await post(f, '/token', { grant_type: 'authorization_code', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }, { authorization: basic('web app', WEB_SECRET) });
      expect(await json(response)).toMatchObject({ error: 'invalid_grant' });
    });

    it('fails a replayed code with invalid_grant and revokes every token issued from it', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      const params = { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier };
      const first = await json(await post(f, '/token', params));
      const refreshed = await json(await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token) }));
      expect(f.server.isActive(String(first.access_token))).toBe(true);
      const replay = await post(f, '/token', params);
      expect(replay.status).toBe(400);
      expect(await json(replay)).toMatchObject({ error: 'invalid_grant' });
      for (const token of [first.access_token, refreshed.access_token, refreshed.refresh_token]) {
        expect(f.server.isActive(String(token))).toBe(false);
      }
      const afterwards = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(refreshed.refresh_token) });
      expect(await json(afterwards)).toMatchObject({ error: 'invalid_grant' });
    });

    it('lets exactly one of several concurrent exchanges of one code succeed, and revokes what it got', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      const params = { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier };
      const responses = await Promise.all(Array.from({ length: 5 }, () => post(f, '/token', params)));
      expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 400, 400, 400]);
      const winner = responses.find((response) => response.status === 200);
      const tokens = await json(winner ?? new Response('{}'));
      expect(f.server.isActive(String(tokens.access_token))).toBe(false);
      expect(f.server.isActive(String(tokens.refresh_token))).toBe(false);
    });

    it('consumes a code on its first presentation, even when that exchange fails', async () => {
      const f = await openFace();
      const { code, verifier } = await spaCode(f);
      await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: pkce().verifier });
      const retry = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
      expect(await json(retry)).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('token endpoint requests', () => {
    it('requires POST with a form body', async () => {
      const f = await openFace();
      const get = await f.fetch(`${f.issuer}/token?grant_type=client_credentials`);
      expect(get.status).toBe(405);
      const jsonBody = await f.fetch(`${f.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'backend', client_secret: 's3cret' }) });
      expect(jsonBody.status).toBe(400);
      expect(await json(jsonBody)).toMatchObject({ error: 'invalid_request' });
    });

    it('rejects a repeated parameter with invalid_request', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=backend&client_secret=s3cret&scope=api:read&scope=api:read' });
      expect(await json(response)).toMatchObject({ error: 'invalid_request' });
    });

    it('answers a missing grant_type with invalid_request and an unknown one with unsupported_grant_type', async () => {
      const f = await openFace();
      expect(await json(await post(f, '/token', { client_id: 'spa' }))).toMatchObject({ error: 'invalid_request' });
      expect(await json(await post(f, '/token', { client_id: 'spa', grant_type: 'urn:example:magic' }))).toMatchObject({ error: 'unsupported_grant_type' });
    });

    it('answers a grant the client is not registered for with unauthorized_client', async () => {
      const f = await openFace();
      const response = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'spa' });
      expect(await json(response)).toMatchObject({ error: 'unauthorized_client' });
    });
  });

  describe('client authentication', () => {
    it('accepts HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1)', async () => {
      const f = await openFace();
      const response = await post(f, '/token', { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basic('web app', WEB_SECRET) });
      expect(response.status).toBe(200);
      expect(await json(response)).toMatchObject({ scope: 'api:read', token_type: 'Bearer' });
    });

    it('rejects a wrong secret with 401 invalid_client and WWW-Authenticate: Basic', async () => {
      const f = await openFace();
      const response = await post(f, '/token', { grant_type: 'client_credentials' }, { authorization: basic('web app', 'wrong') });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await json(response)).toMatchObject({ error: 'invalid_client' });
    });

    it('rejects Basic credentials that are not form-encoded the way RFC 6749 §2.3.1 says', async () => {
      const f = await openFace();
      const raw = `Basic ${Buffer.from(`web app:${WEB_SECRET}`).toString('base64')}`;
      const response = await post(f, '/token', { grant_type: 'client_credentials' }, { authorization: raw });
      expect(response.status).toBe(401);
    });

    it('rejects a method other than the registered one with 401 invalid_client', async () => {
      const f = await openFace();
      const postForBasicClient = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'web app', client_secret: WEB_SECRET });
      expect(postForBasicClient.status).toBe(401);
      const basicForPostClient = await post(f, '/token', { grant_type: 'client_credentials' }, { authorization: basic('backend', 's3cret') });
      expect(basicForPostClient.status).toBe(401);
      const noSecret = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'backend' });
      expect(noSecret.status).toBe(401);
      expect(noSecret.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('rejects two authentication methods in one request with invalid_request', async () => {
      const f = await openFace();
      const response = await post(f, '/token', { grant_type: 'client_credentials', client_secret: WEB_SECRET }, { authorization: basic('web app', WEB_SECRET) });
      expect(await json(response)).toMatchObject({ error: 'invalid_request' });
    });

    it('rejects an unknown client and a request without any client with 401 invalid_client', async () => {
      const f = await openFace();
      expect((await post(f, '/token', { grant_type: 'client_credentials', client_id: 'ghost' })).status).toBe(401);
      expect((await post(f, '/token', { grant_type: 'client_credentials' })).status).toBe(401);
    });
  });

  describe('refresh token grant', () => {
    it('rotates: a new refresh token each time, the old one no longer active', async () => {
      const f = await openFace();
      const first = await spaTokens(f);
      const response = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token) });
      expect(response.status).toBe(200);
      const second = await json(response);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(f.server.isActive(String(first.refresh_token))).toBe(false);
      expect(f.server.isActive(String(second.refresh_token))).toBe(true);
      expect(claimsOf(String(second.id_token)).sub).toBe('test-user');
    });

    it('detects reuse of a rotated refresh token and revokes the whole family', async () => {
      const f = await openFace();
      const first = await spaTokens(f);
      const second = await json(await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token) }));
      const reuse = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token) });
      expect(await json(reuse)).toMatchObject({ error: 'invalid_grant' });
      for (const token of [first.access_token, second.access_token, second.refresh_token]) expect(f.server.isActive(String(token))).toBe(false);
      const legit = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(second.refresh_token) });
      expect(await json(legit)).toMatchObject({ error: 'invalid_grant' });
    });

    it('keeps the refresh token when rotation is off and sends none back', async () => {
      const f = await openFace({ rotateRefreshTokens: false });
      const first = await spaTokens(f);
      for (let i = 0; i < 3; i++) {
        const response = await json(await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token) }));
        expect(response).not.toHaveProperty('refresh_token');
        expect(response.access_token).toMatch(/^at_/);
      }
    });

    it('narrows the scope on request and refuses to widen it', async () => {
      const f = await openFace();
      const first = await spaTokens(f, 'openid profile offline_access');
      const narrow = await json(await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.refresh_token), scope: 'profile' }));
      expect(narrow.scope).toBe('profile');
      const wide = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(narrow.refresh_token), scope: 'profile email' });
      expect(await json(wide)).toMatchObject({ error: 'invalid_scope' });
    });

    it('refuses a refresh token of another client, and an access token presented as a refresh token', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f);
      const other = await post(f, '/token', { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) }, { authorization: basic('web app', WEB_SECRET) });
      expect(await json(other)).toMatchObject({ error: 'invalid_grant' });
      const access = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(tokens.access_token) });
      expect(await json(access)).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('client credentials grant', () => {
    it('issues an access token without refresh token for a confidential client', async () => {
      const f = await openFace();
      const tokens = await json(await post(f, '/token', { grant_type: 'client_credentials', client_id: 'backend', client_secret: 's3cret', scope: 'api:read offline_access' }));
      expect(tokens.scope).toBe('api:read offline_access');
      expect(tokens).not.toHaveProperty('refresh_token');
      expect(tokens).not.toHaveProperty('id_token');
    });

    it('refuses a scope the client is not registered for', async () => {
      const f = await openFace();
      const response = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'backend', client_secret: 's3cret', scope: 'api:write' });
      expect(await json(response)).toMatchObject({ error: 'invalid_scope' });
    });

    it('refuses a public client', async () => {
      const f = await openFace();
      f.server.registerClient({ clientId: 'public-cc', authMethod: 'none', redirectUris: [], grants: ['client_credentials'], scopes: [] });
      const response = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'public-cc' });
      expect(await json(response)).toMatchObject({ error: 'unauthorized_client' });
    });
  });

  describe('device authorization grant (RFC 8628)', () => {
    async function startDevice(f: Face, scope = 'openid offline_access'): Promise<Record<string, unknown>> {
      const response = await post(f, '/device_authorization', { client_id: 'spa', scope });
      expect(response.status).toBe(200);
      return json(response);
    }
    const poll = (f: Face, deviceCode: unknown): Promise<Response> =>
      post(f, '/token', { grant_type: DEVICE, client_id: 'spa', device_code: String(deviceCode) });

    it('answers with device_code, user_code, verification URIs, expires_in and interval', async () => {
      const f = await openFace();
      const device = await startDevice(f);
      expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      expect(device.verification_uri).toBe(`${f.issuer}/device`);
      expect(device.verification_uri_complete).toBe(`${f.issuer}/device?user_code=${encodeURIComponent(String(device.user_code))}`);
      expect(device.expires_in).toBe(600);
      expect(device.interval).toBe(5);
      expect((await f.fetch(String(device.verification_uri_complete))).status).toBe(200);
    });

    it('answers authorization_pending, slow_down when polled too fast, then tokens after approval', async () => {
      const f = await openFace();
      const device = await startDevice(f);
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'authorization_pending' });
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'slow_down' });
      // The interval is now 10 s (RFC 8628 §3.5: +5 s per slow_down).
      f.server.clock.advance(5_000);
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'slow_down' });
      f.server.clock.advance(15_000);
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'authorization_pending' });
      f.server.approveDevice(String(device.user_code).toLowerCase().replace('-', ''), { sub: 'tv-user' });
      f.server.clock.advance(20_000);
      const tokens = await json(await poll(f, device.device_code));
      expect(tokens).toHaveProperty('access_token');
      expect(tokens).toHaveProperty('refresh_token');
      expect(claimsOf(String(tokens.id_token)).sub).toBe('tv-user');
      f.server.clock.advance(20_000);
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'invalid_grant' });
    });

    it('answers access_denied after the user denies', async () => {
      const f = await openFace();
      const device = await startDevice(f);
      f.server.denyDevice(String(device.user_code));
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'access_denied' });
      expect(() => f.server.approveDevice(String(device.user_code))).toThrow(/denied/);
    });

    it('answers expired_token once the device code outlives expires_in', async () => {
      const f = await openFace({ deviceCodeTtl: 30 });
      const device = await startDevice(f);
      f.server.clock.advance(30_000);
      expect(await json(await poll(f, device.device_code))).toMatchObject({ error: 'expired_token' });
      expect(() => f.server.approveDevice(String(device.user_code))).toThrow(/expired/);
    });

    it('refuses an unknown user code and a client not registered for the device grant', async () => {
      const f = await openFace();
      expect(() => f.server.approveDevice('ZZZZ-ZZZZ')).toThrow(/no device authorization/);
      const response = await post(f, '/device_authorization', { client_id: 'backend', client_secret: 's3cret' });
      expect(await json(response)).toMatchObject({ error: 'unauthorized_client' });
    });
  });

  describe('password grant (legacy)', () => {
    it('is off by default', async () => {
      const f = await openFace({ user: { sub: 'u', password: 'pw' } });
      const response = await post(f, '/token', { grant_type: 'password', client_id: 'backend', client_secret: 's3cret', username: 'u', password: 'pw' });
      expect(await json(response)).toMatchObject({ error: 'unsupported_grant_type' });
    });

    it('issues tokens for the right credentials and invalid_grant otherwise', async () => {
      const f = await openFace({ passwordGrant: true, user: { sub: 'u-1', username: 'ada', password: 'pw' } });
      const ok = await post(f, '/token', { grant_type: 'password', client_id: 'backend', client_secret: 's3cret', username: 'ada', password: 'pw', scope: 'openid offline_access' });
      const tokens = await json(ok);
      expect(ok.status).toBe(200);
      expect(tokens).toHaveProperty('refresh_token');
      expect(claimsOf(String(tokens.id_token)).sub).toBe('u-1');
      const wrong = await post(f, '/token', { grant_type: 'password', client_id: 'backend', client_secret: 's3cret', username: 'ada', password: 'nope' });
      expect(await json(wrong)).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('answers 200 for an unknown token', async () => {
      const f = await openFace();
      const response = await post(f, '/revoke', { client_id: 'spa', token: 'never-issued' });
      expect(response.status).toBe(200);
    });

    it('revoking a refresh token revokes the access tokens of its grant', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f);
      expect((await post(f, '/revoke', { client_id: 'spa', token: String(tokens.refresh_token), token_type_hint: 'refresh_token' })).status).toBe(200);
      expect(f.server.isActive(String(tokens.access_token))).toBe(false);
      const refresh = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(tokens.refresh_token) });
      expect(await json(refresh)).toMatchObject({ error: 'invalid_grant' });
    });

    it('revoking an access token leaves the refresh token usable', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f);
      await post(f, '/revoke', { client_id: 'spa', token: String(tokens.access_token) });
      expect(f.server.isActive(String(tokens.access_token))).toBe(false);
      expect(f.server.isActive(String(tokens.refresh_token))).toBe(true);
    });

    it('requires valid client authentication and leaves other clients\u2019 tokens alone', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f);
      expect((await post(f, '/revoke', { token: String(tokens.access_token) }, { authorization: basic('web app', 'wrong') })).status).toBe(401);
      expect((await post(f, '/revoke', { token: String(tokens.access_token) }, { authorization: basic('web app', WEB_SECRET) })).status).toBe(200);
      expect(f.server.isActive(String(tokens.access_token))).toBe(true);
      expect(await json(await post(f, '/revoke', { client_id: 'spa' }))).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('introspection (RFC 7662)', () => {
    it('describes an active token and reports a revoked one inactive', async () => {
      const f = await openFace();
      const tokens = await json(await post(f, '/token', { grant_type: 'client_credentials', scope: 'api:read' }, { authorization: basic('web app', WEB_SECRET) }));
      const auth = { authorization: basic('web app', WEB_SECRET) };
      const active = await json(await post(f, '/introspect', { token: String(tokens.access_token) }, auth));
      expect(active).toMatchObject({ active: true, scope: 'api:read', client_id: 'web app', token_type: 'Bearer', iss: f.issuer });
      expect(Number(active.exp) - Number(active.iat)).toBe(3600);
      await post(f, '/revoke', { token: String(tokens.access_token) }, auth);
      expect(await json(await post(f, '/introspect', { token: String(tokens.access_token) }, auth))).toEqual({ active: false });
      expect(await json(await post(f, '/introspect', { token: 'unknown' }, auth))).toEqual({ active: false });
    });

    it('refuses public clients with 401 invalid_client', async () => {
      const f = await openFace();
      const response = await post(f, '/introspect', { client_id: 'spa', token: 'x' });
      expect(response.status).toBe(401);
      expect(await json(response)).toMatchObject({ error: 'invalid_client' });
    });
  });

  describe('userinfo', () => {
    it('returns the user\u2019s claims for a bearer token with openid', async () => {
      const f = await openFace({ user: { sub: 'u-7', claims: { email: 'u7@example.test', sub: 'ignored' } } });
      const tokens = await spaTokens(f, 'openid');
      const response = await f.fetch(`${f.issuer}/userinfo`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } });
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ sub: 'u-7', email: 'u7@example.test' });
    });

    it('answers a bad token with 401 and WWW-Authenticate: Bearer error="invalid_token"', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/userinfo`, { headers: { authorization: 'Bearer not-a-token' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    });

    it('answers a request without a token with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/userinfo`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(response.headers.get('www-authenticate')).not.toContain('error=');
    });

    it('answers a token without openid with 403 insufficient_scope', async () => {
      const f = await openFace();
      const tokens = await spaTokens(f, 'profile');
      const response = await f.fetch(`${f.issuer}/userinfo`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });
  });

  describe('expiry follows the controlled clock', () => {
    it('expires authorization codes after codeTtl', async () => {
      const f = await openFace({ codeTtl: 10 });
      const { code, verifier } = await spaCode(f);
      f.server.clock.advance(10_000);
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
      expect(await json(response)).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('expired') });
    });

    it('accepts a code one millisecond before it expires', async () => {
      const f = await openFace({ codeTtl: 10 });
      const { code, verifier } = await spaCode(f);
      f.server.clock.advance(9_999);
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
      expect(response.status).toBe(200);
    });

    it('expires access tokens after accessTokenTtl (userinfo 401, introspection inactive)', async () => {
      const f = await openFace({ accessTokenTtl: 60 });
      const tokens = await spaTokens(f, 'openid offline_access');
      expect(tokens.expires_in).toBe(60);
      f.server.clock.advance(60_000);
      const response = await f.fetch(`${f.issuer}/userinfo`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } });
      expect(response.status).toBe(401);
      expect(f.server.isActive(String(tokens.access_token))).toBe(false);
      expect(f.server.isActive(String(tokens.refresh_token))).toBe(true);
    });

    it('expires refresh tokens after refreshTokenTtl', async () => {
      const f = await openFace({ refreshTokenTtl: 120 });
      const tokens = await spaTokens(f);
      f.server.clock.advance(120_000);
      const response = await post(f, '/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(tokens.refresh_token) });
      expect(await json(response)).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('CORS', () => {
    it('answers a preflight from a registered redirect URI\u2019s origin', async () => {
      const f = await openFace();
      const response = await f.fetch(`${f.issuer}/token`, { method: 'OPTIONS', headers: { origin: 'https://app.test', 'access-control-request-method': 'POST' } });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.test');
      expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
      expect(f.server.log).toHaveLength(0);
    });

    it('gives no CORS headers to an unregistered origin', async () => {
      const f = await openFace();
      const preflight = await f.fetch(`${f.issuer}/token`, { method: 'OPTIONS', headers: { origin: 'https://evil.test' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const response = await post(f, '/token', { grant_type: 'client_credentials', client_id: 'ghost' }, { origin: 'https://evil.test' });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('marks token, revocation, userinfo and device responses readable by the registered origin', async () => {
      const f = await openFace();
      const origin = { origin: 'https://app.test' };
      const { code, verifier } = await spaCode(f);
      const token = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }, origin);
      expect(token.headers.get('access-control-allow-origin')).toBe('https://app.test');
      const tokens = await json(token);
      const userinfo = await f.fetch(`${f.issuer}/userinfo`, { headers: { ...origin, authorization: `Bearer ${String(tokens.access_token)}` } });
      expect(userinfo.headers.get('access-control-allow-origin')).toBe('https://app.test');
      const device = await post(f, '/device_authorization', { client_id: 'spa' }, origin);
      expect(device.headers.get('access-control-allow-origin')).toBe('https://app.test');
      const revoke = await post(f, '/revoke', { client_id: 'spa', token: String(tokens.access_token) }, origin);
      expect(revoke.headers.get('access-control-allow-origin')).toBe('https://app.test');
    });
  });

  describe('faults', () => {
    const ccParams = { grant_type: 'client_credentials', client_id: 'backend', client_secret: 's3cret' };

    it('answers with an injected status and body, then behaves again', async () => {
      const f = await openFace();
      f.server.fail('token', { status: 503, body: { message: 'maintenance' } }, { times: 2 });
      for (let i = 0; i < 2; i++) {
        const response = await post(f, '/token', ccParams);
        expect(response.status).toBe(503);
        expect(await json(response)).toEqual({ message: 'maintenance' });
      }
      expect((await post(f, '/token', ccParams)).status).toBe(200);
    });

    it('answers with injected headers: a Retry-After, a content type over a string body', async () => {
      const f = await openFace();
      f.server.fail('token', { status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '2' } });
      const limited = await post(f, '/token', ccParams);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('2');
      expect(await json(limited)).toEqual({ error: 'slow_down' });
      f.server.fail('token', { status: 200, body: '{"access_token":"at_', headers: { 'content-type': 'application/json' } });
      const truncated = await post(f, '/token', ccParams);
      expect(truncated.headers.get('content-type')).toBe('application/json');
      await expect(truncated.json()).rejects.toThrow(SyntaxError);
    });

    it('answers with an injected OAuth error', async () => {
      const f = await openFace();
      f.server.fail('token', { oauthError: 'temporarily_unavailable', status: 503 });
      const response = await post(f, '/token', ccParams);
      expect(response.status).toBe(503);
      expect(await json(response)).toMatchObject({ error: 'temporarily_unavailable' });
    });

    it('turns an injected OAuth error at the authorization endpoint into an error redirect', async () => {
      const f = await openFace();
      f.server.fail('authorize', { oauthError: 'temporarily_unavailable' });
      const url = await callback(f, { client_id: 'spa', response_type: 'code', state: 'q', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(url.searchParams.get('error')).toBe('temporarily_unavailable');
      expect(url.searchParams.get('state')).toBe('q');
    });

    it('answers with an HTML page where JSON was expected', async () => {
      const f = await openFace();
      f.server.fail('metadata', { notJson: true });
      const response = await f.fetch(`${f.issuer}/.well-known/oauth-authorization-server`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      await expect(response.json()).rejects.toThrow();
      f.server.fail('userinfo', { notJson: true, status: 502 });
      expect((await f.fetch(`${f.issuer}/userinfo`)).status).toBe(502);
    });

    it('answers with valid JSON of the wrong shape', async () => {
      const f = await openFace();
      f.server.fail('token', { wrongShape: true });
      const body = await json(await post(f, '/token', ccParams));
      expect(typeof body.access_token).not.toBe('string');
    });

    it('drops the connection: fetch rejects with a TypeError', async () => {
      const f = await openFace();
      f.server.fail('token', { drop: true });
      await expect(post(f, '/token', ccParams)).rejects.toThrow(TypeError);
      expect(f.server.log.at(-1)).toMatchObject({ endpoint: 'token', status: 0, fault: 'drop' });
      expect((await post(f, '/token', ccParams)).status).toBe(200);
    });

    it('delays and then answers normally', async () => {
      const f = await openFace();
      f.server.fail('token', { delayMs: 20 });
      const response = await post(f, '/token', ccParams);
      expect(response.status).toBe(200);
      expect(f.server.log.at(-1)).toMatchObject({ fault: 'delay', status: 200 });
    });

    it('rejects with an AbortError when the signal aborts during a delay', async () => {
      const f = await openFace();
      f.server.fail('token', { delayMs: 60_000 });
      const controller = new AbortController();
      const pending = f.fetch(`${f.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(ccParams).toString(),
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 10);
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    });
  });

  describe('provider quirks', () => {
    it('accepts JSON token requests when jsonTokenRequests is on (as a jsonTokenEndpoint() server)', async () => {
      const f = await openFace({ quirks: { jsonTokenRequests: true } });
      const { code, verifier } = await spaCode(f);
      const response = await f.fetch(`${f.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }),
      });
      expect(response.status).toBe(200);
      const nonString = await f.fetch(`${f.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'backend', client_secret: 's3cret', scope: ['api:read'] }) });
      expect(await json(nonString)).toMatchObject({ error: 'invalid_request' });
    });

    it('announces and requires S256 under another name (a jsonTokenEndpoint() server: SHA-256)', async () => {
      const f = await openFace({ quirks: { pkceMethodName: 'SHA-256' } });
      const doc = await json(await f.fetch(`${f.issuer}/.well-known/oauth-authorization-server`));
      expect(doc.code_challenge_methods_supported).toEqual(['SHA-256']);
      const standard = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256' });
      expect(standard.searchParams.get('error')).toBe('invalid_request');
      const { verifier, challenge } = pkce();
      const quirky = await callback(f, { client_id: 'spa', response_type: 'code', code_challenge: challenge, code_challenge_method: 'SHA-256' });
      const response = await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code: quirky.searchParams.get('code') ?? '', code_verifier: verifier });
      expect(response.status).toBe(200);
    });

    it('answers { api_key, api_key_expires_in } (as Poe does), null meaning a key that never expires', async () => {
      const f = await openFace({ quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: null } });
      const { code, verifier } = await spaCode(f, 'profile offline_access');
      const body = await json(await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }));
      expect(Object.keys(body).sort()).toEqual(['api_key', 'api_key_expires_in']);
      expect(body.api_key_expires_in).toBeNull();
      f.server.clock.advance(10 * 365 * 24 * 3600 * 1000);
      expect(f.server.isActive(String(body.api_key))).toBe(true);
    });

    it('gives api keys a lifetime when apiKeyExpiresIn is a number', async () => {
      const f = await openFace({ quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: 100 } });
      const { code, verifier } = await spaCode(f, 'profile');
      const body = await json(await post(f, '/token', { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }));
      expect(body.api_key_expires_in).toBe(100);
      f.server.clock.advance(100_000);
      expect(f.server.isActive(String(body.api_key))).toBe(false);
    });

    it('rejects HTTP Basic with invalid_client when only client_secret_post is accepted (as at Path of Exile)', async () => {
      const f = await openFace({ quirks: { clientSecretPostOnly: true } });
      const response = await post(f, '/token', { grant_type: 'client_credentials' }, { authorization: basic('web app', WEB_SECRET) });
      expect(response.status).toBe(401);
      expect(await json(response)).toMatchObject({ error: 'invalid_client' });
      const doc = await json(await f.fetch(`${f.issuer}/.well-known/oauth-authorization-server`));
      expect(doc.token_endpoint_auth_methods_supported).not.toContain('client_secret_basic');
      expect((await post(f, '/token', ccParamsFor('backend', 's3cret'))).status).toBe(200);
    });

    it('rejects back-channel requests whose User-Agent does not match (as at Path of Exile)', async () => {
      const f = await openFace({ quirks: { userAgentPattern: /^OAuth [^/\s]+\/\S+ \(contact: [^)]+\)/ } });
      const without = await post(f, '/token', ccParamsFor('backend', 's3cret'), { 'user-agent': 'curl/8' });
      expect(await json(without)).toMatchObject({ error: 'invalid_request' });
      const withUa = await post(f, '/token', ccParamsFor('backend', 's3cret'), { 'user-agent': 'OAuth backend/1.0.0 (contact: dev@example.test)' });
      expect(withUa.status).toBe(200);
    });

    it('matches the User-Agent the same way on every request, even with a global pattern', async () => {
      const f = await openFace({ quirks: { userAgentPattern: /^OAuth /g } });
      for (let i = 0; i < 3; i++) {
        expect((await post(f, '/token', ccParamsFor('backend', 's3cret'), { 'user-agent': 'OAuth backend/1.0.0' })).status).toBe(200);
      }
    });

    it('keeps grant-only scopes to their grants (Path of Exile: service:* through client credentials only)', async () => {
      const f = await openFace({ quirks: { grantOnlyScopes: { 'service:*': ['client_credentials'] } }, passwordGrant: true, user: { sub: 'u', password: 'pw' } });
      const cc = await post(f, '/token', { ...ccParamsFor('backend', 's3cret'), scope: 'service:leagues' });
      expect(cc.status).toBe(200);
      const password = await post(f, '/token', { grant_type: 'password', client_id: 'backend', client_secret: 's3cret', username: 'u', password: 'pw', scope: 'service:leagues' });
      expect(await json(password)).toMatchObject({ error: 'invalid_scope' });
    });

    it('serves the token-info GET (as for the generic() profile)', async () => {
      const f = await openFace({ quirks: { tokenInfo: true }, user: { sub: 'user_123' } });
      const tokens = await spaTokens(f, 'openid profile');
      const info = await json(await f.fetch(`${f.issuer}/v1/oauth/token/info`, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } }));
      expect(info).toEqual({
        client_id: 'spa',
        user_id: 'user_123',
        scopes: ['openid', 'profile'],
        expires_at: new Date(f.server.clock.now() + 3600_000).toISOString(),
      });
      const bad = await f.fetch(`${f.issuer}/v1/oauth/token/info`, { headers: { authorization: 'Bearer nope' } });
      expect(bad.status).toBe(401);
      const off = await openFace();
      expect((await off.fetch(`${off.issuer}/v1/oauth/token/info`)).status).toBe(404);
    });
  });
});

function ccParamsFor(clientId: string, secret: string): Record<string, string> {
  return { grant_type: 'client_credentials', client_id: clientId, client_secret: secret };
}
