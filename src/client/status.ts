/**
 * Where a session stands, for a UI: read from the machine's tags (the
 * contract for UIs and façades, never state names).
 */
import type { ObservedSnapshot } from './snapshot.js';

/**
 * Where the session stands, from the machine's tags, in this order:
 * - `'error'`: discovery, a login, a callback or the session failed (`error` tag): see `context.error`;
 * - `'loading'`: the stored session (and, with discovery, the provider) is still being read (no `ready` tag);
 * - `'signedIn'`: tokens are held (`signedIn`, also while they are renewed);
 * - `'awaitingCallback'`: a login was sent to the provider and its answer has not been handled;
 * - `'busy'`: a request or the library's own wait is under way (preparing a login, redeeming the code, logging out);
 * - `'signedOut'`: none of these.
 */
export type AuthStatus = 'error' | 'loading' | 'signedIn' | 'awaitingCallback' | 'busy' | 'signedOut';

/** The {@link AuthStatus} of a grant machine's snapshot. A string, so a selector of it re-renders only when it changes. */
export function selectAuthStatus(snapshot: ObservedSnapshot): AuthStatus {
  // First: a failed discovery is in error without ever being ready.
  if (snapshot.hasTag('error')) return 'error';
  if (!snapshot.hasTag('ready')) return 'loading';
  if (snapshot.hasTag('signedIn')) return 'signedIn';
  if (snapshot.hasTag('awaitingCallback')) return 'awaitingCallback';
  if (snapshot.hasTag('busy')) return 'busy';
  return 'signedOut';
}
