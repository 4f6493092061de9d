/**
 * DPoP (RFC 9449): a key pair per session whose private key never leaves
 * WebCrypto (generated non-extractable), proofs of its possession on every
 * request that uses or obtains a token bound to it, and the server's nonces.
 */
import { OAuthError } from '../errors.js';
import type { CryptoService, DpopKeyStore, DpopService, DpopSession, TimeSource, WebCryptoKey } from '../services/types.js';

export type { DpopService, DpopSession };
import { indexedDbDpopKeyStore, memoryDpopKeyStore } from '../services/dpopKeyStore.js';
import { base64urlEncode } from './base64url.js';
import { configurationError } from './providerRules.js';
import { randomToken } from './random.js';
import type { ProviderConfig } from './types.js';

/** The JWS algorithms the library signs DPoP proofs with (RFC 9449 §4.2: asymmetric only). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** A session's DPoP key: the pair (its private key non-extractable) and the JWS algorithm it signs with. */
export interface DpopKey {
  alg: DpopAlgorithm;
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}

function generateParams(alg: DpopAlgorithm): RsaHashedKeyGenParams | EcKeyGenParams | { name: 'Ed25519' } {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ES384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'PS256':
      return { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    case 'EdDSA':
      return { name: 'Ed25519' };
  }
}

function signParams(alg: DpopAlgorithm): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', hash: 'SHA-256' };
    case 'ES384':
      return { name: 'ECDSA', hash: 'SHA-384' };
    case 'PS256':
      return { name: 'RSA-PSS', saltLength: 32 };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'EdDSA':
      return { name: 'Ed25519' };
  }
}

/**
 * A new key pair for `alg` whose private key is not extractable: script can
 * sign with it, never read it (RFC 9449 §2: the key must not leave the
 * client). The public key is always exportable (WebCrypto), for the proofs' `jwk`.
 */
export async function generateDpopKey(alg: DpopAlgorithm = 'ES256'): Promise<DpopKey> {
  if (!DPOP_ALGORITHMS.includes(alg)) throw new TypeError(`unsupported DPoP algorithm: ${String(alg)}`);
  const pair = (await globalThis.crypto.subtle.generateKey(generateParams(alg), false, ['sign', 'verify'])) as CryptoKeyPair;
  return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/**
 * The algorithm a session signs with: the configured one, else ES256, else
 * the first of the server's `dpop_signing_alg_values_supported` the library
 * implements. A configured one the server does not list, or a list with none
 * the library implements, is `configuration_error` before anything is sent.
 */
export function chooseDpopAlgorithm(provider: Pick<ProviderConfig, 'dpopSigningAlgValuesSupported'>, configured?: DpopAlgorithm): DpopAlgorithm {
  const supported = provider.dpopSigningAlgValuesSupported;
  if (configured !== undefined) {
    if (!DPOP_ALGORITHMS.includes(configured)) throw new TypeError(`unsupported DPoP algorithm: ${String(configured)}`);
    if (supported !== undefined && !supported.includes(configured)) {
      throw configurationError(`the provider does not accept DPoP proofs signed with ${configured} (it accepts ${supported.join(', ')})`);
    }
    return configured;
  }
  if (supported === undefined || supported.includes('ES256')) return 'ES256';
  const usable = DPOP_ALGORITHMS.find((alg) => supported.includes(alg));
  if (usable === undefined) {
    throw configurationError(`the provider accepts DPoP proofs signed with ${supported.join(', ')}, none of which the library signs with (${DPOP_ALGORITHMS.join(', ')})`);
  }
  return usable;
}

/** The public key as a JWK with its required members only (RFC 7638 §3.2), in the proofs' header. */
export async function publicJwk(key: DpopKey): Promise<Record<string, string>> {
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', key.publicKey as CryptoKey);
  const pick = (...names: (keyof JsonWebKey)[]): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of names) {
      const value = jwk[name];
      if (typeof value !== 'string') throw new TypeError(`the DPoP public key has no ${name}`);
      out[name] = value;
    }
    return out;
  };
  switch (jwk.kty) {
    case 'EC':
      return pick('crv', 'kty', 'x', 'y');
    case 'RSA':
      return pick('e', 'kty', 'n');
    case 'OKP':
      return pick('crv', 'kty', 'x');
    default:
      throw new TypeError(`unsupported DPoP key type ${String(jwk.kty)}`);
  }
}

