/**
 * Signing with the client's key (RFC 7523 assertions, RFC 9101 request
 * objects) with `jose`. Loaded with a dynamic `import()` the first time the
 * client signs, so an application that never does never loads it.
 */
import { importJWK, SignJWT } from 'jose';
import type { CryptoService, TimeSource } from '../services/types.js';
import { base64urlEncode } from './base64url.js';
import { CLIENT_ASSERTION_LIFETIME_SECONDS, clientAssertionAlgorithm, privateKeyId } from './clientAssertion.js';
import type { ClientConfig, Jwk, PrivateKey, WebCryptoKey } from './types.js';

type SigningKey = Parameters<SignJWT['sign']>[0];

function isCryptoKey(key: PrivateKey): key is WebCryptoKey {
  return typeof CryptoKey !== 'undefined' && key instanceof CryptoKey;
}

const importedKeys = new WeakMap<Jwk, Promise<SigningKey>>();

/** The key jose signs with: a `CryptoKey` as it is, a JWK imported once, else the secret's UTF-8 bytes. */
async function signingKey(client: ClientConfig, alg: string): Promise<SigningKey> {
  const key = client.privateKey;
  if (key === undefined) return new TextEncoder().encode(client.clientSecret ?? '');
  if (isCryptoKey(key)) return key as unknown as SigningKey;
  let imported = importedKeys.get(key);
  if (imported === undefined) {
    imported = importJWK(key as Parameters<typeof importJWK>[0], alg);
    importedKeys.set(key, imported);
  }
  return imported;
}

/**
 * Signs a JWT with the client's key (its private key, else an HMAC of its
 * secret): the header names the algorithm, `typ` and, for a private key, its
 * key id; the claims are `claims`.
 */
export async function signWithClientKey(client: ClientConfig, claims: Record<string, unknown>, typ: string): Promise<string> {
  const alg = clientAssertionAlgorithm(client);
  const kid = client.privateKey === undefined ? undefined : privateKeyId(client);
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ, ...(kid === undefined ? {} : { kid }) })
    .sign(await signingKey(client, alg));
}

/**
 * A client assertion (RFC 7523 §3): `iss` and `sub` the client id, `aud` the
 * audience the builder chose (the issuer), a single-use `jti` of 32 random
 * bytes, `iat` now and `exp` {@link CLIENT_ASSERTION_LIFETIME_SECONDS} later.
 */
export async function createClientAssertion(
  client: ClientConfig,
  audience: string,
  services: { crypto: CryptoService; clock: TimeSource },
): Promise<string> {
  const now = Math.floor(services.clock.now() / 1000);
  return signWithClientKey(
    client,
    {
      iss: client.clientId,
      sub: client.clientId,
      aud: audience,
      jti: base64urlEncode(services.crypto.randomBytes(32)),
      iat: now,
      exp: now + CLIENT_ASSERTION_LIFETIME_SECONDS,
    },
    'JWT',
  );
}

