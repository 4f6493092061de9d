/**
 * PKCE checks on the server side (RFC 7636 §4.6), independent of the client's
 * PKCE code.
 */
import { toBase64url } from './base64url.js';

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER_SYNTAX = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 7636 §4.2: an S256 challenge is the 43-character base64url of a SHA-256 digest. */
const S256_CHALLENGE_SYNTAX = /^[A-Za-z0-9\-_]{43}$/;
/** The same digest in padded standard base64 (`btoa`): 44 characters ending in `=`. */
const S256_BASE64_CHALLENGE_SYNTAX = /^[A-Za-z0-9+/]{43}=$/;

export type StoredPkceMethod = 'S256' | 'plain';

/** How the server expects an S256 challenge's digest written (`TestServerQuirks.pkceChallengeEncoding`). */
export type ChallengeEncoding = 'base64url' | 'base64';

export function isValidVerifier(verifier: string): boolean {
  return VERIFIER_SYNTAX.test(verifier);
}

export function isValidChallenge(challenge: string, method: StoredPkceMethod, encoding: ChallengeEncoding = 'base64url'): boolean {
  if (method === 'plain') return VERIFIER_SYNTAX.test(challenge);
  return (encoding === 'base64' ? S256_BASE64_CHALLENGE_SYNTAX : S256_CHALLENGE_SYNTAX).test(challenge);
}

/**
 * RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, or equality for plain;
 * with `encoding: 'base64'`, the digest in padded standard base64 (`btoa`) instead.
 */
export async function verifierMatches(
  verifier: string,
  challenge: string,
  method: StoredPkceMethod,
  encoding: ChallengeEncoding = 'base64url',
): Promise<boolean> {
  if (!isValidVerifier(verifier)) return false;
  if (method === 'plain') return verifier === challenge;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  if (encoding === 'base64') return btoa(String.fromCharCode(...digest)) === challenge;
  return toBase64url(digest) === challenge;
}
