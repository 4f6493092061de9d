/**
 * The code-exchange handler for a provider that does not do PKCE (a SkyMavis
 * SSO app's server route posts `{ code, state, redirect_uri }`): PKCE stays
 * required by default; `pkce: 'optional'` is the explicit opt-out.
 */
import { describe, expect, it } from 'vitest';
import { skyMavis } from '../src/providers/profiles.js';
import { createCodeExchangeHandler, type CodeExchangeHandlerOptions } from '../src/server/codeExchangeHandler.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const SERVER = 'https://auth.test';
const REDIRECT_URI = 'https://my-app.example/oauth2/callback';
const SECRET = 'skymavis-secret-Zq8';

function setup(overrides: Partial<CodeExchangeHandlerOptions> = {}) {
  const server = createTestAuthorizationServer({
    issuer: SERVER,
    paths: { authorize: '/oauth2/auth', token: '/oauth2/token' },
    clients: [
      {
        clientId: 'web',
        clientSecret: SECRET,
        authMethod: 'client_secret_post',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code'],
        scopes: ['openid'],
        pkceRequired: false,
      },
    ],
  });
  const handler = createCodeExchangeHandler({
    provider: skyMavis({ server: SERVER, pkce: false }),
    client: { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post' },
    redirectUris: [REDIRECT_URI],
    services: { fetch: server.fetch, clock: server.clock },
    ...overrides,
  });
  /** The browser's authorization request without PKCE, as SkyMavis's client builds it, and its code. */
  async function code(): Promise<string> {
    const url = new URL(`${SERVER}/oauth2/auth`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: 'web', redirect_uri: REDIRECT_URI, state: 'some-string', scope: 'openid' }).toString();
    const callback = new URL(await server.authorize(url.toString()));
    const value = callback.searchParams.get('code');
    if (value === null) throw new Error(`no code in ${callback.href}`);
    return value;
  }
  const exchange = (body: Record<string, unknown>) =>
    handler(new Request('https://my-app.example/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  return { server, code, exchange };
}

describe('createCodeExchangeHandler without PKCE', () => {
  it('keeps PKCE required by default: { code, state, redirect_uri } is a 400 and nothing reaches the provider', async () => {
    const { code, exchange, server } = setup();
    const response = await exchange({ code: await code(), state: 'some-string', redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: 'code_verifier is missing' });
    expect(server.tokenRequests()).toHaveLength(0);
  });

  it("with pkce: 'optional' exchanges SkyMavis's { code, state, redirect_uri } with the secret and no verifier", async () => {
    const { code, exchange, server } = setup({ pkce: 'optional' });
    const response = await exchange({ code: await code(), state: 'some-string', redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(typeof body['access_token']).toBe('string');
    const sent = server.log.find((entry) => entry.endpoint === 'token');
    expect(sent?.params).not.toHaveProperty('code_verifier');
    expect(sent?.params['client_secret']).toBe('[redacted]');
  });

  it("with pkce: 'optional' still checks a verifier the browser does send", async () => {
    const { code, exchange } = setup({ pkce: 'optional' });
    const response = await exchange({ code: await code(), code_verifier: 'short', redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(400);
  });

  it('adds tokenParams to every exchange, and refuses one the library sets when created', async () => {
    const { code, exchange, server } = setup({ pkce: 'optional', tokenParams: { audience: 'https://api.example' } });
    expect((await exchange({ code: await code(), redirect_uri: REDIRECT_URI })).status).toBe(200);
    expect(server.log.find((entry) => entry.endpoint === 'token')?.params['audience']).toBe('https://api.example');
    expect(() => setup({ tokenParams: { code_verifier: 'x' } })).toThrow(/code_verifier/);
    expect(() => setup({ pkce: 'never' as 'optional' })).toThrow(/pkce/);
  });
});
