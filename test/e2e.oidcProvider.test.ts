/**
 * The library against a real, certified OpenID Provider (oidc-provider 8 on
 * 127.0.0.1), through its promise API `createOAuthClient` only: discovery,
 * every grant, refresh with rotation, introspection, revocation, userinfo.
 * The harness is proven on its own in e2e.oidcProvider.harness.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import type { OAuthClient, OAuthGrant } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { introspectToken } from '../src/protocol/operations.js';
import { defaultServices, manualClock, memoryStorage } from '../src/services/index.js';
import type { FetchLike } from '../src/services/types.js';
import { API_SCOPE, startOidcProvider } from './support/oidcProvider.js';
import type { StartedOidcProvider } from './support/oidcProvider.js';
import { UserAgent, approveDevice, denyDevice } from './support/userAgent.js';

let op: StartedOidcProvider;
const started: Array<OAuthClient<OAuthGrant>> = [];

beforeAll(async () => {
  op = await startOidcProvider();
});

afterEach(() => {
  for (const client of started.splice(0)) client.stop();
});

afterAll(async () => {
  await op.close();
});

interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: URLSearchParams;
  /** Filled when the response arrives: its status and, for a JSON error body, the RFC 6749 §5.2 `error`. */
  response?: { status: number; error?: string };
}

/** The global fetch, recording every request the library sends. */
function recordingFetch(): { fetch: FetchLike; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const recorder: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const request: RecordedRequest = {
      url,
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
    };
    requests.push(request);
    const response = await fetch(input, init);
    const body: unknown = response.ok ? undefined : await response.clone().json().catch(() => undefined);
    const error = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : undefined;
    request.response = error === undefined ? { status: response.status } : { status: response.status, error };
    return response;
  };
  return { fetch: recorder, requests };
}

function track<G extends OAuthGrant>(client: OAuthClient<G>): OAuthClient<G> {
  started.push(client as unknown as OAuthClient<OAuthGrant>);
  return client;
}

/** The codes of an OAuthError and of the OAuthErrors in its cause chain. */
function errorCodes(thrown: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = thrown;
  for (let depth = 0; depth < 5 && current instanceof OAuthError; depth++) {
    codes.push(current.code);
    current = current.cause;
  }
  return codes;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function jwtPayload(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${String(jwt)}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A public authorization-code client that discovers the provider, with a manual clock to make tokens stale. */
function codeClient(scopes = ['openid', 'offline_access', 'email']) {
  const clock = manualClock(Date.now());
  const navigations: string[] = [];
  const recorder = recordingFetch();
  const client = track(
    createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: op.issuer },
      client: { clientId: op.clients.public.clientId, redirectUri: op.clients.public.redirectUris[0] ?? '', scopes },
      services: { storage: memoryStorage(), clock, fetch: recorder.fetch, navigate: (url) => void navigations.push(url) },
    }),
  );
  return { client, clock, navigations, requests: recorder.requests };
}

/** Logs in through the provider's pages; `prompt=consent` because oidc-provider issues refresh tokens only then. */
async function signIn(client: OAuthClient<'authorization_code'>, agent = new UserAgent()) {
  const authorizationUrl = await client.login({ extraParams: { prompt: 'consent' } });
  const callbackUrl = await agent.authorize(authorizationUrl, { login: 'alice' });
  const tokens = await client.handleCallback(callbackUrl);
  return { authorizationUrl: new URL(authorizationUrl), callbackUrl, tokens };
}

/** Introspects as a confidential client (the harness lets any client introspect any token). */
async function isActive(token: string): Promise<boolean> {
  const services = defaultServices();
  const introspection = await introspectToken({
    provider: { issuer: op.issuer, tokenEndpoint: `${op.issuer}/token`, introspectionEndpoint: `${op.issuer}/token/introspection` },
    client: { clientId: op.clients.post.clientId, clientSecret: op.clients.post.clientSecret, authMethod: 'client_secret_post' },
    services,
    token,
  });
  return introspection.active;
}

