/**
 * What a React component reads of the browser helper's actor: the status,
 * derived from the machine's tags (the contract for UIs, never state names),
 * the machine's typed error, and the access token held.
 */
import type { SnapshotFrom } from 'xstate';
import type { BrowserAuth } from '../browser/createBrowserAuth.js';
import { toOAuthError } from '../client/snapshot.js';
import type { OAuthError } from '../errors.js';

/** A snapshot of `BrowserAuth['actor']`, as `useAuthSelector`'s selectors receive it. */
export type AuthSnapshot = SnapshotFrom<BrowserAuth['actor']>;

export { selectAuthStatus, type AuthStatus } from '../client/status.js';

/**
 * The machine's own failure while it is in error (`error` tag), as an
 * `OAuthError`: the same instance for as long as the machine keeps the same
 * failure, so a selector of it re-renders only when it changes.
 */
export function selectAuthError(snapshot: AuthSnapshot): OAuthError | undefined {
  const { error } = snapshot.context;
  return snapshot.hasTag('error') && error !== undefined ? toOAuthError(error) : undefined;
}

/** The access token the machine holds while signed in (renewed by the machine before it expires), else `undefined`. */
export function selectAccessToken(snapshot: AuthSnapshot): string | undefined {
  return snapshot.hasTag('signedIn') ? snapshot.context.tokens?.accessToken : undefined;
}
