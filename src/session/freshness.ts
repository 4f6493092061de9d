/**
 * When a session's tokens are renewed: the one rule the expiry timer, the
 * clients' `getAccessToken` and the server token cache all follow.
 */
import type { TokenSet } from './tokenSet.js';

/** The options that decide when tokens are renewed. */
export interface RenewalRule {
  /** How long before `expiresAt` renewable tokens are renewed. */
  refreshSkewMs: number;
  /** No session is renewed sooner than this after its tokens arrived, whatever `expires_in` said. */
  minRenewalIntervalMs: number;
}

/** Whether the access token can still be used at `now` (no `expiresAt`: it does not expire). */
export function accessTokenIsValid(tokens: TokenSet, now: number): boolean {
  return tokens.expiresAt === undefined || tokens.expiresAt > now;
}

/**
 * When renewable tokens are due for renewal: `expiresAt − refreshSkewMs`, but
 * never earlier than halfway through their life (`savedAt` ≈ when they were
 * issued) — a token that lives shorter than the skew would otherwise be
 * renewed the moment it arrives, again and again — and never sooner than
 * `minRenewalIntervalMs` after they arrived, whatever lifetime the server
 * announced: nothing the server says may drive a request loop. `undefined`:
 * they do not expire (a Poe-style `api_key_expires_in: null`).
 */
export function renewalDueAt(tokens: TokenSet, savedAt: number | undefined, rule: RenewalRule): number | undefined {
  const { expiresAt } = tokens;
  if (expiresAt === undefined) return undefined;
  if (savedAt === undefined) return expiresAt - rule.refreshSkewMs;
  const lifetime = expiresAt - savedAt;
  const due = expiresAt - Math.min(rule.refreshSkewMs, Math.max(0, lifetime / 2));
  return Math.max(due, savedAt + rule.minRenewalIntervalMs);
}

/**
 * Whether tokens are served without renewing them at `now`: before their
 * renewal is due ({@link renewalDueAt}) and not expired (the minimum renewal
 * interval can put the renewal after the expiry of a very short-lived token).
 */
export function tokensAreFresh(tokens: TokenSet, savedAt: number | undefined, rule: RenewalRule, now: number): boolean {
  const due = renewalDueAt(tokens, savedAt, rule);
  return due === undefined || (now < due && accessTokenIsValid(tokens, now));
}
