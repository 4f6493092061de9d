/**
 * JWT client authentication (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt`
 * signs an assertion with the client's private key, `client_secret_jwt` with
 * an HMAC keyed by its secret. The same keys sign request objects (RFC 9101).
 * Here: which key and algorithm, the checks made before anything is sent,
 * and adding the assertion to a request; the signing itself, with `jose`, is
 * in `clientKeySigning.ts`. The operations load both with a dynamic `import()`
 * the first time a request needs an assertion.
 *
 * Signing needs WebCrypto, which is asynchronous, while the request builders
 * are not: a builder marks the request (`HttpRequest.clientAssertion`) and
 * {@link signClientAssertion} adds the signed assertion before it is sent.
 * `sendRequest` refuses a request still waiting for its assertion, so none
 * leaves unauthenticated.
 */
import type { CryptoService, TimeSource } from '../services/types.js';
import { createClientAssertion } from './clientKeySigning.js';
import { configurationError } from './providerRules.js';
import type { ClientConfig, HttpRequest, PrivateKey, ProviderConfig, WebCryptoKey } from './types.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How long an assertion is valid, in seconds: long enough to cross the network, too short to be worth stealing. */
export const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;

/** The JWT client authentication methods. */
export const JWT_AUTH_METHODS = ['private_key_jwt', 'client_secret_jwt'] as const;

const HASH_BITS: Record<string, string> = { 'SHA-256': '256', 'SHA-384': '384', 'SHA-512': '512' };
const CURVE_ALGS: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

function isCryptoKey(key: PrivateKey): key is WebCryptoKey {
  return typeof CryptoKey !== 'undefined' && key instanceof CryptoKey;
}

/**
 * The JWS algorithm a private key signs with: `client.signingAlg`, else the
 * JWK's `alg`, else what the key is (RSA PKCS#1 v1.5 → `RS256`…, RSA-PSS →
 * `PS256`…, P-256 → `ES256`, Ed25519 → `EdDSA`). `TypeError` when none fits.
 */
export function privateKeyAlgorithm(key: PrivateKey, signingAlg?: string): string {
  if (signingAlg !== undefined) return signingAlg;
  if (isCryptoKey(key)) {
    const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
    const bits = HASH_BITS[algorithm.hash?.name ?? ''];
    if (algorithm.name === 'RSASSA-PKCS1-v1_5' && bits !== undefined) return `RS${bits}`;
    if (algorithm.name === 'RSA-PSS' && bits !== undefined) return `PS${bits}`;
    if (algorithm.name === 'ECDSA' && algorithm.namedCurve !== undefined && CURVE_ALGS[algorithm.namedCurve]) return CURVE_ALGS[algorithm.namedCurve] as string;
    if (algorithm.name === 'Ed25519') return 'EdDSA';
    throw new TypeError(`client.privateKey is a ${algorithm.name} key, which signs no JWS algorithm the library knows; set client.signingAlg`);
  }
  if (typeof key.alg === 'string') return key.alg;
  if (key.kty === 'RSA') return 'RS256';
  const byCurve = CURVE_ALGS[key.crv ?? ''];
  if ((key.kty === 'EC' || key.kty === 'OKP') && byCurve !== undefined) return byCurve;
  throw new TypeError('client.privateKey is a JWK without alg whose kty/crv names no JWS algorithm; set client.signingAlg');
}

/**
 * The algorithm this client signs its JWTs with (assertions, request objects):
 * its `privateKey`'s (see {@link privateKeyAlgorithm}) when it has one, else an
 * HMAC of its secret, `HS256` unless `client.signingAlg` says otherwise.
 * `TypeError` for a client with neither.
 */
export function clientAssertionAlgorithm(client: ClientConfig): string {
  if (client.privateKey !== undefined) return privateKeyAlgorithm(client.privateKey, client.signingAlg);
  if (client.clientSecret !== undefined && client.clientSecret !== '') return client.signingAlg ?? 'HS256';
  throw new TypeError('signing needs client.privateKey (or client.clientSecret for an HMAC)');
}

/**
 * RFC 8414 §2 `token_endpoint_auth_signing_alg_values_supported`: an algorithm
 * the provider does not list is a `configuration_error` before anything is sent.
 */
export function assertAssertionAlgorithmSupported(provider: ProviderConfig, client: ClientConfig): void {
  const supported = provider.tokenEndpointAuthSigningAlgValuesSupported;
  const alg = clientAssertionAlgorithm(client);
  if (alg.toLowerCase() === 'none') throw configurationError('a client assertion is never unsigned (alg none)');
  if (supported !== undefined && !supported.includes(alg)) {
    throw configurationError(`the provider does not accept client assertions signed with ${alg} (it accepts ${supported.join(', ')})`);
  }
}

/** The key id a private key's JWS header names: `client.keyId`, else the JWK's own `kid`. */
export function privateKeyId(client: ClientConfig): string | undefined {
  if (client.keyId !== undefined) return client.keyId;
  const key = client.privateKey;
  return key !== undefined && !isCryptoKey(key) && typeof (key as { kid?: unknown }).kid === 'string' ? (key as { kid: string }).kid : undefined;
}

/**
 * The request with its client assertion added to the body
 * (`client_assertion_type`, `client_assertion`), if the builder asked for one;
 * the request as it is otherwise. Every send signs a new assertion: one is never reused. An
 * algorithm the provider does not list (`tokenEndpointAuthSigningAlgValuesSupported`) is a
 * `configuration_error`, and nothing is sent.
 */
export async function signClientAssertion(
  context: { provider: ProviderConfig; client: ClientConfig; services: { crypto: CryptoService; clock: TimeSource } },
  request: HttpRequest,
): Promise<HttpRequest> {
  const pending = request.clientAssertion;
  if (pending === undefined) return request;
  assertAssertionAlgorithmSupported(context.provider, context.client);
  const assertion = await createClientAssertion(context.client, pending.audience, context.services);
  const init = { ...request.init, headers: { ...request.init.headers } };
  const body = request.init.body ?? '';
  if (init.headers['Content-Type'] === 'application/json') {
    init.body = JSON.stringify({ ...(JSON.parse(body) as Record<string, string>), client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
  } else {
    const params = new URLSearchParams(body);
    params.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
    params.set('client_assertion', assertion);
    init.body = params.toString();
  }
  return { url: request.url, init };
}
