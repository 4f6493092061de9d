/**
 * The JOSE features against oidc-provider 8 on 127.0.0.1 (configured in
 * test/support/oidcProviderJose.ts), through `createOAuthClient`:
 *
 * - ID tokens signed with RS256, PS256, ES256 and EdDSA are verified against
 *   the discovered `jwks_uri`; a forged signature and `alg: none` are refused;
 *   after a key rotation the client reads the key set again, once;
 * - `private_key_jwt` (a non-extractable CryptoKey, or a JWK) and
 *   `client_secret_jwt` authenticate the code exchange and client credentials,
 *   each request with a new single-use assertion for the issuer;
 * - the metadata refuses, before anything is sent, what the server says it cannot serve.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createOAuthClient, type OAuthClient, type OAuthGrant } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { memoryStorage } from '../src/services/index.js';
import type { FetchLike } from '../src/services/types.js';
import { createClientCredentialsCache } from '../src/server/index.js';
import { API_SCOPE } from './support/oidcProvider.js';
import { ID_TOKEN_ALGS, startJoseProvider, type JoseProvider } from './support/oidcProviderJose.js';
import { UserAgent } from './support/userAgent.js';

let op: JoseProvider;
const started: Array<OAuthClient<OAuthGrant>> = [];

beforeAll(async () => {
  op = await startJoseProvider();
});
afterEach(() => {
  for (const client of started.splice(0)) client.stop();
});
afterAll(async () => {
  await op.close();
});

interface Sent {
  url: string;
  body: URLSearchParams;
}

/** The global fetch, recording what is sent and letting a test rewrite the token endpoint's answer. */
function recordingFetch(rewriteTokens?: (body: Record<string, unknown>) => Record<string, unknown>): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const recorder: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    sent.push({ url, body: new URLSearchParams(typeof init?.body === 'string' ? init.body : '') });
    const response = await fetch(input, init);
    if (rewriteTokens === undefined || url !== `${op.issuer}/token` || !response.ok) return response;
    const body = rewriteTokens((await response.json()) as Record<string, unknown>);
    return new Response(JSON.stringify(body), { status: response.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: recorder, sent };
}

function track<G extends OAuthGrant>(client: OAuthClient<G>): OAuthClient<G> {
  started.push(client as unknown as OAuthClient<OAuthGrant>);
  return client;
}

async function signIn(client: OAuthClient<'authorization_code'>) {
  const url = await client.login({ extraParams: { prompt: 'consent' } });
  return client.handleCallback(await new UserAgent().authorize(url, { login: 'alice' }));
}

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const thrown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(thrown instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(thrown)}`);
  return thrown;
}

function codeClient(clientId: string, fetch: FetchLike, extra: Record<string, unknown> = {}, navigations: string[] = []) {
  return track(
    createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: op.issuer },
      client: { clientId, redirectUri: op.redirectUri, scopes: ['openid', 'offline_access'], ...extra } as never,
      services: { storage: memoryStorage(), fetch, navigate: (url) => void navigations.push(url) },
    }),
  ) as OAuthClient<'authorization_code'>;
}

describe('ID-token signatures against oidc-provider', () => {
  for (const alg of ID_TOKEN_ALGS) {
    it(`verifies an ID token signed with ${alg} against the discovered jwks_uri`, async () => {
      const recorder = recordingFetch();
      const client = codeClient(op.publicClientId(alg), recorder.fetch);
      const tokens = await signIn(client);
      expect(decodeProtectedHeader(tokens.idToken ?? '').alg).toBe(alg);
      expect(client.provider).toMatchObject({ jwksUri: `${op.issuer}/jwks` });
      expect(recorder.sent.filter((request) => request.url === `${op.issuer}/jwks`)).toHaveLength(1);
    });
  }

  it('refuses an ID token whose signature was forged, and keeps no tokens', async () => {
    const recorder = recordingFetch((body) => {
      const [header, payload, signature = ''] = String(body.id_token).split('.');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      return { ...body, id_token: `${header}.${payload}.${flipped}` };
    });
    const client = codeClient(op.publicClientId('ES256'), recorder.fetch);
    const error = await rejection(signIn(client));
    expect(error.code).toBe('invalid_id_token');
    expect(error.description).toMatch(/signature does not verify/);
    expect(client.actor.getSnapshot().context.tokens).toBeUndefined();
  });

  it('refuses an ID token turned into alg none', async () => {
    const recorder = recordingFetch((body) => {
      const [, payload] = String(body.id_token).split('.');
      return { ...body, id_token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.` };
    });
    const error = await rejection(signIn(codeClient(op.publicClientId('RS256'), recorder.fetch)));
    expect(error.code).toBe('invalid_id_token');
    expect(error.description).toMatch(/alg none/);
  });

  it('reads the key set again once after the provider rotated its keys, and verifies with the new key', async () => {
    const recorder = recordingFetch();
    const jwksReads = () => recorder.sent.filter((request) => request.url === `${op.issuer}/jwks`).length;
    // One transport for both clients: the key set is cached per transport and issuer.
    const first = await signIn(codeClient(op.publicClientId('ES256'), recorder.fetch));
    expect(jwksReads()).toBe(1);
    const before = decodeProtectedHeader(first.idToken ?? '').kid;

    op.rotateKeys();
    const second = await signIn(codeClient(op.publicClientId('ES256'), recorder.fetch));
    const after = decodeProtectedHeader(second.idToken ?? '').kid;
    expect(after).not.toBe(before);
    expect(op.currentKids()).toContain(after);
    expect(jwksReads()).toBe(2);
  });
});

