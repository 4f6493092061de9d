/**
 * DPoP (RFC 9449) against oidc-provider 8 on 127.0.0.1 with its `dPoP`
 * feature on, and a public client registered with `dpop_bound_access_tokens`:
 * one provider without nonces, one that requires them. Its userinfo endpoint
 * is the resource server of `authorizedFetch`; a small loopback resource
 * server of this file demands a nonce of its own.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthClient, type OAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { createDpopProof, dpop, generateDpopKey } from '../src/protocol/dpop.js';
import { introspectToken } from '../src/protocol/operations.js';
import { defaultServices, manualClock, memoryDpopKeyStore, memoryStorage } from '../src/services/index.js';
import type { DpopKeyStore, FetchLike } from '../src/services/types.js';
import { webCrypto } from '../src/services/webCrypto.js';
import { startOidcProvider, type StartedOidcProvider } from './support/oidcProvider.js';
import { UserAgent } from './support/userAgent.js';

const DPOP_CLIENT = 'spa-dpop';

function withDpop(requireNonce: boolean) {
  return {
    configure: (configuration: Parameters<NonNullable<Parameters<typeof startOidcProvider>[0]>['configure'] & object>[0]) => {
      configuration.features = {
        ...configuration.features,
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => requireNonce },
      };
      configuration.clients = [
        ...(configuration.clients ?? []),
        {
          client_id: DPOP_CLIENT,
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: ['http://127.0.0.1/callback'],
          dpop_bound_access_tokens: true,
        },
      ];
    },
  };
}

let plain: StartedOidcProvider;
let nonces: StartedOidcProvider;

beforeAll(async () => {
  [plain, nonces] = await Promise.all([startOidcProvider(withDpop(false)), startOidcProvider(withDpop(true))]);
});

afterAll(async () => {
  await Promise.all([plain?.close(), nonces?.close()]);
});

interface Sent {
  url: string;
  method: string;
  headers: Headers;
  body: URLSearchParams;
  status?: number;
  error?: string;
}

function recordingFetch(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      const request = input instanceof Request ? input : undefined;
      const entry: Sent = {
        url: request?.url ?? String(input),
        method: request?.method ?? init?.method ?? 'GET',
        headers: new Headers(request?.headers ?? init?.headers),
        body: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
      };
      sent.push(entry);
      const response = await fetch(input, init);
      entry.status = response.status;
      if (!response.ok) {
        const body: unknown = await response.clone().json().catch(() => undefined);
        if (typeof body === 'object' && body !== null && 'error' in body) entry.error = String(body.error);
      }
      return response;
    },
  };
}

/** A memory key store that remembers the ids it was given. */
function recordingKeyStore(): DpopKeyStore & { ids: Set<string> } {
  const inner = memoryDpopKeyStore();
  const ids = new Set<string>();
  return {
    ids,
    get: (id) => inner.get(id),
    set: async (id, key) => {
      ids.add(id);
      await inner.set(id, key);
    },
    remove: (id) => inner.remove(id),
  };
}

function dpopClient(op: StartedOidcProvider, keys = recordingKeyStore()) {
  const recorder = recordingFetch();
  const states: string[] = [];
  const client = createOAuthClient({
    grant: 'authorization_code',
    provider: { issuer: op.issuer },
    client: { clientId: DPOP_CLIENT, redirectUri: 'http://127.0.0.1/callback', scopes: ['openid', 'offline_access'] },
    services: { storage: memoryStorage(), fetch: recorder.fetch, navigate: () => undefined, dpop: dpop({ keys }), clock: manualClock(Date.now()) },
  });
  client.subscribe((snapshot) => states.push(JSON.stringify(snapshot.value)));
  return { client, sent: recorder.sent, states, keys };
}

async function signIn(client: OAuthClient<'authorization_code'>) {
  const authorizationUrl = await client.login({ extraParams: { prompt: 'consent' } });
  const callbackUrl = await new UserAgent().authorize(authorizationUrl, { login: 'alice' });
  const tokens = await client.handleCallback(callbackUrl);
  return { authorizationUrl: new URL(authorizationUrl), tokens };
}

