/**
 * ID tokens for tests only: unsigned (`alg: none`) or HS256. Never a model of
 * how a real provider signs (that is RS256/ES256 with published keys); enough
 * for a client to read `iss`, `sub`, `aud`, `nonce`, `iat`, `exp`.
 */
import { textToBase64url, toBase64url } from './base64url.js';
import type { TestUser } from './types.js';

/** OpenID Connect Core §2: claims the server sets itself, never taken from the user's extra claims. */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'auth_time', 'azp']);

export interface IdTokenFields {
  issuer: string;
  clientId: string;
  user: TestUser;
  nonce?: string;
  authTime?: number;
  /** epoch ms */
  now: number;
  ttlSeconds: number;
  alg: 'none' | 'HS256';
  key: string;
  /** Claims of the provider's own beside the standard ones (Microsoft Entra ID's `tid`). */
  extraClaims?: Record<string, unknown>;
}

export async function createIdToken(fields: IdTokenFields): Promise<string> {
  const iat = Math.floor(fields.now / 1000);
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields.user.claims ?? {})) {
    if (!RESERVED_CLAIMS.has(name)) claims[name] = value;
  }
  Object.assign(claims, fields.extraClaims ?? {}, {
    iss: fields.issuer,
    sub: fields.user.sub,
    aud: fields.clientId,
    iat,
    exp: iat + fields.ttlSeconds,
    ...(fields.authTime === undefined ? {} : { auth_time: Math.floor(fields.authTime / 1000) }),
    ...(fields.nonce === undefined ? {} : { nonce: fields.nonce }),
  });
  const header = textToBase64url(JSON.stringify({ alg: fields.alg, typ: 'JWT' }));
  const payload = textToBase64url(JSON.stringify(claims));
  const signingInput = `${header}.${payload}`;
  if (fields.alg === 'none') return `${signingInput}.`;
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(fields.key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await globalThis.crypto.subtle.sign('HMAC', key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${toBase64url(new Uint8Array(signature))}`;
}
