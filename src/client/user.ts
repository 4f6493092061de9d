/**
 * Who is signed in: the claims of the session's ID token (OpenID Connect
 * Core §2), read from a grant machine's snapshot. The ID token was validated
 * when it arrived (issuer, audience, expiry, nonce; a refreshed one must name
 * the same `sub`, OIDC Core §12.2), so its claims are only decoded here.
 */
import { decodeJwtPayload } from '../protocol/idToken.js';
import type { TokenSet } from '../protocol/types.js';
import type { ObservedSnapshot } from './snapshot.js';

/** The end-user, as the ID token describes them: `sub` always, the rest as the provider sends it (`email`, `name`…). */
export interface UserClaims {
  /** The end-user's identifier at the issuer: stable, never reassigned (OIDC Core §2). */
  readonly sub: string;
  readonly iss?: string;
  readonly [claim: string]: unknown;
}

// One claims object per ID token string: a selector answers the same object until the token changes,
// so a UI that compares by reference (React's useSyncExternalStore, @xstate/react) re-renders only then.
let lastIdToken: string | undefined;
let lastClaims: UserClaims | undefined;

/** The claims of `tokens.idToken`, or `undefined` without one (no `openid` scope) or with one that does not decode. */
export function userFromTokens(tokens: TokenSet | undefined): UserClaims | undefined {
  const idToken = tokens?.idToken;
  if (idToken === undefined) return undefined;
  if (idToken === lastIdToken) return lastClaims;
  let claims: UserClaims | undefined;
  try {
    const payload = decodeJwtPayload(idToken);
    claims = typeof payload.sub === 'string' && payload.sub !== '' ? (Object.freeze({ ...payload }) as UserClaims) : undefined;
  } catch {
    claims = undefined; // it was checked when it arrived: a token that does not decode now names nobody
  }
  lastIdToken = idToken;
  lastClaims = claims;
  return claims;
}

/** Claims about the token itself rather than the user: a refreshed ID token changes them and no one else. */
const TOKEN_CLAIMS = new Set(['iat', 'exp', 'nbf', 'auth_time', 'nonce', 'at_hash', 'c_hash', 's_hash', 'jti', 'sid']);

/** Whether `a` and `b` describe the same user the same way: equal claims, the ID token's own timing and ids aside. */
export function sameUser(a: UserClaims | undefined, b: UserClaims | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const described = (claims: UserClaims) =>
    JSON.stringify(Object.keys(claims).filter((key) => !TOKEN_CLAIMS.has(key)).sort().map((key) => [key, claims[key]]));
  return described(a) === described(b);
}

/**
 * The signed-in user of a grant machine's snapshot: the ID token's claims
 * while tokens are held (`authenticated`, `refreshing`), else `undefined`.
 * For selectors: `useSelector(auth.actor, selectUser)`.
 *
 * @example
 * const user = selectUser(auth.actor.getSnapshot());
 * if (user) greet(user['name'] ?? user.sub);
 */
export function selectUser(snapshot: ObservedSnapshot): UserClaims | undefined {
  if (!snapshot.hasTag('signedIn')) return undefined;
  return userFromTokens((snapshot.context as { tokens?: TokenSet }).tokens);
}
