/**
 * Proves the e2e harness itself — oidc-provider on loopback and the
 * browser-less user agent — with plain fetch and node:crypto, no library
 * code: if these fail, an e2e failure says nothing about the library.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPE, startOidcProvider } from './support/oidcProvider.js';
import type { StartedOidcProvider } from './support/oidcProvider.js';
import { CookieJar, UserAgent, approveDevice, authorize, denyDevice, readForms } from './support/userAgent.js';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let op: StartedOidcProvider;

beforeAll(async () => {
  op = await startOidcProvider();
});

afterAll(async () => {
  await op.close();
});

async function tokenRequest(
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${op.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizationUrl(params: Record<string, string>): string {
  const url = new URL(`${op.issuer}/auth`);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** Runs a code + PKCE login for the public client and exchanges the code. */
async function loginWithRefreshToken(): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkcePair();
  const redirectUri = op.clients.public.redirectUris[0] ?? '';
  const callback = new URL(
    await authorize(
      authorizationUrl({
        client_id: op.clients.public.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid offline_access',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        prompt: 'consent',
      }),
    ),
  );
  const { status, body } = await tokenRequest({
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: redirectUri,
    client_id: op.clients.public.clientId,
    code_verifier: verifier,
  });
  expect(status).toBe(200);
  return body;
}

