import { createHash, randomBytes } from 'node:crypto';
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../src/protocol/types.js';
import { mapPoeTokenResponse } from '../src/providers/profiles.js';
import { createCodeExchangeHandler, type CodeExchangeHandlerOptions } from '../src/server/codeExchangeHandler.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT_URI = 'https://app.example/callback';
const SECRET = 'web-secret-Zq8';
const HANDLER_URL = 'https://app.example/api/oauth/exchange';

function setup(overrides: Partial<CodeExchangeHandlerOptions> = {}) {
  const server = createTestAuthorizationServer({
    clients: [
      {
        clientId: 'web',
        clientSecret: SECRET,
        authMethod: 'client_secret_post',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'offline_access', 'tasks:read'],
      },
    ],
  });
  const provider: ProviderConfig = {
    issuer: 'https://auth.test',
    authorizationEndpoint: 'https://auth.test/authorize',
    tokenEndpoint: 'https://auth.test/token',
  };
  const handler = createCodeExchangeHandler({
    provider,
    client: { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post' },
    redirectUris: [REDIRECT_URI],
    services: { fetch: server.fetch, clock: server.clock },
    ...overrides,
  });
  /** Plays the browser: a PKCE pair and an approved authorization, computed here independently of src/protocol. */
  async function authorize(scope = 'openid offline_access tasks:read', nonce?: string) {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL('https://auth.test/authorize');
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'web',
      redirect_uri: REDIRECT_URI,
      scope,
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(nonce === undefined ? {} : { nonce }),
    }).toString();
    const callback = new URL(await server.authorize(url.toString()));
    const code = callback.searchParams.get('code');
    if (code === null) throw new Error(`no code in ${callback.toString()}`);
    return { code, verifier };
  }
  const tokenRequests = () => server.tokenRequests();
  return { server, handler, authorize, tokenRequests };
}

