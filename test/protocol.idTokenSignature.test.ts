/**
 * ID-token signatures: verified with jose against the provider's JWK Set
 * whenever `provider.jwksUri` is known; the key set cached per issuer and read
 * again once, rate-limited, for an unknown `kid`; `alg: none` and HMAC for
 * public clients refused; the algorithm allow-list from the client and the
 * provider's metadata.
 */
import { describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { OAuthError } from '../src/errors.js';
import { exchangeAuthorizationCode, type OperationContext } from '../src/protocol/operations.js';
import { allowedIdTokenAlgorithms, checkFrontChannelIdToken, checkIdTokenHash } from '../src/protocol/idTokenSignature.js';
import { JWKS_REFETCH_INTERVAL_MS } from '../src/protocol/jwks.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { manualClock } from '../src/services/clock.js';
import { defaultServices } from '../src/services/defaultServices.js';
import { jsonResponse } from './protocol.fixtures.js';

const ISSUER = 'https://as.example';
const provider: ProviderConfig = { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token`, jwksUri: `${ISSUER}/jwks` };
const publicClient: ClientConfig = { clientId: 'spa', redirectUri: 'https://app.example/cb' };
const verifier = 'v'.repeat(43);

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

async function signingKey(alg: Alg, kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const pair = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  return { privateKey: pair.privateKey as CryptoKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

async function idToken(key: { privateKey: CryptoKey | Uint8Array }, header: { alg: string; kid?: string }, now: number, claims: Record<string, unknown> = {}) {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader(header)
    .setIssuer(ISSUER)
    .setAudience('spa')
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + 300)
    .sign(key.privateKey);
}

/** A provider whose token endpoint answers `token()` and whose jwks_uri answers `keys()`, counting key-set reads. */
function world(token: () => string | Promise<string>, keys: () => JWK[], options: { provider?: ProviderConfig; client?: ClientConfig } = {}) {
  const clock = manualClock(Date.now());
  const counts = { jwks: 0 };
  const fetch: typeof globalThis.fetch = async (input) => {
    const url = String(input);
    if (url === `${ISSUER}/jwks`) {
      counts.jwks += 1;
      return jsonResponse({ keys: keys() });
    }
    return jsonResponse({ access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: await token() });
  };
  const context: OperationContext = {
    provider: options.provider ?? provider,
    client: options.client ?? publicClient,
    services: defaultServices({ fetch, clock }),
  };
  const exchange = () => exchangeAuthorizationCode({ ...context, code: 'c', codeVerifier: verifier });
  return { clock, counts, exchange };
}

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const thrown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(thrown instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(thrown)}`);
  return thrown;
}

