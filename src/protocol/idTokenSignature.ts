/**
 * ID-token signatures (OIDC Core §3.1.3.7 items 6–8, §10.1), verified with
 * `jose` against the provider's JWK Set.
 *
 * The operations load this module (and with it `jose` and `jwks.ts`) with a
 * dynamic `import()` the first time a signature is verified, so an
 * application that never verifies one (no `jwks_uri` known) never loads it,
 * and a bundler that splits code puts it in a chunk of its own.
 */
import { OAuthError } from '../errors.js';
import { base64urlDecode, base64urlEncode } from './base64url.js';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { checkIdTokenClaims, decodeJwtPayload } from './idToken.js';
import { providerJwks, type JsonWebKeySet, type JwksContext } from './jwks.js';
import type { ClientConfig, ProviderConfig } from './types.js';
import { isRecord } from './validators.js';

/** The asymmetric algorithms an ID token may be signed with (RFC 7518 §3.1, RFC 8037 §3.1). */
export const ASYMMETRIC_ID_TOKEN_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const;
/** HMAC algorithms, keyed with the client secret (OIDC Core §10.1): confidential clients only. */
export const HMAC_ID_TOKEN_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

function invalid(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_id_token', { description, retryable: false, ...(cause === undefined ? {} : { cause }) });
}

/** The JOSE header of a compact JWS (RFC 7515 §4); `invalid_response` when it does not decode. */
export function decodeJwsHeader(jws: string): Record<string, unknown> {
  const [header = ''] = jws.split('.');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64urlDecode(header)));
  } catch (thrown) {
    throw new OAuthError('invalid_response', { description: 'the ID token\'s header does not decode', cause: thrown, retryable: false });
  }
  if (!isRecord(value)) throw new OAuthError('invalid_response', { description: 'the ID token\'s header is not a JSON object', retryable: false });
  return value;
}

function hasSecret(client: ClientConfig): client is ClientConfig & { clientSecret: string } {
  return typeof client.clientSecret === 'string' && client.clientSecret !== '';
}

/**
 * The algorithms an ID token of this client may carry: the library's
 * asymmetric ones (plus HMAC for a client with a secret), narrowed to
 * `client.idTokenSigningAlg` when set, and to the provider's
 * `idTokenSigningAlgValuesSupported` when it lists them. Never `none`.
 */
export function allowedIdTokenAlgorithms(provider: ProviderConfig, client: ClientConfig): string[] {
  let allowed: string[] = [...ASYMMETRIC_ID_TOKEN_ALGORITHMS, ...(hasSecret(client) ? HMAC_ID_TOKEN_ALGORITHMS : [])];
  if (client.idTokenSigningAlg !== undefined) allowed = allowed.filter((alg) => alg === client.idTokenSigningAlg);
  const supported = provider.idTokenSigningAlgValuesSupported;
  if (supported !== undefined) allowed = allowed.filter((alg) => supported.includes(alg));
  return allowed;
}

/** One jose key-set resolver per cached key set: it imports each key once, not on every verification. */
const resolvers = new WeakMap<JsonWebKeySet, ReturnType<typeof createLocalJWKSet>>();
function keyResolver(jwks: JsonWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let resolver = resolvers.get(jwks);
  if (resolver === undefined) {
    resolver = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
    resolvers.set(jwks, resolver);
  }
  return resolver;
}

function errorCode(thrown: unknown): string | undefined {
  return typeof thrown === 'object' && thrown !== null && 'code' in thrown && typeof thrown.code === 'string' ? thrown.code : undefined;
}

/**
 * Verifies an ID token's signature, or throws `OAuthError('invalid_id_token')`:
 *
 * - `alg: none` is refused (OIDC Core §3.1.3.7 item 7 names the algorithm the
 *   client expects; an unsigned token proves nothing);
 * - an HMAC algorithm is refused for a client without a secret (the key would be
 *   public: OIDC Core §10.1), and otherwise verified with the secret;
 * - an algorithm outside {@link allowedIdTokenAlgorithms} is refused;
 * - an asymmetric signature is verified with the key of the provider's JWK Set
 *   (`provider.jwksUri`) its header names (`kid`, `kty`, `alg`, `use`). When none
 *   matches, the key set is read again once (a rotation), at most once per
 *   `JWKS_REFETCH_INTERVAL_MS`; still none: refused.
 *
 * A failure to read the key set is that failure (`network_error`, `invalid_response`…).
 */