function post(body: string, headers: Record<string, string> = {}, method = 'POST'): Request {
  return new Request(HANDLER_URL, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}

const VERIFIER = 'a'.repeat(43);
const good = { code: 'some-code', code_verifier: VERIFIER, redirect_uri: REDIRECT_URI };

describe('createCodeExchangeHandler', () => {
  it('exchanges a code with the browser verifier and returns the tokens, not cacheable', async () => {
    const { handler, authorize, tokenRequests } = setup();
    const { code, verifier } = await authorize();
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI, state: 'st-1' })));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['token_type']).toMatch(/^bearer$/i);
    expect(body['expires_in']).toBe(3600);
    expect(body['refresh_token']).toEqual(expect.any(String));
    expect(body['scope']).toBe('openid offline_access tasks:read');
    expect(JSON.stringify(body)).not.toContain(SECRET);

    const requests = tokenRequests();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.grantType).toBe('authorization_code');
    expect(requests[0]?.clientId).toBe('web');
    expect(requests[0]?.params['redirect_uri']).toBe(REDIRECT_URI);
    expect(requests[0]?.status).toBe(200);
  });

  it('answers a standard token response for a provider with a mapped body (Poe: api_key, never expiring)', async () => {
    const server = createTestAuthorizationServer({
      clients: [
        { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post', redirectUris: [REDIRECT_URI], grants: ['authorization_code'], scopes: ['apikey:create'] },
      ],
      quirks: { tokenResponseShape: 'api_key', apiKeyExpiresIn: null },
    });
    const handler = createCodeExchangeHandler({
      provider: { tokenEndpoint: 'https://auth.test/token', quirks: { mapTokenResponse: mapPoeTokenResponse } },
      client: { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post' },
      redirectUris: [REDIRECT_URI],
      services: { fetch: server.fetch, clock: server.clock },
    });
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('https://auth.test/authorize');
    url.search = new URLSearchParams({
      response_type: 'code', client_id: 'web', redirect_uri: REDIRECT_URI, scope: 'apikey:create', state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const code = new URL(await server.authorize(url.toString())).searchParams.get('code');
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['token_type']).toBe('Bearer');
    expect(body).not.toHaveProperty('expires_in'); // null: never expires
    expect(body).not.toHaveProperty('api_key');
    expect(body).not.toHaveProperty('api_key_expires_in');
  });

  it('leaves the refresh token out when told to', async () => {
    const { handler, authorize } = setup({ includeRefreshToken: false });
    const { code, verifier } = await authorize();
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('checks the ID token against the nonce the browser sent: the matching one passes', async () => {
    const { handler, authorize } = setup();
    const { code, verifier } = await authorize(undefined, 'n-0S6_WzA2Mj');
    const response = await handler(
      post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI, nonce: 'n-0S6_WzA2Mj' })),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(typeof body.id_token).toBe('string');
  });

  it('answers an ID token whose nonce is not the browser\'s with 400 nonce_mismatch and no tokens', async () => {
    const { handler, authorize } = setup();
    const { code, verifier } = await authorize(undefined, 'nonce-of-the-real-login');
    const response = await handler(
      post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI, nonce: 'nonce-of-another-login' })),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('nonce_mismatch');
    expect(body.access_token).toBeUndefined();
  });

  it('answers a nonce of the wrong type with 400 and sends no token request', async () => {
    const { handler, tokenRequests } = setup();
    const response = await handler(post(JSON.stringify({ ...good, nonce: 42 })));
    expect(response.status).toBe(400);
    expect(tokenRequests()).toHaveLength(0);
  });

  it('passes a provider invalid_grant through with its status', async () => {
    const { handler, authorize, tokenRequests } = setup();
    const { code, verifier } = await authorize();
    const request = () => post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }));
    expect((await handler(request())).status).toBe(200);
    // RFC 6749 §4.1.2: a code is single-use; the replay is refused by the provider.
    const replay = await handler(request());
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(tokenRequests()).toHaveLength(2);
  });

  it('passes a wrong verifier through as the provider answers it (invalid_grant)', async () => {
    const { handler, authorize } = setup();
    const { code } = await authorize();
    const response = await handler(post(JSON.stringify({ code, code_verifier: 'b'.repeat(43), redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  const badBodies: [string, unknown, RegExp][] = [
    ['a missing code', { code_verifier: VERIFIER, redirect_uri: REDIRECT_URI }, /^code is missing$/],
    ['a missing code_verifier', { code: 'c', redirect_uri: REDIRECT_URI }, /^code_verifier is missing$/],
    ['a missing redirect_uri', { code: 'c', code_verifier: VERIFIER }, /^redirect_uri is missing$/],
    ['a numeric code', { ...good, code: 42 }, /^code must be a string$/],
    ['an empty code', { ...good, code: '' }, /^code is empty$/],
    ['a code longer than 2048 characters', { ...good, code: 'c'.repeat(2049) }, /^code is too long$/],
    ['a verifier shorter than 43 characters', { ...good, code_verifier: 'a'.repeat(42) }, /RFC 7636/],
    ['a verifier longer than 128 characters', { ...good, code_verifier: 'a'.repeat(129) }, /RFC 7636/],
    ['a verifier outside the RFC 7636 alphabet', { ...good, code_verifier: `${'a'.repeat(42)}+` }, /RFC 7636/],
    ['a non-string state', { ...good, state: { nested: true } }, /^state must be a string$/],
    ['an unknown field', { ...good, client_secret: 'smuggled' }, /^client_secret is not an accepted field$/],
    ['a foreign redirect URI', { ...good, redirect_uri: 'https://evil.example/callback' }, /registered redirect URIs/],
    ['a redirect URI differing only by a trailing slash', { ...good, redirect_uri: `${REDIRECT_URI}/` }, /registered redirect URIs/],
    ['a JSON array', [good], /must be a JSON object/],
    ['JSON null', null, /must be a JSON object/],
    ['a JSON string', 'code', /must be a JSON object/],
  ];
  for (const [what, body, description] of badBodies) {
    it(`answers ${what} with 400 invalid_request and sends no token request`, async () => {
      const { handler, tokenRequests } = setup();
      const response = await handler(post(JSON.stringify(body)));
      expect(response.status).toBe(400);
      const answer = (await response.json()) as Record<string, unknown>;
      expect(answer['error']).toBe('invalid_request');
      expect(answer['error_description']).toMatch(description);
      expect(tokenRequests()).toHaveLength(0);
    });
  }

  propTest.prop([fc.jsonValue()], { numRuns: 200 })(
    'any JSON value that is not a valid exchange request is answered 400 invalid_request and never reaches the provider',
    async (value) => {
      const { handler, tokenRequests } = setup();
      const response = await handler(post(JSON.stringify(value)));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
      expect(tokenRequests()).toHaveLength(0);
    },
  );

  propTest.prop([fc.record({ code: fc.string(), code_verifier: fc.string(), redirect_uri: fc.string() }, { requiredKeys: [] })], {
    numRuns: 200,
  })('any request whose redirect_uri is not registered never reaches the provider', async (body) => {
    fc.pre(body.redirect_uri !== REDIRECT_URI);
    const { handler, tokenRequests } = setup();
    const response = await handler(post(JSON.stringify(body)));
    expect(response.status).toBe(400);
    expect(tokenRequests()).toHaveLength(0);
  });

  it('answers malformed JSON with 400 and sends no token request', async () => {
    const { handler, tokenRequests } = setup();
    const response = await handler(post('{"code": "c", '));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect(tokenRequests()).toHaveLength(0);
  });

  it('answers a body over the size cap with 413, whatever Content-Length says', async () => {
    const { handler, tokenRequests } = setup();
    const huge = JSON.stringify({ ...good, state: 'x'.repeat(20_000) });
    expect((await handler(post(huge))).status).toBe(413);
    // A stream without Content-Length is cut off at the cap too.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const chunked = new Request(HANDLER_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.headers.get('content-length')).toBeNull();
    expect((await handler(chunked)).status).toBe(413);
    expect(tokenRequests()).toHaveLength(0);
  });

  it('counts the cap in bytes, not characters', async () => {
    const { handler, tokenRequests } = setup({ maxBodyBytes: 200 });
    const multibyte = JSON.stringify({ ...good, state: 'é'.repeat(50) });
    expect(multibyte.length).toBeLessThanOrEqual(200);
    expect(new TextEncoder().encode(multibyte).byteLength).toBeGreaterThan(200);
    expect((await handler(post(multibyte))).status).toBe(413);
    // Under the cap, the body reaches validation (here: a foreign redirect URI).
    const small = await handler(post(JSON.stringify({ ...good, redirect_uri: 'https://evil.example/' })));
    expect(small.status).toBe(400);
    expect(tokenRequests()).toHaveLength(0);
  });

  it.each(['GET', 'PUT', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    const { handler, tokenRequests } = setup();
    const response = await handler(post(JSON.stringify(good), {}, method));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(tokenRequests()).toHaveLength(0);
  });

  it.each([
    ['application/x-www-form-urlencoded'],
    ['text/plain'],
    ['application/jsonp'],
  ])('answers Content-Type %s with 415', async (contentType) => {
    const { handler, tokenRequests } = setup();
    const response = await handler(post(JSON.stringify(good), { 'content-type': contentType }));
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect(tokenRequests()).toHaveLength(0);
  });

  it('accepts application/json with a charset parameter', async () => {
    const { handler, authorize } = setup();
    const { code, verifier } = await authorize();
    const body = JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI });
    const response = await handler(post(body, { 'content-type': 'application/json; charset=utf-8' }));
    expect(response.status).toBe(200);
  });

  it('answers a provider outage (5xx) with 502 and never reveals the secret', async () => {
    const { server, handler, authorize } = setup();
    const { code, verifier } = await authorize();
    server.fail('token', { status: 500, body: { error: 'server_error', error_description: `db down for ${SECRET}` } });
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ error: 'server_error' });
  });

  it('answers a dropped connection with 502', async () => {
    const { server, handler, authorize } = setup();
    const { code, verifier } = await authorize();
    server.fail('token', { drop: true });
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(502);
  });

  it('answers a provider response that is not JSON with 502', async () => {
    const { server, handler, authorize } = setup();
    const { code, verifier } = await authorize();
    server.fail('token', { notJson: true });
    const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI })));
    expect(response.status).toBe(502);
  });

  it('redacts the client secret from a provider 4xx error description', async () => {
    const { server, handler } = setup();
    server.fail('token', { oauthError: 'invalid_client', status: 401, description: `secret ${SECRET} is wrong` });
    const response = await handler(post(JSON.stringify(good)));
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_client' });
  });

  describe('with a CORS allow-list', () => {
    const origin = 'https://app.example';

    it('answers a preflight from an allowed origin', async () => {
      const { handler } = setup({ allowedOrigins: [origin] });
      const response = await handler(
        new Request(HANDLER_URL, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        }),
      );
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')).toBe('POST');
      expect(response.headers.get('access-control-allow-headers')).toBe('content-type');
    });

    it('adds the CORS headers to an exchange from an allowed origin', async () => {
      const { handler, authorize } = setup({ allowedOrigins: [origin] });
      const { code, verifier } = await authorize();
      const response = await handler(post(JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }), { origin }));
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('vary')).toBe('Origin');
    });

    it('refuses another origin with 403 and sends no token request', async () => {
      const { handler, tokenRequests } = setup({ allowedOrigins: [origin] });
      const response = await handler(post(JSON.stringify(good), { origin: 'https://evil.example' }));
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await handler(new Request(HANDLER_URL, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }));
      expect(preflight.status).toBe(403);
      expect(tokenRequests()).toHaveLength(0);
    });

    it('sends no CORS headers when no allow-list is configured', async () => {
      const { handler } = setup();
      const response = await handler(post(JSON.stringify(good), { origin }));
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  it('refuses bad options up front', () => {
    const provider = { tokenEndpoint: 'https://auth.test/token' };
    const client = { clientId: 'web', clientSecret: SECRET };
    const base = { provider, client, redirectUris: [REDIRECT_URI] };
    expect(() => createCodeExchangeHandler({ ...base, client: { ...client, clientId: '' } })).toThrow(TypeError);
    expect(() => createCodeExchangeHandler({ ...base, client: { ...client, clientSecret: '' } })).toThrow(TypeError);
    expect(() => createCodeExchangeHandler({ ...base, redirectUris: [] })).toThrow(TypeError);
    expect(() => createCodeExchangeHandler({ ...base, maxBodyBytes: 0 })).toThrow(TypeError);
  });
});