describe('ID-token signature verification', () => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
    it(`accepts an ID token signed with ${alg} by a key of the provider's JWK Set`, async () => {
      const key = await signingKey(alg, `k-${alg}`);
      const { exchange, counts } = world(() => idToken(key, { alg, kid: `k-${alg}` }, Date.now()), () => [key.jwk]);
      const tokens = await exchange();
      expect(tokens.idToken).toEqual(expect.any(String));
      expect(counts.jwks).toBe(1);
    });
  }

  it('refuses a forged signature (the right header and claims, another key)', async () => {
    const published = await signingKey('ES256', 'k1');
    const forger = await signingKey('ES256', 'k1');
    const { exchange } = world(() => idToken(forger, { alg: 'ES256', kid: 'k1' }, Date.now()), () => [published.jwk]);
    const error = await failure(exchange());
    expect(error.code).toBe('invalid_id_token');
    expect(error.description).toMatch(/signature does not verify/);
  });

  it('refuses a token whose claims were changed after signing', async () => {
    const key = await signingKey('RS256', 'k1');
    const tampered = async () => {
      const [header, , signature] = (await idToken(key, { alg: 'RS256', kid: 'k1' }, Date.now())).split('.');
      const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: 'spa', sub: 'mallory', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    };
    const error = await failure(world(tampered, () => [key.jwk]).exchange());
    expect(error.code).toBe('invalid_id_token');
  });

  it('refuses alg none when the provider publishes keys', async () => {
    const key = await signingKey('RS256', 'k1');
    const unsigned = () => {
      const now = Math.floor(Date.now() / 1000);
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${part({ alg: 'none' })}.${part({ iss: ISSUER, aud: 'spa', sub: 'alice', iat: now, exp: now + 60 })}.`;
    };
    const { exchange, counts } = world(unsigned, () => [key.jwk]);
    const error = await failure(exchange());
    expect(error.code).toBe('invalid_id_token');
    expect(error.description).toMatch(/alg none/);
    expect(counts.jwks).toBe(0);
  });

  it('refuses an HMAC-signed ID token for a public client, and verifies one with the secret of a confidential client', async () => {
    const secret = 'a-client-secret-of-at-least-32-bytes!';
    const hmac = { privateKey: new TextEncoder().encode(secret) };
    const refused = await failure(world(() => idToken(hmac, { alg: 'HS256' }, Date.now()), () => []).exchange());
    expect(refused.code).toBe('invalid_id_token');
    expect(refused.description).toMatch(/public client/);

    const confidential: ClientConfig = { clientId: 'spa', clientSecret: secret, redirectUri: 'https://app.example/cb' };
    await expect(world(() => idToken(hmac, { alg: 'HS256' }, Date.now()), () => [], { client: confidential }).exchange()).resolves.toMatchObject({ accessToken: 'at' });
    const wrongSecret = { privateKey: new TextEncoder().encode(`${secret}-not`) };
    const forged = await failure(world(() => idToken(wrongSecret, { alg: 'HS256' }, Date.now()), () => [], { client: confidential }).exchange());
    expect(forged.code).toBe('invalid_id_token');
  });

  it('refuses an algorithm the provider does not list, or another than the client registered', async () => {
    const key = await signingKey('ES256', 'k1');
    const sign = () => idToken(key, { alg: 'ES256', kid: 'k1' }, Date.now());
    const listsRs256 = world(sign, () => [key.jwk], { provider: { ...provider, idTokenSigningAlgValuesSupported: ['RS256'] } });
    expect((await failure(listsRs256.exchange())).description).toMatch(/ES256, which is not allowed \(RS256\)/);
    const registeredPs256 = world(sign, () => [key.jwk], { client: { ...publicClient, idTokenSigningAlg: 'PS256' } });
    expect((await failure(registeredPs256.exchange())).code).toBe('invalid_id_token');
  });

  it('lists the allowed algorithms: never none, HMAC only with a secret', () => {
    expect(allowedIdTokenAlgorithms(provider, publicClient)).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
    expect(allowedIdTokenAlgorithms({ ...provider, idTokenSigningAlgValuesSupported: ['none', 'HS256', 'RS256'] }, { ...publicClient, clientSecret: 's' })).toEqual(['RS256', 'HS256']);
  });

  it('does not read a key set for a provider without jwks_uri (the token endpoint\'s TLS stands in)', async () => {
    const key = await signingKey('ES256', 'k1');
    const { exchange, counts } = world(() => idToken(key, { alg: 'ES256', kid: 'k1' }, Date.now()), () => [], {
      provider: { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token` },
    });
    await exchange();
    expect(counts.jwks).toBe(0);
  });
});

describe('the JWK Set cache', () => {
  it('reads the key set once for many ID tokens of one issuer', async () => {
    const key = await signingKey('ES256', 'k1');
    const { exchange, counts } = world(() => idToken(key, { alg: 'ES256', kid: 'k1' }, Date.now()), () => [key.jwk]);
    await exchange();
    await exchange();
    await exchange();
    expect(counts.jwks).toBe(1);
  });

  it('reads the key set again once for an unknown kid (a rotation), then verifies with the new key', async () => {
    const before = await signingKey('ES256', 'old');
    const after = await signingKey('ES256', 'new');
    let current = before;
    const { exchange, counts } = world(
      () => idToken(current, { alg: 'ES256', kid: current.jwk.kid ?? '' }, Date.now()),
      () => [current.jwk],
    );
    await exchange();
    expect(counts.jwks).toBe(1);
    current = after;
    await exchange();
    expect(counts.jwks).toBe(2);
  });

  it('reads it again at most once per interval: made-up kids do not make the client hammer the server', async () => {
    const key = await signingKey('ES256', 'k1');
    const stranger = await signingKey('ES256', 'k1');
    let kid = 'k1';
    const { exchange, counts, clock } = world(
      () => idToken(kid === 'k1' ? key : stranger, { alg: 'ES256', kid }, Date.now()),
      () => [key.jwk],
    );
    await exchange();
    kid = 'made-up-1';
    expect((await failure(exchange())).description).toMatch(/no key for this ID token/);
    expect(counts.jwks).toBe(2);
    kid = 'made-up-2';
    expect((await failure(exchange())).description).toMatch(/read again too recently/);
    expect(counts.jwks).toBe(2);
    clock.advance(JWKS_REFETCH_INTERVAL_MS);
    kid = 'made-up-3';
    await failure(exchange());
    expect(counts.jwks).toBe(3);
  });

  it('refuses a jwks_uri that does not answer a JWK Set', async () => {
    const key = await signingKey('ES256', 'k1');
    const { exchange } = world(() => idToken(key, { alg: 'ES256', kid: 'k1' }, Date.now()), () => 'not keys' as unknown as JWK[]);
    expect((await failure(exchange())).code).toBe('invalid_response');
  });
});

