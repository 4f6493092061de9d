/**
 * Proof Key for Code Exchange (RFC 7636).
 */
import type { CryptoService } from '../services/types.js';
import { base64urlEncode } from './base64url.js';
import { randomBytesChecked } from './random.js';
import type { PkceMethod, ProviderConfig } from './types.js';

// RFC 7636 §4.1: code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The explicit "no PKCE" sentinel (oauth4webapi's `nopkce`): passed as the code challenge of an
 * authorization request, it sends no `code_challenge`; as the verifier of a code exchange, no
 * `code_verifier`. Only for a provider whose profile says `quirks.pkce: 'unsupported'`, or a backend
 * that opted out explicitly; never a default, never a fake value on the wire.
 */
export const nopkce: unique symbol = Symbol('nopkce');
export type NoPkce = typeof nopkce;

/** How an S256 challenge's digest is written: RFC 7636 §4.2's unpadded base64url, or padded standard base64. */
export type PkceChallengeEncoding = 'base64url' | 'base64';

/** A verifier, a challenge derived from it, and the method that derived it. */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: PkceMethod;
}

/** Throws a `TypeError` unless `verifier` is a legal RFC 7636 §4.1 code verifier. */
export function assertCodeVerifier(verifier: unknown): asserts verifier is string {
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
    throw new TypeError('code verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  }
}

function assertPkceMethod(method: unknown): asserts method is PkceMethod {
  if (method !== 'S256' && method !== 'plain') {
    throw new TypeError(`PKCE method must be 'S256' or 'plain', got ${String(method)}`);
  }
}

/**
 * A random code verifier of `length` characters (43–128), base64url of fresh
 * random bytes; the default 43 characters carry 256 bits (RFC 7636 §7.1).
 */
export function createCodeVerifier(crypto: CryptoService, length = 43): string {
  if (!Number.isInteger(length) || length < 43 || length > 128) {
    throw new TypeError(`code verifier length must be an integer from 43 to 128, got ${length}`);
  }
  // The fewest bytes whose base64url text has at least `length` characters: 32 bytes for 43.
  const byteCount = Math.floor((3 * (length - 1)) / 4) + 1;
  return base64urlEncode(randomBytesChecked(crypto, byteCount)).slice(0, length);
}

/**
 * The code challenge for `verifier`: RFC 7636 §4.2, S256 =
 * base64url(SHA-256(ASCII(verifier))), plain = the verifier itself.
 */
export async function createCodeChallenge(
  crypto: CryptoService,
  verifier: string,
  method: PkceMethod = 'S256',
  encoding: PkceChallengeEncoding = 'base64url',
): Promise<string> {
  assertCodeVerifier(verifier);
  assertPkceMethod(method);
  if (encoding !== 'base64url' && encoding !== 'base64') {
    throw new TypeError(`PKCE challenge encoding must be 'base64url' or 'base64', got ${String(encoding)}`);
  }
  if (method === 'plain') return verifier;
  // The verifier's alphabet is ASCII, so UTF-8 encoding is the ASCII encoding §4.2 asks for.
  const digest = await crypto.sha256(new TextEncoder().encode(verifier));
  if (encoding === 'base64url') return base64urlEncode(digest);
  // Padded standard base64 (`btoa`), for servers that compare against it; the digest's bytes are all below 0x100.
  return btoa(String.fromCharCode(...digest));
}

/** A fresh verifier and its challenge; S256 unless `plain` is asked for explicitly (RFC 9700 §2.1.1). */
export async function createPkce(
  crypto: CryptoService,
  options: { method?: PkceMethod; length?: number; encoding?: PkceChallengeEncoding } = {},
): Promise<Pkce> {
  const method = options.method ?? 'S256';
  assertPkceMethod(method);
  const verifier = createCodeVerifier(crypto, options.length ?? 43);
  return { verifier, challenge: await createCodeChallenge(crypto, verifier, method, options.encoding ?? 'base64url'), method };
}

/** The method's name on the wire for this provider (a JSON token endpoint server may call S256 `SHA-256`). */
export function pkceMethodWireName(provider: ProviderConfig, method: PkceMethod): string {
  return provider.quirks?.pkceMethodNames?.[method] ?? method;
}
