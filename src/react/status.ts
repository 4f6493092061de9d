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

/**
 * Where the session stands, from the machine's tags, in this order:
 * - `'error'`: discovery, a login, a callback or the session failed (`error` tag): see `error`;
 * - `'loading'`: the stored session (and, with discovery, the provider) is still being read (no `ready` tag);
 * - `'signedIn'`: tokens are held (`signedIn`, also while they are renewed);
 * - `'awaitingCallback'`: a login was sent to the provider and its answer has not been handled;
 * - `'busy'`: a request or the library's own wait is under way (preparing a login, redeeming the code, logging out);
 * - `'signedOut'`: none of these.
 */
export type AuthStatus = 'error' | 'loading' | 'signedIn' | 'awaitingCallback' | 'busy' | 'signedOut';

/** The {@link AuthStatus} of a snapshot. A string, so a selector of it re-renders only when it changes. */
export function selectAuthStatus(snapshot: AuthSnapshot): AuthStatus {
  // First: a failed discovery is in error without ever being ready.
  if (snapshot.hasTag('error')) return 'error';
  if (!snapshot.hasTag('ready')) return 'loading';
  if (snapshot.hasTag('signedIn')) return 'signedIn';
  if (snapshot.hasTag('awaitingCallback')) return 'awaitingCallback';
  if (snapshot.hasTag('busy')) return 'busy';
  return 'signedOut';
}

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