/** OIDC Core §3.1.3.6: the left half of the hash, base64url. */
async function leftHalfHash(value: string, hash: 'SHA-256' | 'SHA-512'): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(value)));
  return Buffer.from(digest.slice(0, digest.length / 2)).toString('base64url');
}

describe('front-channel ID tokens (implicit, hybrid)', () => {
  it('checks at_hash and c_hash with the hash of the token\'s alg (SHA-256 for ES256, SHA-512 for EdDSA)', async () => {
    for (const [alg, hash] of [['ES256', 'SHA-256'], ['EdDSA', 'SHA-512']] as const) {
      const key = await signingKey(alg, 'k1');
      const token = await idToken(key, { alg, kid: 'k1' }, Date.now(), {
        at_hash: await leftHalfHash('the-access-token', hash),
        c_hash: await leftHalfHash('the-code', hash),
      });
      await expect(checkIdTokenHash(token, 'at_hash', 'the-access-token')).resolves.toBeUndefined();
      await expect(checkIdTokenHash(token, 'c_hash', 'the-code')).resolves.toBeUndefined();
      expect((await failure(checkIdTokenHash(token, 'at_hash', 'another-access-token'))).code).toBe('invalid_id_token');
      expect((await failure(checkIdTokenHash(token, 'c_hash', 'another-code'))).code).toBe('invalid_id_token');
    }
  });

  it('accepts a signed implicit ID token with its nonce and at_hash, and refuses one without at_hash or with another nonce', async () => {
    const key = await signingKey('RS256', 'k1');
    const now = Date.now();
    const good = await idToken(key, { alg: 'RS256', kid: 'k1' }, now, { nonce: 'n1', at_hash: await leftHalfHash('at', 'SHA-256') });
    const withoutHash = await idToken(key, { alg: 'RS256', kid: 'k1' }, now, { nonce: 'n1' });
    const fetch: typeof globalThis.fetch = async () => jsonResponse({ keys: [key.jwk] });
    const context = { provider, client: publicClient, services: defaultServices({ fetch, clock: manualClock(now) }) };
    const expected = { nonce: 'n1', issuer: ISSUER, now, accessToken: 'at' };
    await expect(checkFrontChannelIdToken(context, good, expected)).resolves.toBeUndefined();
    expect((await failure(checkFrontChannelIdToken(context, withoutHash, expected))).description).toMatch(/no at_hash/);
    expect((await failure(checkFrontChannelIdToken(context, good, { ...expected, nonce: 'n2' }))).code).toBe('nonce_mismatch');
    expect((await failure(checkFrontChannelIdToken(context, good, { ...expected, accessToken: 'at-2' }))).description).toMatch(/at_hash does not match/);
  });

  it('refuses a front-channel ID token when the provider has no known key set: no TLS vouches for it', async () => {
    const key = await signingKey('ES256', 'k1');
    const now = Date.now();
    const token = await idToken(key, { alg: 'ES256', kid: 'k1' }, now, { nonce: 'n1' });
    const context = { provider: { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token` }, client: publicClient, services: defaultServices({ clock: manualClock(now) }) };
    expect((await failure(checkFrontChannelIdToken(context, token, { nonce: 'n1', issuer: ISSUER, now }))).description).toMatch(/no known key set/);
  });
});