describe('oidc-provider on 127.0.0.1', () => {
  it('serves an OpenID discovery document for its loopback issuer', async () => {
    expect(op.issuer).toBe(`http://127.0.0.1:${op.port}`);
    const response = await fetch(`${op.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    expect(document).toMatchObject({
      issuer: op.issuer,
      authorization_endpoint: `${op.issuer}/auth`,
      token_endpoint: `${op.issuer}/token`,
      device_authorization_endpoint: `${op.issuer}/device/auth`,
      introspection_endpoint: `${op.issuer}/token/introspection`,
      revocation_endpoint: `${op.issuer}/token/revocation`,
      userinfo_endpoint: `${op.issuer}/me`,
      end_session_endpoint: `${op.issuer}/session/end`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(document.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT]),
    );
    expect(document.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['none', 'client_secret_post', 'client_secret_basic']),
    );
  });

  it('does not serve RFC 8414 metadata, only OpenID discovery', async () => {
    const response = await fetch(`${op.issuer}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(404);
  });

  it('runs an authorization code + PKCE login to a callback with code, state and iss', async () => {
    const { verifier, challenge } = pkcePair();
    const redirectUri = op.clients.public.redirectUris[0] ?? '';
    const callback = new URL(
      await authorize(
        authorizationUrl({
          client_id: op.clients.public.clientId,
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'openid offline_access email',
          state: 'state-123',
          nonce: 'nonce-456',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          prompt: 'consent',
        }),
        { login: 'carol' },
      ),
    );
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe('state-123');
    expect(callback.searchParams.get('iss')).toBe(op.issuer);
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    const { status, body } = await tokenRequest({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: redirectUri,
      client_id: op.clients.public.clientId,
      code_verifier: verifier,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid offline_access email' });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toEqual(expect.any(String));
    const idToken = String(body.id_token).split('.')[1] ?? '';
    const claims = JSON.parse(Buffer.from(idToken, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: op.issuer, aud: op.clients.public.clientId, sub: 'carol', nonce: 'nonce-456' });

    const userinfo = await fetch(`${op.issuer}/me`, { headers: { authorization: `Bearer ${String(body.access_token)}` } });
    expect(await userinfo.json()).toMatchObject({ sub: 'carol', email: 'carol@example.test' });
  });

  it('rejects an authorization request without PKCE', async () => {
    const callback = new URL(
      await authorize(
        authorizationUrl({
          client_id: op.clients.post.clientId,
          response_type: 'code',
          redirect_uri: op.clients.post.redirectUris[0] ?? '',
          scope: 'openid',
          state: 's',
        }),
      ),
    );
    expect(callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('issues no refresh token without prompt=consent, even for offline_access', async () => {
    const { verifier, challenge } = pkcePair();
    const redirectUri = op.clients.public.redirectUris[0] ?? '';
    const callback = new URL(
      await authorize(
        authorizationUrl({
          client_id: op.clients.public.clientId,
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'openid offline_access',
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      ),
    );
    const { body } = await tokenRequest({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      client_id: op.clients.public.clientId,
      code_verifier: verifier,
    });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toBeUndefined();
  });

  it('rotates refresh tokens, and a reused one revokes the grant', async () => {
    const first = await loginWithRefreshToken();
    const refresh = (refreshToken: unknown) =>
      tokenRequest({ grant_type: 'refresh_token', refresh_token: String(refreshToken), client_id: op.clients.public.clientId });

    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toEqual(expect.any(String));
    expect(second.body.refresh_token).not.toBe(first.refresh_token);

    const reused = await refresh(first.refresh_token);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    // The whole grant is gone: the newest refresh token is dead too.
    const afterReuse = await refresh(second.body.refresh_token);
    expect(afterReuse.body.error).toBe('invalid_grant');
  });

  it('revokes the tokens of a grant whose code is replayed', async () => {
    const client = op.clients.post;
    const { verifier, challenge } = pkcePair();
    const redirectUri = client.redirectUris[0] ?? '';
    const callback = new URL(
      await authorize(
        authorizationUrl({
          client_id: client.clientId,
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'openid',
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      ),
    );
    const exchange = () =>
      tokenRequest({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      });
    const first = await exchange();
    expect(first.status).toBe(200);
    const introspect = async () => {
      const response = await fetch(`${op.issuer}/token/introspection`, {
        method: 'POST',
        body: new URLSearchParams({
          token: String(first.body.access_token),
          client_id: client.clientId,
          client_secret: client.clientSecret,
        }),
      });
      return ((await response.json()) as Record<string, unknown>).active;
    };
    expect(await introspect()).toBe(true);

    const replay = await exchange();
    expect(replay.body.error).toBe('invalid_grant');
    expect(await introspect()).toBe(false);
  });

  it('answers CORS for a public client only from its redirect URI origin (127.0.0.1 is not localhost)', async () => {
    const corsFrom = async (origin: string) =>
      (
        await tokenRequest(
          { grant_type: 'refresh_token', refresh_token: 'unknown', client_id: op.clients.public.clientId },
          { origin },
        )
      ).headers.get('access-control-allow-origin');
    expect(await corsFrom('http://127.0.0.1')).toBe('http://127.0.0.1');
    expect(await corsFrom('http://localhost')).toBeNull();
  });

  it.each([
    ['client_secret_post', 'post'],
    ['client_secret_basic', 'basic'],
  ] as const)('issues client credentials tokens to the %s client', async (_method, which) => {
    const client = op.clients[which];
    const credentials =
      which === 'post'
        ? { body: { client_id: client.clientId, client_secret: client.clientSecret }, headers: {} }
        : {
            body: {},
            headers: {
              // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
              authorization: `Basic ${Buffer.from(
                `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
              ).toString('base64')}`,
            },
          };
    const { status, body } = await tokenRequest(
      { grant_type: 'client_credentials', scope: API_SCOPE, ...credentials.body },
      credentials.headers,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: API_SCOPE });
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toBeUndefined();

    const wrong = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: op.clients.post.clientId,
      client_secret: 'wrong',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('starts a device authorization with interval 1 and issues tokens once the user approves', async () => {
    const response = await fetch(`${op.issuer}/device/auth`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: op.clients.public.clientId, scope: 'openid' }),
    });
    const device = (await response.json()) as Record<string, string | number>;
    expect(device).toMatchObject({ interval: 1, verification_uri: `${op.issuer}/device` });
    const poll = () =>
      tokenRequest({ grant_type: DEVICE_CODE_GRANT, device_code: String(device.device_code), client_id: op.clients.public.clientId });

    expect((await poll()).body.error).toBe('authorization_pending');
    const page = await approveDevice(String(device.verification_uri_complete), { login: 'dave' });
    expect(page.title).toBe('Sign-in Success');
    const { status, body } = await poll();
    expect(status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('approves a device from the typed user code on the plain verification URI', async () => {
    const response = await fetch(`${op.issuer}/device/auth`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: op.clients.public.clientId, scope: 'openid' }),
    });
    const device = (await response.json()) as Record<string, string>;
    await approveDevice(device.user_code ?? '', { verificationUri: device.verification_uri ?? '' });
    const { body } = await tokenRequest({
      grant_type: DEVICE_CODE_GRANT,
      device_code: device.device_code ?? '',
      client_id: op.clients.public.clientId,
    });
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('lets the user decline a device, and the next poll answers access_denied', async () => {
    const response = await fetch(`${op.issuer}/device/auth`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: op.clients.public.clientId, scope: 'openid' }),
    });
    const device = (await response.json()) as Record<string, string>;
    await denyDevice(device.verification_uri_complete ?? '');
    const { status, body } = await tokenRequest({
      grant_type: DEVICE_CODE_GRANT,
      device_code: device.device_code ?? '',
      client_id: op.clients.public.clientId,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('access_denied');
  });

  it('fails an approval of an unknown user code with the page it ended on', async () => {
    await expect(approveDevice('BCDF-GHJK', { verificationUri: `${op.issuer}/device` })).rejects.toThrow(
      /did not succeed/,
    );
  });

  it('keeps the provider session in one user agent: a second login asks no password', async () => {
    const agent = new UserAgent();
    const url = (state: string) =>
      authorizationUrl({
        client_id: op.clients.public.clientId,
        response_type: 'code',
        redirect_uri: op.clients.public.redirectUris[0] ?? '',
        scope: 'openid',
        state,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      });
    await agent.authorize(url('one'));
    const requestsForFirst = agent.history.length;
    const second = new URL(await agent.authorize(url('two')));
    expect(second.searchParams.get('state')).toBe('two');
    // Session and grant exist: straight back to the redirect URI.
    expect(agent.history.length - requestsForFirst).toBe(1);
  });
});

describe('CookieJar', () => {
  it('sends a cookie only under its Path', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1:1/auth', ['_interaction=abc; path=/interaction/uid1; httponly; samesite=lax']);
    expect(jar.header('http://127.0.0.1:1/interaction/uid1')).toBe('_interaction=abc');
    expect(jar.header('http://127.0.0.1:1/interaction/uid1/login')).toBe('_interaction=abc');
    expect(jar.header('http://127.0.0.1:1/interaction/uid10')).toBeUndefined();
    expect(jar.header('http://127.0.0.1:1/auth')).toBeUndefined();
  });

  it('defaults the Path to the request directory and keeps hosts apart', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1:1/a/b', ['x=1']);
    expect(jar.header('http://127.0.0.1:1/a/c')).toBe('x=1');
    expect(jar.header('http://127.0.0.1:1/z')).toBeUndefined();
    expect(jar.header('http://localhost:1/a/c')).toBeUndefined();
  });

  it('drops cookies at Max-Age, which wins over Expires, and on an Expires in the past', () => {
    let now = 1_000_000;
    const jar = new CookieJar(() => now);
    jar.store('http://127.0.0.1/', ['short=1; Max-Age=10; Expires=Fri, 01 Jan 2100 00:00:00 GMT', 'long=2; Path=/']);
    expect(jar.names('http://127.0.0.1/')).toEqual(['short', 'long']);
    now += 10_000;
    expect(jar.names('http://127.0.0.1/')).toEqual(['long']);
    jar.store('http://127.0.0.1/', ['long=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/']);
    expect(jar.header('http://127.0.0.1/')).toBeUndefined();
  });

  it('sends longer paths first', () => {
    const jar = new CookieJar();
    jar.store('http://127.0.0.1/', ['a=root; Path=/', 'a=deep; Path=/x/y']);
    expect(jar.header('http://127.0.0.1/x/y/z')).toBe('a=deep; a=root');
  });
});

describe('readForms', () => {
  it('collects controls that name a form by id, submits the first button, and keeps abort aside', () => {
    const html = `<form id="f" method="post" action="/device"><input type="hidden" name="xsrf" value="a&amp;b"/></form>
      <button type="submit" form="f" name="abort" value="yes">Abort</button>
      <button type="submit" form="f" name="logout" value="yes">Yes</button>
      <button type="submit" form="f" name="other" value="no">No</button>`;
    const [form] = readForms(html, 'http://127.0.0.1:9/device?x=1');
    expect(form).toEqual({
      action: 'http://127.0.0.1:9/device',
      method: 'POST',
      fields: [
        { name: 'xsrf', value: 'a&b', type: 'hidden' },
        { name: 'logout', value: 'yes', type: 'submit' },
      ],
      abort: { name: 'abort', value: 'yes' },
    });
  });
});