const encoder = new TextEncoder();

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: the
 * `dpop_jkt` of the authorization request (RFC 9449 §10) and the `jkt` a
 * bound token's `cnf` names.
 */
export async function dpopKeyThumbprint(crypto: CryptoService, key: DpopKey): Promise<string> {
  const jwk = await publicJwk(key);
  // RFC 7638 §3.3: the required members, in lexicographic order, no whitespace.
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(jwk).sort(([a], [b]) => (a < b ? -1 : 1))));
  return base64urlEncode(await crypto.sha256(encoder.encode(canonical)));
}

/** What a proof is for (RFC 9449 §4.2). */
export interface DpopProofClaims {
  /** The request's method. */
  htm: string;
  /** The request's URL; its query and fragment are left out of `htu`. */
  htu: string;
  /** The server's latest `DPoP-Nonce`, when it gave one. */
  nonce?: string;
  /** The access token the request presents (resource requests, revocation of it): its hash becomes `ath`. */
  accessToken?: string;
}

/** RFC 9449 §4.2: `htu` is the target URI without query and fragment. */
export function dpopTargetUri(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * A DPoP proof JWT (RFC 9449 §4.2): header `typ: dpop+jwt`, the algorithm
 * and the public JWK; claims `jti` (random, single use), `htm`, `htu`, `iat`
 * (by `clock`), and `nonce` and `ath` when given.
 */
export async function createDpopProof(
  services: { crypto: CryptoService; clock: TimeSource },
  key: DpopKey,
  claims: DpopProofClaims,
): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: await publicJwk(key) };
  const payload: Record<string, string | number> = {
    jti: randomToken(services.crypto, 16),
    htm: claims.htm.toUpperCase(),
    htu: dpopTargetUri(claims.htu),
    iat: Math.floor(services.clock.now() / 1000),
  };
  if (claims.nonce !== undefined) payload['nonce'] = claims.nonce;
  // RFC 9449 §4.2: ath = base64url(SHA-256(ASCII(access token))).
  if (claims.accessToken !== undefined) payload['ath'] = base64urlEncode(await services.crypto.sha256(encoder.encode(claims.accessToken)));
  const signingInput = `${base64urlEncode(encoder.encode(JSON.stringify(header)))}.${base64urlEncode(encoder.encode(JSON.stringify(payload)))}`;
  const signature = await globalThis.crypto.subtle.sign(signParams(key.alg), key.privateKey as CryptoKey, encoder.encode(signingInput));
  return `${signingInput}.${base64urlEncode(new Uint8Array(signature))}`;
}

/** RFC 9449 §8.1: a nonce is 1*NQCHAR. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The `DPoP-Nonce` a response carries (RFC 9449 §8, §9), when it is well formed. */
export function dpopNonceOf(response: Response): string | undefined {
  const nonce = response.headers.get('dpop-nonce');
  return nonce !== null && nonce.length <= 1024 && NONCE.test(nonce) ? nonce : undefined;
}

export interface DpopOptions {
  /** The one algorithm to sign with; default ES256, or the first the server lists that the library signs with. */
  algorithm?: DpopAlgorithm;
  /** Where the keys are kept. Default: `indexedDbDpopKeyStore()` where there is IndexedDB (a browser: across the login's redirect, reloads and tabs), else `memoryDpopKeyStore()`. */
  keys?: DpopKeyStore;
}