export async function verifyIdTokenSignature(
  context: JwksContext & { client: ClientConfig },
  idToken: string,
): Promise<void> {
  const header = decodeJwsHeader(idToken);
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') throw invalid('the ID token\'s header has no alg');
  if (alg.toLowerCase() === 'none') throw invalid('the ID token is unsigned (alg none), and the provider publishes signing keys');
  const isHmac = (HMAC_ID_TOKEN_ALGORITHMS as readonly string[]).includes(alg);
  if (isHmac && !hasSecret(context.client)) {
    throw invalid(`the ID token is signed with ${alg}, an HMAC keyed by a client secret, which a public client does not have`);
  }
  const algorithms = allowedIdTokenAlgorithms(context.provider, context.client);
  if (!algorithms.includes(alg)) throw invalid(`the ID token is signed with ${alg}, which is not allowed (${algorithms.join(', ') || 'none allowed'})`);

  try {
    if (isHmac) {
      await compactVerify(idToken, new TextEncoder().encode(context.client.clientSecret), { algorithms });
      return;
    }
    let jwks = await providerJwks(context);
    for (let attempt = 0; attempt < 2 && jwks !== undefined; attempt += 1) {
      try {
        await compactVerify(idToken, keyResolver(jwks), { algorithms });
        return;
      } catch (thrown) {
        if (errorCode(thrown) !== 'ERR_JWKS_NO_MATCHING_KEY' || attempt === 1) throw thrown;
        // RFC 7517 §4.5 / OIDC Core §10.1.1: a key the set does not have is a rotation; read the set again, once.
        jwks = await providerJwks(context, true);
      }
    }
    throw invalid(`the provider's key set has no key for this ID token (kid ${JSON.stringify(header.kid ?? null)}), and was read again too recently`);
  } catch (thrown) {
    if (thrown instanceof OAuthError) throw thrown;
    switch (errorCode(thrown)) {
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        throw invalid('the ID token\'s signature does not verify', thrown);
      case 'ERR_JWKS_NO_MATCHING_KEY':
        throw invalid(`the provider's key set has no key for this ID token (kid ${JSON.stringify(header.kid ?? null)})`, thrown);
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        throw invalid('the provider\'s key set has several keys for this ID token and it names none (no kid)', thrown);
      default:
        throw invalid('the ID token\'s signature could not be verified', thrown);
    }
  }
}

/** The hash of a JWS algorithm, for `at_hash`/`c_hash` (OIDC Core §3.1.3.6; EdDSA with Ed25519 hashes with SHA-512). */
function hashOf(alg: string): 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined {
  if (alg === 'EdDSA') return 'SHA-512';
  const bits = /^(?:RS|PS|ES|HS)(256|384|512)$/.exec(alg)?.[1];
  return bits === undefined ? undefined : (`SHA-${bits}` as 'SHA-256' | 'SHA-384' | 'SHA-512');
}

/**
 * Checks an `at_hash` or `c_hash` claim (OIDC Core §3.1.3.6, §3.2.2.9): the
 * base64url of the left half of the hash of `value` with the hash of the ID
 * token's `alg`. `invalid_id_token` when the claim is missing or differs.
 */
export async function checkIdTokenHash(idToken: string, claim: 'at_hash' | 'c_hash', value: string): Promise<void> {
  const alg = decodeJwsHeader(idToken).alg;
  const hash = typeof alg === 'string' ? hashOf(alg) : undefined;
  if (hash === undefined) throw invalid(`the ID token's alg ${JSON.stringify(alg)} names no hash for ${claim}`);
  const expected = decodeJwtPayload(idToken)[claim];
  if (typeof expected !== 'string') throw invalid(`the ID token has no ${claim} claim`);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest(hash, new TextEncoder().encode(value)));
  if (base64urlEncode(digest.slice(0, digest.length / 2)) !== expected) {
    throw invalid(`the ID token's ${claim} does not match the ${claim === 'at_hash' ? 'access token' : 'code'} it came with`);
  }
}

/**
 * Checks an ID token that came through the front channel (an implicit or
 * hybrid authorization response, OIDC Core §3.2.2.11, §3.3.2.12): its claims
 * with the nonce that was sent, its signature — required here, since no TLS
 * connection to the token endpoint vouches for it, so a provider without a
 * known key set is refused — and `at_hash` for the access token (`c_hash`
 * for the code) it came with.
 */
export async function checkFrontChannelIdToken(
  context: JwksContext & { client: ClientConfig },
  idToken: string,
  expected: { nonce: string | undefined; issuer: string | undefined; now: number; accessToken?: string; code?: string },
): Promise<void> {
  // OIDC Core §3.2.2.11: the nonce is required in an implicit ID token; none sent, none can match.
  checkIdTokenClaims(idToken, { issuer: expected.issuer, clientId: context.client.clientId, nonce: expected.nonce ?? '', now: expected.now });
  if (context.provider.jwksUri === undefined && (context.client.clientSecret === undefined || context.client.clientSecret === '')) {
    throw invalid('an ID token from the authorization response needs its signature verified, and the provider has no known key set (jwksUri)');
  }
  await verifyIdTokenSignature(context, idToken);
  if (expected.accessToken !== undefined) await checkIdTokenHash(idToken, 'at_hash', expected.accessToken);
  if (expected.code !== undefined) await checkIdTokenHash(idToken, 'c_hash', expected.code);
}
