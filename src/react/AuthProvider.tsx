/**
 * `<AuthProvider auth={auth}>`: hands one `BrowserAuth`, created outside
 * React, to the components below, and redeems the callback when the page is
 * the redirect back from the provider.
 *
 * Why the helper is created outside React: it owns the actor, its renewal
 * timer, the tab channel and the one code exchange of a callback URL; a
 * render may run twice (StrictMode, concurrent rendering), and state made in
 * a render is thrown away with it. The provider never creates nor stops it,
 * so StrictMode's mount–unmount–mount leaves exactly one actor, one renewal
 * timer and one code exchange.
 */
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { BrowserAuth } from '../browser/createBrowserAuth.js';
import { OAuthError, isOAuthError } from '../errors.js';

/** The failure of the last command started through the provider (login, logout, the callback), for `useAuth().error`. */
export interface FailureStore {
  get(): OAuthError | undefined;
  subscribe(listener: () => void): () => void;
}

/** What the provider gives its hooks: the helper, the shared commands and the last command's failure. */
export interface AuthContextValue {
  readonly auth: BrowserAuth;
  readonly failure: FailureStore;
  /** Whether this page load is a callback the provider redeems (a guard must not start a login over it). */
  readonly handlesCallback: boolean;
  login(...options: Parameters<BrowserAuth['login']>): Promise<void>;
  logout(...options: Parameters<BrowserAuth['logout']>): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | undefined>(undefined);

/** Props of {@link AuthProvider}. */
export interface AuthProviderProps {
  /** The app's one `createBrowserAuth(…)`, created once outside React (a module, or before `createRoot().render`). */
  auth: BrowserAuth;
  children?: ReactNode;
  /**
   * Whether a URL is the redirect back from the provider, which the provider
   * then redeems once with `auth.handleCallback()`. Default
   * ({@link isAuthorizationCallback}): the query (or the fragment) has
   * `state` and `code` or `error` (RFC 6749 §4.1.2).
   */
  isCallback?: (url: URL) => boolean;
  /** Do not redeem callbacks here: the app calls `auth.handleCallback()` itself (a router's loader, say). */
  skipCallback?: boolean;
  /**
   * After a callback was redeemed, with what `auth.handleCallback()` resolved
   * with (the tokens), e.g. to route away from the redirect page. Once, even
   * under StrictMode.
   */
  onCallback?: (tokens: Awaited<ReturnType<BrowserAuth['handleCallback']>>) => void;
}

/**
 * The default of {@link AuthProviderProps.isCallback}: the query has `state`,
 * and `code` or `error` (RFC 6749 §4.1.2) — or the fragment has, for a
 * provider that answers with `response_mode=fragment`.
 */
export function isAuthorizationCallback(url: URL): boolean {
  const answers = (params: URLSearchParams): boolean => params.has('state') && (params.has('code') || params.has('error'));
  return answers(url.searchParams) || answers(new URLSearchParams(url.hash.slice(1)));
}

/**
 * Gives the components below `useAuth()`, `useAccessToken()`,
 * `useAuthSelector()` and `<RequireAuth>` over `auth`, and redeems the
 * callback when this page load is one (see {@link AuthProviderProps}).
 *
 * @example
 * const auth = createBrowserAuth({ provider, client });   // once, outside React
 * createRoot(container).render(
 *   <StrictMode>
 *     <AuthProvider auth={auth}><App /></AuthProvider>
 *   </StrictMode>,
 * );
 */
export function AuthProvider(props: AuthProviderProps): ReactNode {
  const { auth, isCallback = isAuthorizationCallback, skipCallback = false, onCallback } = props;
  // Read once per mount: the address bar is cleaned once the callback is handled, and must not make this flip.
  const [handlesCallback] = useState(() => !skipCallback && typeof location !== 'undefined' && isCallback(new URL(location.href)));
  const value = useMemo(() => createContextValue(auth, handlesCallback), [auth, handlesCallback]);

  // onCallback may be a new function on every render: the callback effect reads the latest without running again.
  const latestOnCallback = useRef(onCallback);
  useEffect(() => {
    latestOnCallback.current = onCallback;
  });

  useEffect(() => {
    if (!value.handlesCallback) return;
    // StrictMode runs this twice: the helper shares one exchange for the same URL, and only the
    // effect still mounted reports the outcome.
    let mounted = true;
    value.clearFailure();
    value.auth.handleCallback().then(
      (tokens) => {
        if (mounted) latestOnCallback.current?.(tokens);
      },
      (failure: unknown) => {
        if (mounted) value.fail(failure);
      },
    );
    return () => {
      mounted = false;
    };
  }, [value]);

  return <AuthContext.Provider value={value}>{props.children}</AuthContext.Provider>;
}

/** The provider's value, for the hooks: throws a `TypeError` naming the mistake outside an `<AuthProvider>`. */
export function useAuthContext(hook: string): AuthContextValue {
  const value = useContext(AuthContext);
  if (value === undefined) throw new TypeError(`${hook} is used outside <AuthProvider auth={…}>: wrap the app in it`);
  return value;
}

type ContextWithSetters = AuthContextValue & { fail(failure: unknown): void; clearFailure(): void };

function createContextValue(auth: BrowserAuth, handlesCallback: boolean): ContextWithSetters {
  let failure: OAuthError | undefined;
  const listeners = new Set<() => void>();
  const setFailure = (next: OAuthError | undefined): void => {
    if (next === failure) return;
    failure = next;
    for (const listener of [...listeners]) listener();
  };
  const fail = (thrown: unknown): void => {
    // A typed failure is the user's to see; anything else is a bug in the app or the library, and is thrown.
    if (!isOAuthError(thrown)) throw thrown;
    setFailure(thrown instanceof OAuthError ? thrown : OAuthError.from(thrown));
  };

  // Two guards mounting at once, StrictMode's second effect, a double click: one login, one navigation.
  let loginInFlight: Promise<void> | undefined;
  const login = (...options: Parameters<BrowserAuth['login']>): Promise<void> => {
    if (loginInFlight !== undefined) return loginInFlight;
    setFailure(undefined);
    const started = auth.login(...options).then(
      () => undefined,
      (thrown: unknown) => fail(thrown),
    );
    loginInFlight = started.finally(() => {
      loginInFlight = undefined;
    });
    return loginInFlight;
  };
  const logout = (...options: Parameters<BrowserAuth['logout']>): Promise<void> => {
    setFailure(undefined);
    return auth.logout(...options).then(
      () => undefined,
      (thrown: unknown) => fail(thrown),
    );
  };

  return {
    auth,
    handlesCallback,
    failure: {
      get: () => failure,
      subscribe(listener) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
    login,
    logout,
    fail,
    clearFailure: () => setFailure(undefined),
  };
}