async function introspect(op: StartedOidcProvider, token: string) {
  return introspectToken({
    provider: { issuer: op.issuer, tokenEndpoint: `${op.issuer}/token`, introspectionEndpoint: `${op.issuer}/token/introspection` },
    client: { clientId: op.clients.post.clientId, clientSecret: op.clients.post.clientSecret, authMethod: 'client_secret_post' },
    services: defaultServices(),
    token,
  });
}

const tokenRequests = (op: StartedOidcProvider, sent: Sent[]) => sent.filter((request) => request.url === `${op.issuer}/token`);

describe('DPoP-bound sessions against oidc-provider', () => {
  it('binds the code, the access token and the refresh token to a non-extractable key, and refreshes and revokes with proofs', async () => {
    const { client, sent, keys } = dpopClient(plain);
    try {
      const { authorizationUrl, tokens } = await signIn(client);
      expect(keys.ids.size).toBe(1);
      const key = await keys.get([...keys.ids][0]!);
      expect(key).toBeDefined();
      expect(key?.alg).toBe('ES256');
      expect(key?.privateKey.extractable).toBe(false);
      await expect(crypto.subtle.exportKey('jwk', key!.privateKey as CryptoKey)).rejects.toThrow();
      const jkt = await calculateJwkThumbprint((await crypto.subtle.exportKey('jwk', key!.publicKey as CryptoKey)) as Parameters<typeof calculateJwkThumbprint>[0]);
      // RFC 9449 §10: the authorization request names the key.
      expect(authorizationUrl.searchParams.get('dpop_jkt')).toBe(jkt);
      expect(client.provider.dpopSigningAlgValuesSupported).toContain('ES256');

      expect(tokens.tokenType).toBe('DPoP');
      const exchange = tokenRequests(plain, sent)[0]!;
      const { payload, protectedHeader } = await jwtVerify(exchange.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload).toMatchObject({ htm: 'POST', htu: `${plain.issuer}/token`, jti: expect.any(String), iat: expect.any(Number) });
      // The access token is bound to the key's thumbprint (RFC 9449 §6: cnf.jkt).
      const introspection = (await introspect(plain, tokens.accessToken)) as unknown as Record<string, unknown>;
      expect(introspection).toMatchObject({ active: true, cnf: { jkt } });

      // The refresh goes with a proof of the same key, and its tokens are DPoP-bound again.
      const refreshed = await client.refresh();
      expect(refreshed?.tokenType).toBe('DPoP');
      const refresh = tokenRequests(plain, sent).at(-1)!;
      expect(refresh.body.get('grant_type')).toBe('refresh_token');
      const refreshProof = await jwtVerify(refresh.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(await calculateJwkThumbprint(refreshProof.protectedHeader.jwk!)).toBe(jkt);
      expect(refreshProof.payload.jti).not.toBe(payload.jti);

      const outcome = await client.logout();
      expect(outcome.revoked).toEqual(['refresh_token', 'access_token']);
      const revocations = sent.filter((request) => request.url === `${plain.issuer}/token/revocation`);
      expect(revocations).toHaveLength(2);
      for (const revocation of revocations) expect(revocation.headers.get('dpop')).toEqual(expect.any(String));
      expect((await introspect(plain, refreshed!.accessToken)).active).toBe(false);
    } finally {
      client.stop();
    }
  });

  it('calls the userinfo endpoint through authorizedFetch with Authorization: DPoP and a proof naming the token', async () => {
    const { client, sent } = dpopClient(plain);
    try {
      const { tokens } = await signIn(client);
      const userinfo = `${plain.issuer}/me`;
      const response = await client.authorizedFetch(userinfo);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ sub: 'alice' });
      const call = sent.find((request) => request.url === userinfo)!;
      expect(call.headers.get('authorization')).toBe(`DPoP ${tokens.accessToken}`);
      const { payload } = await jwtVerify(call.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(payload).toMatchObject({ htm: 'GET', htu: userinfo });
      expect(payload['ath']).toEqual(expect.any(String));
      // The token is bound: presented as a bearer token, without the key, it is refused.
      const bearer = await fetch(userinfo, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(bearer.status).toBe(401);
      // And a proof sent twice is refused: oidc-provider detects the replayed jti (and says only invalid_token)…
      const replayed = await fetch(userinfo, { headers: { authorization: `DPoP ${tokens.accessToken}`, dpop: call.headers.get('dpop') ?? '' } });
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
      // …while a fresh proof of the same key, for the same token, is accepted.
      expect((await client.authorizedFetch(userinfo)).status).toBe(200);
    } finally {
      client.stop();
    }
  });

  it('refuses the refresh token with a proof of another key: it is bound to the session key', async () => {
    const { client } = dpopClient(plain);
    try {
      const { tokens } = await signIn(client);
      const services = { crypto: webCrypto(), clock: { now: () => Date.now() } };
      const otherKey = await generateDpopKey('ES256');
      const proof = await createDpopProof(services, otherKey, { htm: 'POST', htu: `${plain.issuer}/token` });
      const response = await fetch(`${plain.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken ?? '', client_id: DPOP_CLIENT }).toString(),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    } finally {
      client.stop();
    }
  });
});

describe('DPoP nonces (RFC 9449 §8, §9)', () => {
  it('sends the code again once with the nonce the token endpoint asked for, a transition of the chart', async () => {
    const { client, sent, states } = dpopClient(nonces);
    try {
      const { tokens } = await signIn(client);
      expect(tokens.tokenType).toBe('DPoP');
      const exchanges = tokenRequests(nonces, sent);
      expect(exchanges.map((request) => [request.status, request.error ?? null])).toEqual([
        [400, 'use_dpop_nonce'],
        [200, null],
      ]);
      const second = await jwtVerify(exchanges[1]!.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(second.payload['nonce']).toEqual(expect.any(String));
      // The chart went sending → sending: the exchange's state was entered twice in a row.
      const sending = states.filter((state) => state === '{"exchanging":"sending"}');
      expect(sending.length).toBeGreaterThanOrEqual(2);
      // The nonce is kept: the refresh carries it at once.
      await client.refresh();
      const refreshes = tokenRequests(nonces, sent).slice(2);
      expect(refreshes.map((request) => request.status)).toEqual([200]);
    } finally {
      client.stop();
    }
  });

  it('sends the renewal again once with the nonce asked for, under the same refresh (requesting → requesting)', async () => {
    // A proxy in front of the token endpoint that refuses the first refresh for want of the server's latest nonce.
    let lastNonce: string | undefined;
    let refusals = 0;
    const proxy = (inner: FetchLike): FetchLike => async (input, init) => {
      const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
      if (String(input) === `${nonces.issuer}/token` && body.get('grant_type') === 'refresh_token' && refusals === 0 && lastNonce !== undefined) {
        refusals += 1;
        return Response.json({ error: 'use_dpop_nonce', error_description: 'nonce expired' }, { status: 400, headers: { 'dpop-nonce': lastNonce } });
      }
      const response = await inner(input, init);
      lastNonce = response.headers.get('dpop-nonce') ?? lastNonce;
      return response;
    };
    const recorder = recordingFetch();
    const states: string[] = [];
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: nonces.issuer },
      client: { clientId: DPOP_CLIENT, redirectUri: 'http://127.0.0.1/callback', scopes: ['openid', 'offline_access'] },
      services: { storage: memoryStorage(), fetch: proxy(recorder.fetch), navigate: () => undefined, clock: manualClock(Date.now()), dpop: dpop() },
    });
    client.subscribe((snapshot) => states.push(JSON.stringify(snapshot.value)));
    try {
      await signIn(client);
      states.length = 0;
      const refreshed = await client.refresh();
      expect(refusals).toBe(1);
      expect(refreshed?.tokenType).toBe('DPoP');
      const sentRefreshes = tokenRequests(nonces, recorder.sent).filter((request) => request.body.get('grant_type') === 'refresh_token');
      expect(sentRefreshes.map((request) => request.status)).toEqual([200]);
      const proof = await jwtVerify(sentRefreshes[0]!.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      // Sent with the nonce the refusal carried.
      expect(proof.payload['nonce']).toEqual(expect.any(String));
      const requesting = states.filter((state) => state === '{"refreshing":{"attempt":"requesting"}}');
      expect(requesting.length).toBeGreaterThanOrEqual(2);
      expect(states).not.toContain('{"refreshing":"retrying"}');
    } finally {
      client.stop();
    }
  });
});

/** A resource server on 127.0.0.1 that checks DPoP proofs and wants its own nonce: `nonce(n)` answers the n-th request's. */
async function nonceResourceServer(nonceFor: (request: number) => string) {
  let count = 0;
  const seen: { authorization: string | undefined; proofNonce: unknown; ath: unknown }[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      count += 1;
      const wanted = nonceFor(count);
      const proof = String(request.headers['dpop'] ?? '');
      let payload: Record<string, unknown> = {};
      try {
        payload = (await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })).payload;
      } catch {
        response.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' }).end();
        return;
      }
      seen.push({ authorization: request.headers['authorization'], proofNonce: payload['nonce'], ath: payload['ath'] });
      if (payload['nonce'] !== wanted) {
        response.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"', 'dpop-nonce': wanted }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': wanted }).end(JSON.stringify({ ok: true }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('authorizedFetch and a resource server that wants its own DPoP nonce', () => {
  it('sends the request once more with the nonce it asked for', async () => {
    const rs = await nonceResourceServer(() => 'rs-nonce-1');
    const { client } = dpopClient(plain);
    try {
      const { tokens } = await signIn(client);
      const response = await client.authorizedFetch(rs.url, { method: 'POST', body: JSON.stringify({ a: 1 }) });
      expect(response.status).toBe(200);
      expect(rs.seen.map((request) => request.proofNonce ?? null)).toEqual([null, 'rs-nonce-1']);
      expect(rs.seen.every((request) => request.authorization === `DPoP ${tokens.accessToken}`)).toBe(true);
      // The nonce is kept for the next call.
      expect((await client.authorizedFetch(rs.url)).status).toBe(200);
      expect(rs.seen.at(-1)?.proofNonce).toBe('rs-nonce-1');
    } finally {
      client.stop();
      await rs.close();
    }
  });

  it('returns the refusal, after one retry, when the nonce it was given is wrong again (never a loop)', async () => {
    const rs = await nonceResourceServer((n) => `rs-nonce-${n}`);
    const { client } = dpopClient(plain);
    try {
      await signIn(client);
      const response = await client.authorizedFetch(rs.url);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/);
      expect(rs.seen).toHaveLength(2);
    } finally {
      client.stop();
      await rs.close();
    }
  });
});

describe('dpop_signing_alg_values_supported', () => {
  it('refuses, before anything is sent, an algorithm the provider does not list', async () => {
    const recorder = recordingFetch();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: plain.issuer },
      client: { clientId: DPOP_CLIENT, redirectUri: 'http://127.0.0.1/callback' },
      services: { storage: memoryStorage(), fetch: recorder.fetch, navigate: () => undefined, dpop: dpop({ algorithm: 'ES384' }) },
    });
    try {
      await client.ready;
      const provider = { ...client.provider, dpopSigningAlgValuesSupported: ['ES256'] };
      const narrowed = createOAuthClient({
        grant: 'authorization_code',
        provider,
        client: { clientId: DPOP_CLIENT, redirectUri: 'http://127.0.0.1/callback' },
        services: { storage: memoryStorage(), fetch: recorder.fetch, navigate: () => undefined, dpop: dpop({ algorithm: 'ES384' }) },
      });
      const before = recorder.sent.length;
      const error = await narrowed.login().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'configuration_error' });
      expect(recorder.sent.length).toBe(before);
      narrowed.stop();
    } finally {
      client.stop();
    }
  });
});