describe('authorization code + PKCE against oidc-provider', () => {
  it('discovers the provider, logs in with S256, state and nonce, and checks iss', async () => {
    const { client, navigations } = codeClient();
    const { authorizationUrl, callbackUrl, tokens } = await signIn(client);

    expect(client.provider).toMatchObject({
      issuer: op.issuer,
      tokenEndpoint: `${op.issuer}/token`,
      authorizationResponseIssParameterSupported: true,
    });
    expect(navigations).toEqual([authorizationUrl.href]);
    const params = authorizationUrl.searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toEqual(expect.any(String));
    expect(params.get('nonce')).toEqual(expect.any(String));
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(op.issuer);

    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.scope).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    expect(jwtPayload(tokens.idToken)).toMatchObject({
      iss: op.issuer,
      aud: op.clients.public.clientId,
      sub: 'alice',
      nonce: params.get('nonce'),
    });
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
  });

  it('rejects a callback whose iss is not the issuer, and exchanges nothing', async () => {
    const { client, requests } = codeClient();
    const authorizationUrl = await client.login();
    const callback = new URL(await new UserAgent().authorize(authorizationUrl));
    callback.searchParams.set('iss', 'http://127.0.0.1:1');
    const error = await rejection(client.handleCallback(callback.href));
    expect(errorCodes(error)).toContain('iss_mismatch');
    expect(requests.filter((r) => r.url === `${op.issuer}/token`)).toEqual([]);
  });

  it('rejects a callback whose state does not match', async () => {
    const { client } = codeClient();
    const authorizationUrl = await client.login();
    const callback = new URL(await new UserAgent().authorize(authorizationUrl));
    callback.searchParams.set('state', 'forged');
    expect(errorCodes(await rejection(client.handleCallback(callback.href)))).toContain('state_mismatch');
  });

  it('returns the userinfo claims of the signed-in user', async () => {
    const { client } = codeClient();
    await signIn(client);
    expect(await client.userinfo()).toMatchObject({ sub: 'alice', email: 'alice@example.test' });
  });

  it('refreshes a stale token once with rotation, and keeps the newest refresh token', async () => {
    const { client, clock, requests } = codeClient();
    const { tokens } = await signIn(client);
    clock.advance((tokens.expiresAt ?? clock.now()) - clock.now());

    const [first, second] = await Promise.all([client.getAccessToken(), client.getAccessToken()]);
    expect(first).toBe(second);
    expect(first).not.toBe(tokens.accessToken);
    const refreshes = requests.filter((r) => r.body.get('grant_type') === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.body.get('refresh_token')).toBe(tokens.refreshToken);

    const rotated = await client.getTokens();
    expect(rotated?.refreshToken).toEqual(expect.any(String));
    expect(rotated?.refreshToken).not.toBe(tokens.refreshToken);
    expect(await isActive(rotated?.refreshToken ?? '')).toBe(true);
  });

  it('ends the session with invalid_grant when a rotated refresh token was reused elsewhere', async () => {
    const { client, clock } = codeClient();
    const { tokens } = await signIn(client);
    clock.advance((tokens.expiresAt ?? clock.now()) - clock.now());
    await client.getAccessToken();

    // Someone replays the old refresh token: oidc-provider revokes the whole grant.
    const replay = await fetch(`${op.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refreshToken ?? '',
        client_id: op.clients.public.clientId,
      }),
    });
    expect(replay.status).toBe(400);

    const current = await client.getTokens();
    clock.advance((current?.expiresAt ?? clock.now()) - clock.now());
    const error = await rejection(client.getAccessToken());
    expect(errorCodes(error)).toContain('invalid_grant');
    expect(await client.getTokens()).toBeUndefined();
  });

  it('revokes the refresh token on logout and forgets the tokens', async () => {
    const { client, requests } = codeClient();
    const { tokens } = await signIn(client);
    expect(await isActive(tokens.refreshToken ?? '')).toBe(true);

    await client.logout();
    expect(requests.some((r) => r.url === `${op.issuer}/token/revocation`)).toBe(true);
    expect(await isActive(tokens.refreshToken ?? '')).toBe(false);
    expect(await client.getTokens()).toBeUndefined();
    expect(errorCodes(await rejection(client.getAccessToken()))).toContain('login_required');
  });
});

describe('client credentials against oidc-provider', () => {
  it.each([
    ['client_secret_post', 'post'],
    ['client_secret_basic', 'basic'],
  ] as const)('gets a token with %s and sends the secret only that way', async (method, which) => {
    const registered = op.clients[which];
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: registered.clientId, clientSecret: registered.clientSecret, authMethod: method, scopes: [API_SCOPE] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    const tokens = await client.login();
    expect(tokens.scope).toEqual([API_SCOPE]);
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(await isActive(tokens.accessToken)).toBe(true);

    const [request] = recorder.requests.filter((r) => r.url === `${op.issuer}/token`);
    expect(request?.body.get('grant_type')).toBe('client_credentials');
    if (method === 'client_secret_post') {
      expect(request?.body.get('client_secret')).toBe(registered.clientSecret);
      expect(request?.headers.get('authorization')).toBeNull();
    } else {
      expect(request?.body.get('client_secret')).toBeNull();
      expect(request?.headers.get('authorization')).toMatch(/^Basic /);
    }
  });

  it('fails with invalid_client when the secret is wrong', async () => {
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: op.clients.basic.clientId, clientSecret: 'not-the-secret', authMethod: 'client_secret_basic', scopes: [API_SCOPE] },
        services: { storage: memoryStorage() },
      }),
    );
    const error = await rejection(client.login());
    expect(error).toBeInstanceOf(OAuthError);
    expect(errorCodes(error)).toContain('invalid_client');
  });
});

describe('device authorization against oidc-provider', () => {
  it('shows the user code, keeps polling through authorization_pending, and gets tokens once the user approves', async () => {
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'device_code',
        provider: { issuer: op.issuer },
        client: { clientId: op.clients.public.clientId, scopes: ['openid'] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    const device = await client.login();
    expect(device.interval).toBe(1);
    expect(device.verificationUri).toBe(`${op.issuer}/device`);
    expect(device.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);

    const polls = () =>
      recorder.requests.filter((r) => r.body.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code');
    // RFC 8628 §3.5: the client keeps polling through authorization_pending; let it hear one before the user acts.
    await expect
      .poll(() => polls().some((r) => r.response?.error === 'authorization_pending'), { timeout: 5_000 })
      .toBe(true);

    await approveDevice(device.verificationUriComplete ?? '', { login: 'erin' });
    const tokens = await device.tokens;
    expect(jwtPayload(tokens.idToken)).toMatchObject({ sub: 'erin', aud: op.clients.public.clientId });
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(polls().at(-1)?.response?.status).toBe(200);
  });

  it('rejects the tokens with access_denied when the user declines, and stops polling', async () => {
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'device_code',
        provider: { issuer: op.issuer },
        client: { clientId: op.clients.public.clientId, scopes: ['openid'] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    const device = await client.login();
    await denyDevice(device.verificationUriComplete ?? '');
    expect(errorCodes(await rejection(device.tokens))).toContain('access_denied');
    expect(recorder.requests.at(-1)?.response?.error).toBe('access_denied');
    // RFC 8628 §3.5: access_denied is final; the machine has left the polling state.
    expect(['error', 'idle']).toContain(client.actor.getSnapshot().value);
    expect(await client.getTokens()).toBeUndefined();
  });
});