describe('JWT client authentication against oidc-provider', () => {
  function assertionsSent(sent: Sent[]) {
    return sent
      .filter((request) => request.url === `${op.issuer}/token`)
      .map((request) => {
        expect(request.body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        expect(request.body.get('client_secret')).toBeNull();
        const assertion = request.body.get('client_assertion') ?? '';
        return { header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion) };
      });
  }

  it('authenticates the code exchange and a refresh with private_key_jwt and a non-extractable CryptoKey', async () => {
    expect(op.privateKeyJwt.privateKey.extractable).toBe(false);
    const recorder = recordingFetch();
    const client = codeClient(op.privateKeyJwt.clientId, recorder.fetch, {
      authMethod: 'private_key_jwt',
      privateKey: op.privateKeyJwt.privateKey,
      keyId: op.privateKeyJwt.jwk.kid,
    });
    const tokens = await signIn(client);
    expect(tokens.idToken).toEqual(expect.any(String));
    await client.refresh();
    const assertions = assertionsSent(recorder.sent);
    expect(assertions).toHaveLength(2);
    for (const { header, claims } of assertions) {
      expect(header).toMatchObject({ alg: 'ES256', kid: 'client-key-1' });
      expect(claims).toMatchObject({ iss: op.privateKeyJwt.clientId, sub: op.privateKeyJwt.clientId, aud: op.issuer });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(60);
    }
    // Single use: every request its own jti.
    expect(new Set(assertions.map(({ claims }) => claims.jti)).size).toBe(2);
  });

  it('gets client-credentials tokens with private_key_jwt and a JWK', async () => {
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: op.privateKeyJwt.clientId, authMethod: 'private_key_jwt', privateKey: op.privateKeyJwt.jwk, scopes: [API_SCOPE] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    const tokens = await client.login();
    expect(tokens.scope).toEqual([API_SCOPE]);
    expect(assertionsSent(recorder.sent)[0]?.header).toMatchObject({ alg: 'ES256', kid: 'client-key-1' });
  });

  it('serves a server-side client-credentials token cache authenticated with private_key_jwt', async () => {
    const recorder = recordingFetch();
    const cache = createClientCredentialsCache({
      provider: { issuer: op.issuer, tokenEndpoint: `${op.issuer}/token` },
      client: { clientId: op.privateKeyJwt.clientId, authMethod: 'private_key_jwt', privateKey: op.privateKeyJwt.privateKey, keyId: 'client-key-1' },
      services: { fetch: recorder.fetch },
    });
    try {
      const token = await cache.getAccessToken({ scopes: [API_SCOPE] });
      expect(token).toEqual(expect.any(String));
      expect(await cache.getAccessToken({ scopes: [API_SCOPE] })).toBe(token);
      expect(assertionsSent(recorder.sent)).toHaveLength(1);
    } finally {
      cache.clear();
    }
  });

  it('gets client-credentials tokens with client_secret_jwt', async () => {
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: op.secretJwt.clientId, clientSecret: op.secretJwt.clientSecret, authMethod: 'client_secret_jwt', scopes: [API_SCOPE] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    await client.login();
    const [assertion] = assertionsSent(recorder.sent);
    expect(assertion?.header).toMatchObject({ alg: 'HS256' });
    expect(assertion?.header.kid).toBeUndefined();
  });

  it('is refused by the server with a key it has not registered (invalid_client)', async () => {
    const stranger = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: op.privateKeyJwt.clientId, authMethod: 'private_key_jwt', privateKey: stranger.privateKey, keyId: 'client-key-1', scopes: [API_SCOPE] },
        services: { storage: memoryStorage() },
      }),
    );
    expect((await rejection(client.login())).code).toBe('invalid_client');
  });

  it('refuses, before sending anything, a signing algorithm the server does not list', async () => {
    const recorder = recordingFetch();
    const client = track(
      createOAuthClient({
        grant: 'client_credentials',
        provider: { issuer: op.issuer },
        client: { clientId: op.secretJwt.clientId, clientSecret: op.secretJwt.clientSecret, authMethod: 'client_secret_jwt', signingAlg: 'HS512', scopes: [API_SCOPE] },
        services: { storage: memoryStorage(), fetch: recorder.fetch },
      }),
    );
    const error = await rejection(client.login());
    expect(error.code).toBe('configuration_error');
    expect(error.description).toMatch(/HS512/);
    expect(recorder.sent.filter((request) => request.url === `${op.issuer}/token`)).toEqual([]);
  });
});

