/**
 * The hooks over the provider's `BrowserAuth`. Every one reads the actor
 * through `@xstate/react`'s `useSelector`, so a component re-renders when
 * what it reads changes: `useAuth()` on its status, user or error (not on a
 * renewal's new tokens or ID token, nor on the machine's steps inside a state);
 * `useAccessToken()` on the token; `useAuthSelector(select)` on `select`'s
 * answer alone.
 */
import { useSelector } from '@xstate/react';
import { useMemo, useSyncExternalStore } from 'react';
import type { BrowserAuth } from '../browser/createBrowserAuth.js';
import { sameUser, selectUser, type UserClaims } from '../client/user.js';
import type { OAuthError } from '../errors.js';
import { useAuthContext } from './AuthProvider.js';
import { selectAccessToken, selectAuthError, selectAuthStatus, type AuthSnapshot, type AuthStatus } from './status.js';

/** What {@link useAuth} gives a component. */
export interface AuthState {
  /** Where the session stands, from the machine's tags (see {@link AuthStatus}). */
  readonly status: AuthStatus;
  /** `status` is `'loading'` or `'busy'`: the restore, a login, the code exchange or a logout is under way. */
  readonly isLoading: boolean;
  /** Tokens are held (`status` is `'signedIn'`, also while they are renewed). */
  readonly isAuthenticated: boolean;
  /** The claims of the session's ID token (one object per ID token), or `undefined` (signed out, no `openid`). */
  readonly user: UserClaims | undefined;
  /**
   * The typed failure to show: that of the last `login()`, `logout()` or
   * callback started through the provider, else the machine's own while it
   * is in error. Cleared when the next command starts.
   */
  readonly error: OAuthError | undefined;
  /**
   * Starts a login (navigates to the provider); takes what `auth.login()`
   * takes. Never rejects with an
   * `OAuthError`: a failure shows in `error`. One login at a time: a second
   * call while one is under way joins it.
   */
  login(...options: Parameters<BrowserAuth['login']>): Promise<void>;
  /**
   * Ends the session (revoking where the provider allows) in every tab; takes
   * what `auth.logout()` takes. Never rejects with an `OAuthError`: see `error`.
   */
  logout(...options: Parameters<BrowserAuth['logout']>): Promise<void>;
  /** A usable access token, renewed first when due; rejects with the typed error (`login_required` when signed out). */
  getAccessToken(): Promise<string>;
  /** The helper itself, for what the hooks do not cover (`userinfo()`, `onTokenChange`, the actor). */
  readonly auth: BrowserAuth;
}

/**
 * The session for a component: its status, user and error, and the commands.
 * Re-renders the component when the status, the user or the error changes.
 *
 * @example
 * function Header() {
 *   const { status, user, error, login, logout } = useAuth();
 *   if (status === 'loading') return <Spinner />;
 *   if (status === 'signedIn') return <button onClick={() => void logout()}>Sign out {user?.['name'] as string}</button>;
 *   return <button onClick={() => void login()}>{error ? `Sign in again (${error.code})` : 'Sign in'}</button>;
 * }
 */
export function useAuth(): AuthState {
  const context = useAuthContext('useAuth()');
  const { auth } = context;
  const status = useSelector(auth.actor, selectAuthStatus);
  // A renewal's new ID token names the same user with new `iat`/`exp`: no change for the component.
  const user = useSelector(auth.actor, selectUser, sameUser);
  const machineError = useSelector(auth.actor, selectAuthError);
  const commandError = useSyncExternalStore(context.failure.subscribe, context.failure.get, context.failure.get);
  const error = commandError ?? machineError;
  return useMemo(
    () => ({
      status,
      isLoading: status === 'loading' || status === 'busy',
      isAuthenticated: status === 'signedIn',
      user,
      error,
      login: context.login,
      logout: context.logout,
      getAccessToken: () => auth.getAccessToken(),
      auth,
    }),
    [status, user, error, context, auth],
  );
}

/**
 * The access token the machine holds while signed in, else `undefined`. The
 * machine renews it before it expires (one renewal timer, one refresh for
 * every tab), and the component re-renders with the new one. For a request
 * sent now, `await useAuth().getAccessToken()` is the one that waits for a
 * renewal under way.
 */
export function useAccessToken(): string | undefined {
  const { auth } = useAuthContext('useAccessToken()');
  return useSelector(auth.actor, selectAccessToken);
}

/**
 * Any value of the actor's snapshot, re-rendering only when `select`'s answer
 * changes (by `compare`, default `===`). Read tags, not state names:
 * `useAuthSelector((snapshot) => snapshot.hasTag('renewing'))`.
 */
export function useAuthSelector<T>(select: (snapshot: AuthSnapshot) => T, compare?: (a: T, b: T) => boolean): T {
  const { auth } = useAuthContext('useAuthSelector()');
  return useSelector(auth.actor, select, compare);
}
