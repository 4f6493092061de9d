/**
 * The source providers' documented samples, rewritten with oauth-machines as
 * docs/providers.md shows them, run as written (package imports pointed at the
 * source tree) against the test authorization server with each provider's
 * quirks and paths. No network: every request to a provider's host is
 * answered by the in-memory test server, or by a stand-in for its API.
 */
import ts from 'typescript';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';
import type { TestAuthorizationServerOptions, TestClient } from '../src/testing/types.js';
import { writeSample } from './support/docSamples.js';

/** Where the samples' requests go: set by each test before it imports its sample. */
let answer: (url: URL, init: RequestInit | undefined) => Promise<Response> = () => Promise.reject(new TypeError('no route'));

const routed = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = new URL(input instanceof Request ? input.url : input);
  return answer(url, init);
};

// The server entry's default transport is Node's own HTTP client: the samples' servers get the router too.
vi.mock('../src/server/nodeServices.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/server/nodeServices.js')>();
  return { ...actual, sharedKeepAliveFetch: () => routed };
});

const SAMPLES = ['path-of-exile-server', 'poe-server', 'skymavis', 'json-token-endpoint', 'generic'] as const;
const files = new Map<string, string>();

beforeAll(() => {
  for (const name of [...SAMPLES, 'path-of-exile-spa']) files.set(name, writeSample(name));
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

/** A test server playing the provider at `issuer`, with the given paths and quirks; `hosts` are its other host names. */
function provider(issuer: string, options: TestAuthorizationServerOptions, hosts: Record<string, string> = {}): TestAuthorizationServer {
  const server = createTestAuthorizationServer({ issuer, ...options });
  const origin = new URL(issuer).origin;
  answer = async (url, init) => {
    const mapped = hosts[url.host];
    if (mapped === 'no discovery' && url.pathname.startsWith('/.well-known/')) return new Response('not found', { status: 404 });
    const target = new URL(url.pathname + url.search, mapped === undefined || mapped === 'no discovery' ? url.origin : mapped);
    if (target.origin !== origin) throw new TypeError(`fetch failed: no route to ${url.href}`);
    return server.fetch(target.href, init);
  };
  vi.stubGlobal('fetch', routed);
  return server;
}

const client = (fields: Partial<TestClient> & { clientId: string }): TestClient => ({
  authMethod: 'none',
  redirectUris: [],
  grants: ['authorization_code', 'refresh_token'],
  scopes: [],
  ...fields,
});

async function load(name: (typeof SAMPLES)[number]): Promise<Record<string, unknown>> {
  const file = files.get(name);
  if (file === undefined) throw new Error(`sample ${name} not written`);
  vi.resetModules();
  return (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
}

function fn<T extends (...args: never[]) => unknown>(module: Record<string, unknown>, name: string): T {
  const value = module[name];
  if (typeof value !== 'function') throw new Error(`the sample exports no function ${name}`);
  return value as T;
}

describe('docs/providers.md samples, run against the test server', () => {
  it('type-check as written, against the package entries', () => {
    const program = ts.createProgram([...files.values()], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      noEmit: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file === undefined || diagnostic.file.fileName.includes('test-artifacts/samples'))
      .map((diagnostic) => `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
  }, 60_000);

  it('Path of Exile (server): a confidential login with the secret in the body and the User-Agent, and a service token', async () => {
    const server = provider('https://www.pathofexile.com', {
      paths: { authorize: '/oauth/authorize', token: '/oauth/token', revoke: '/oauth/token/revoke', introspect: '/oauth/token/introspect' },
      quirks: { clientSecretPostOnly: true, userAgentPattern: /^OAuth myapp\/1\.0\.0 \(contact: dev@example\.com\)$/, grantOnlyScopes: { 'service:*': ['client_credentials'] } },
      clients: [
        client({
          clientId: 'myapp',
          clientSecret: 'a-secret-long-enough',
          authMethod: 'client_secret_post',
          redirectUris: ['http://127.0.0.1:8080/callback'],
          grants: ['authorization_code', 'refresh_token', 'client_credentials'],
          scopes: ['account:profile', 'service:leagues', 'service:leagues:ladder'],
        }),
      ],
    });
    const sample = await load('path-of-exile-server');
    const login = fn<() => { start(): Promise<string>; finish(url: string): Promise<{ tokens: { accessToken: string }; stop(): void }> }>(sample, 'userLogin')();
    const { tokens, stop } = await login.finish(await server.authorize(await login.start()));
    stop();
    expect(tokens.accessToken).toBeTruthy();
    expect(await fn<() => Promise<string>>(sample, 'leaguesToken')()).toBeTruthy();
    const requests = server.log.filter((entry) => entry.endpoint === 'token');
    expect(requests.map((entry) => [entry.grantType, entry.status])).toEqual([
      ['authorization_code', 200],
      ['client_credentials', 200],
    ]);
    for (const entry of requests) expect(entry.headers['user-agent']).toBe('OAuth myapp/1.0.0 (contact: dev@example.com)');
    (sample['serviceTokens'] as { clear(): void }).clear();
  });

  it('Poe: the API key from the authorization code grant, and a server_error that the user does not see', async () => {
    const server = provider(
      'https://poe.com',
      {
        paths: { authorize: '/oauth/authorize', token: '/token' },
        quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: null },
        clients: [client({ clientId: '<CLIENT_ID>', redirectUris: ['https://yourapp.com/callback'], grants: ['authorization_code'], scopes: ['apikey:create'] })],
      },
      { 'api.poe.com': 'https://poe.com' },
    );
    const sample = await load('poe-server');
    const url = await fn<() => Promise<string>>(sample, 'authPoe')();
    expect(new URL(url).origin + new URL(url).pathname).toBe('https://poe.com/oauth/authorize');
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const callbackUrl = await server.authorize(url);
    server.fail('token', { oauthError: 'server_error', status: 500 });
    const result = await fn<(url: string) => Promise<{ apiKey: string; expiresAt: number | undefined }>>(sample, 'callback')(callbackUrl);
    expect(result.apiKey).toBe(server.issuedTokens().find((token) => token.kind === 'access_token')?.token);
    expect(result.expiresAt).toBeUndefined();
    expect(server.log.filter((entry) => entry.endpoint === 'token').map((entry) => entry.status)).toEqual([500, 200]);
    // Another user's session (a fresh load of the module): a denied consent arrives as the server's code.
    const other = await load('poe-server');
    const denied = await fn<() => Promise<string>>(other, 'authPoe')();
    server.nextAuthorization({ deny: true });
    await expect(fn<(url: string) => Promise<unknown>>(other, 'callback')(await server.authorize(denied))).rejects.toMatchObject({ code: 'access_denied' });
  }, 20_000);

  it('SkyMavis SSO: no discovery document, so the default endpoints; the server route exchanges { code, state, redirect_uri } without PKCE', async () => {
    const server = provider(
      'https://my-auth-server',
      {
        paths: { authorize: '/oauth2/auth', token: '/oauth2/token' },
        clients: [
          client({ clientId: 'my-app', redirectUris: ['https://my-app.example/oauth2/callback'], scopes: ['openid'] }),
          client({
            clientId: 'my-web-app',
            clientSecret: 'a-secret-long-enough',
            authMethod: 'client_secret_post',
            redirectUris: ['https://my-app.example/'],
            grants: ['authorization_code'],
            scopes: ['openid'],
            pkceRequired: false,
          }),
        ],
      },
      { 'my-auth-server': 'no discovery' },
    );
    const sample = await load('skymavis');
    const browser = sample['browserClient'] as { login(): Promise<string>; handleCallback(url: string): Promise<{ accessToken: string }>; stop(): void };
    const tokens = await browser.handleCallback(await server.authorize(await browser.login()));
    expect(tokens.accessToken).toBeTruthy();
    browser.stop();

    // The app's own authorization request, as its client builds it: no PKCE.
    const authorize = new URL('https://my-auth-server/oauth2/auth');
    authorize.search = new URLSearchParams({ response_type: 'code', client_id: 'my-web-app', redirect_uri: 'https://my-app.example/', state: 'some-string' }).toString();
    const code = new URL(await server.authorize(authorize)).searchParams.get('code');
    const route = sample['tokenRoute'] as (request: Request) => Promise<Response>;
    const response = await route(
      new Request('https://my-app.example/oauth2/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, state: 'some-string', redirect_uri: 'https://my-app.example/' }),
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
  });

  it('JSON token endpoint: SHA-256 with a btoa challenge, scope in the JSON code exchange', async () => {
    const server = provider('https://auth.server.com', {
      paths: { authorize: '/oauth2/authorize', token: '/oauth2/token' },
      quirks: { jsonTokenRequests: true, pkceMethodName: 'SHA-256', pkceChallengeEncoding: 'base64' },
      clients: [
        client({
          clientId: 'c02d5bf5-993e-4c6a-a248-6c307cc7681b',
          redirectUris: ['http://client.server.com/callback', 'https://client.server.com/callback'],
          grants: ['authorization_code', 'refresh_token'],
          scopes: ['openid', 'email', 'profile', 'offline_access'],
        }),
      ],
    });
    // The page the sample runs on: its address bar, history and sessionStorage.
    const items = new Map<string, string>();
    const location = { href: 'https://client.server.com/', assign: (url: string) => void (location.href = url) };
    vi.stubGlobal('location', location);
    vi.stubGlobal('history', { state: null, replaceState: (_: unknown, __: string, url: string) => void (location.href = new URL(url, location.href).href) });
    vi.stubGlobal('sessionStorage', {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    });
    const sample = await load('json-token-endpoint');
    const authorizationUrl = await fn<() => Promise<string>>(sample, 'start')();
    expect(new URL(authorizationUrl).searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const tokens = await fn<(url: string) => Promise<{ accessToken: string; refreshToken?: string }>>(sample, 'finish')(await server.authorize(authorizationUrl));
    expect(tokens.refreshToken).toBeTruthy();
    const exchange = server.log.find((entry) => entry.endpoint === 'token');
    expect(exchange?.headers['content-type']).toMatch(/^application\/json/);
    expect(exchange?.params['scope']).toBe('openid email profile offline_access');
    (sample['auth'] as { stop(): void }).stop();
  });

  it('Generic RFC 6749: login, an API call, token info with expires_at in epoch ms, and a logout that says what it revoked', async () => {
    const server = provider(
      'https://app.example.com',
      {
        paths: { authorize: '/oauth/authorize', token: '/oauth/token', revoke: '/oauth/revoke' },
        quirks: { tokenInfo: true },
        refreshTokens: 'always',
        clients: [
          client({
            clientId: 'YOUR_CLIENT_ID',
            clientSecret: 'YOUR_CLIENT_SECRET',
            authMethod: 'client_secret_post',
            redirectUris: ['https://myapp.com/oauth/callback'],
            scopes: ['tasks:read', 'tasks:write'],
          }),
        ],
      },
      { 'api.example.com': 'https://app.example.com' },
    );
    // The API: its tasks for a token the server issued and has not revoked.
    const viaServer = answer;
    answer = (url, init) => {
      if (url.host === 'api.example.com' && url.pathname === '/v1/tasks') {
        const bearer = new Headers(init?.headers).get('authorization')?.replace(/^Bearer /, '');
        const active = server.issuedTokens().some((token) => token.token === bearer && token.active);
        return Promise.resolve(active ? Response.json([{ id: 1, title: 'a task' }]) : new Response(null, { status: 401 }));
      }
      return viaServer(url, init);
    };
    const sample = await load('generic');
    await fn<(url: string) => Promise<unknown>>(sample, 'callback')(await server.authorize(await fn<() => Promise<string>>(sample, 'login')()));
    expect(await fn<() => Promise<unknown>>(sample, 'myTasks')()).toEqual([{ id: 1, title: 'a task' }]);
    const info = await fn<() => Promise<{ clientId?: string; scopes?: string[]; expiresAt?: number }>>(sample, 'tokenInfo')();
    expect(info).toMatchObject({ clientId: 'YOUR_CLIENT_ID', scopes: ['tasks:read', 'tasks:write'] });
    expect(info.expiresAt).toBeGreaterThan(Date.now() - 60_000);
    expect(await fn<() => Promise<unknown>>(sample, 'logout')()).toEqual({ revoked: ['refresh_token', 'access_token'], notRevoked: [] });
    // Signed out: no token to call the API with.
    await expect(fn<() => Promise<unknown>>(sample, 'myTasks')()).rejects.toMatchObject({ name: 'OAuthError', code: 'login_required' });
    (sample['client'] as { stop(): void }).stop();
  });
});