describe('signed request objects (RFC 9101) against oidc-provider', () => {
  /** The request object of an authorization URL, and the parameters left in its query. */
  function requestObjectOf(authorizationUrl: string) {
    const url = new URL(authorizationUrl);
    const request = url.searchParams.get('request') ?? '';
    return { query: [...url.searchParams.keys()].sort(), header: decodeProtectedHeader(request), claims: decodeJwt(request) };
  }

  it('sends the authorization request as a request object signed with the private_key_jwt key, and logs in', async () => {
    const navigations: string[] = [];
    const client = track(
      createOAuthClient({
        grant: 'authorization_code',
        provider: { issuer: op.issuer },
        client: {
          clientId: op.privateKeyJwt.clientId,
          redirectUri: op.redirectUri,
          scopes: ['openid'],
          authMethod: 'private_key_jwt',
          privateKey: op.privateKeyJwt.privateKey,
          keyId: op.privateKeyJwt.jwk.kid,
          requestObject: true,
        },
        services: { storage: memoryStorage(), navigate: (url) => void navigations.push(url) },
      }),
    );
    const authorizationUrl = await client.login();
    const { query, header, claims } = requestObjectOf(authorizationUrl);
    expect(query).toEqual(['client_id', 'request', 'response_type', 'scope']);
    expect(header).toEqual({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: 'client-key-1' });
    expect(claims).toMatchObject({
      iss: op.privateKeyJwt.clientId,
      aud: op.issuer,
      client_id: op.privateKeyJwt.clientId,
      response_type: 'code',
      redirect_uri: op.redirectUri,
      code_challenge_method: 'S256',
      state: expect.any(String),
      nonce: expect.any(String),
      jti: expect.any(String),
    });
    // oidc-provider took the signed request (strict mode: it reads nothing outside it) and the login completes.
    const tokens = await client.handleCallback(await new UserAgent().authorize(authorizationUrl, { login: 'alice' }));
    expect(decodeJwt(tokens.idToken ?? '').nonce).toBe(claims.nonce);
  });

  it('signs request objects with the client secret (HS256) for a client_secret_jwt client', async () => {
    const client = track(
      createOAuthClient({
        grant: 'authorization_code',
        provider: { issuer: op.issuer },
        client: {
          clientId: op.secretJwt.clientId,
          clientSecret: op.secretJwt.clientSecret,
          authMethod: 'client_secret_jwt',
          redirectUri: op.redirectUri,
          scopes: ['openid'],
          requestObject: true,
        },
        services: { storage: memoryStorage(), navigate: () => undefined },
      }),
    );
    const authorizationUrl = await client.login();
    expect(requestObjectOf(authorizationUrl).header).toEqual({ alg: 'HS256', typ: 'oauth-authz-req+jwt' });
    const tokens = await client.handleCallback(await new UserAgent().authorize(authorizationUrl, { login: 'alice' }));
    expect(tokens.idToken).toEqual(expect.any(String));
  });

  describe('with a provider that requires them', () => {
    let strict: JoseProvider;
    beforeAll(async () => {
      strict = await startJoseProvider({ requireSignedRequestObject: true });
    });
    afterAll(async () => {
      await strict.close();
    });

    it('signs every authorization request once discovery says require_signed_request_object', async () => {
      const client = track(
        createOAuthClient({
          grant: 'authorization_code',
          provider: { issuer: strict.issuer },
          client: {
            clientId: strict.privateKeyJwt.clientId,
            redirectUri: strict.redirectUri,
            scopes: ['openid'],
            authMethod: 'private_key_jwt',
            privateKey: strict.privateKeyJwt.jwk,
          },
          services: { storage: memoryStorage(), navigate: () => undefined },
        }),
      );
      const authorizationUrl = await client.login();
      expect(client.provider).toMatchObject({ requireSignedRequestObject: true, requestParameterSupported: true });
      expect(new URL(authorizationUrl).searchParams.get('request')).toEqual(expect.any(String));
      const tokens = await client.handleCallback(await new UserAgent().authorize(authorizationUrl, { login: 'alice' }));
      expect(tokens.accessToken).toEqual(expect.any(String));
    });

    it('refuses, before leaving for the provider, a public client that has no key to sign with', async () => {
      const navigations: string[] = [];
      const client = track(
        createOAuthClient({
          grant: 'authorization_code',
          provider: { issuer: strict.issuer },
          client: { clientId: strict.publicClientId('ES256'), redirectUri: strict.redirectUri, scopes: ['openid'] },
          services: { storage: memoryStorage(), navigate: (url) => void navigations.push(url) },
        }),
      );
      const error = await rejection(client.login());
      expect(error.code).toBe('configuration_error');
      expect(error.description).toMatch(/request object needs client.privateKey/);
      expect(navigations).toEqual([]);
    });
  });

  it('refuses, before leaving, an ID-token algorithm the provider does not sign with', async () => {
    const navigations: string[] = [];
    const client = codeClient(op.publicClientId('ES256'), fetch, { idTokenSigningAlg: 'ES512' }, navigations);
    const error = await rejection(client.login());
    expect(error.code).toBe('configuration_error');
    expect(error.description).toMatch(/does not sign ID tokens with ES512/);
    expect(navigations).toEqual([]);
  });
});