/**
 * DPoP for the grants given this as `services.dpop` (RFC 9449): every session
 * binds its tokens to a key pair of its own, kept in `keys` under
 * `<storageKey>:dpop`, its private key non-extractable. Only an app that
 * imports it carries the DPoP code.
 */
export function dpop(options: DpopOptions = {}): DpopService {
  const unknown = Object.keys(options).filter((key) => key !== 'algorithm' && key !== 'keys');
  if (unknown.length > 0) throw new TypeError(`dpop(): unknown option ${unknown.join(', ')}; it takes algorithm, keys`);
  if (options.algorithm !== undefined && !DPOP_ALGORITHMS.includes(options.algorithm)) {
    throw new TypeError(`dpop(): algorithm must be one of ${DPOP_ALGORITHMS.join(', ')}, got ${JSON.stringify(options.algorithm)}`);
  }
  // In a browser the key must outlive the page: the callback is a new page load, and so is a reload.
  const keys = options.keys ?? (typeof globalThis.indexedDB === 'undefined' ? memoryDpopKeyStore() : indexedDbDpopKeyStore());
  return { session: (id) => createDpopSession(keys, id, options.algorithm) };
}

/** A session's DPoP key and nonces, its key kept in `store` under `id`; `algorithm` as in {@link chooseDpopAlgorithm}. */
export function createDpopSession(store: DpopKeyStore, id: string, algorithm?: DpopAlgorithm): DpopSession {
  const nonces = new Map<string, string>();
  let current: Promise<DpopKey> | undefined;
  const create = async (supported: readonly string[] | undefined): Promise<DpopKey> => {
    const key = await generateDpopKey(chooseDpopAlgorithm(supported === undefined ? {} : { dpopSigningAlgValuesSupported: [...supported] }, algorithm));
    await store.set(id, key);
    return key;
  };
  const load = async (supported: readonly string[] | undefined): Promise<DpopKey> => {
    const stored = await store.get(id);
    if (stored !== undefined && (DPOP_ALGORITHMS as readonly string[]).includes(stored.alg)) {
      return { alg: stored.alg as DpopAlgorithm, privateKey: stored.privateKey, publicKey: stored.publicKey };
    }
    return create(supported);
  };
  // A failed load or creation is not kept: the next request tries again.
  const keep = (promise: Promise<DpopKey>): Promise<DpopKey> => {
    current = promise;
    promise.catch(() => {
      if (current === promise) current = undefined;
    });
    return promise;
  };
  const nonceOf = (url: string): string | undefined => nonces.get(new URL(url).origin);
  return {
    renew: async (supported, crypto) => dpopKeyThumbprint(crypto, await keep(create(supported))),
    async proof(supported, services, request) {
      const claims: DpopProofClaims = { htm: request.method, htu: request.url };
      const nonce = nonceOf(request.url);
      if (nonce !== undefined) claims.nonce = nonce;
      if (request.accessToken !== undefined) claims.accessToken = request.accessToken;
      return createDpopProof(services, await (current ?? keep(load(supported))), claims);
    },
    nonce: nonceOf,
    rememberNonce(url, response) {
      const nonce = dpopNonceOf(response);
      if (nonce !== undefined) nonces.set(new URL(url).origin, nonce);
    },
    async forget() {
      current = undefined;
      nonces.clear();
      await store.remove(id);
    },
  };
}

/**
 * RFC 9449 §5: a token answered to a request with a proof is `DPoP`-bound;
 * a `Bearer` one means the server ignored the proof, and the client would send
 * the token without the binding it asked for: `invalid_response`.
 */
export function checkDpopTokenType(tokenType: string): void {
  if (tokenType.toLowerCase() !== 'dpop') {
    throw new OAuthError('invalid_response', {
      description: `the server answered a ${tokenType} token to a DPoP-bound request (RFC 9449 §5)`,
      retryable: false,
    });
  }
}
