/**
 * `<RequireAuth>` and `withAuthenticationRequired`: render their children
 * only while signed in, and send a signed-out user to the provider's login
 * once — never in a loop: a failed login shows its error instead of trying
 * again.
 */
import { useEffect, useRef, type ComponentType, type ReactNode } from 'react';
import type { BrowserAuth } from '../browser/createBrowserAuth.js';
import type { OAuthError } from '../errors.js';
import { useAuthContext } from './AuthProvider.js';
import { useAuth } from './hooks.js';

/** Props of {@link RequireAuth}. */
export interface RequireAuthProps {
  children?: ReactNode;
  /** Shown while the session is read, while the login starts, and while the callback is redeemed. Default: nothing. */
  fallback?: ReactNode;
  /** Shown when the session or the login failed (no new login is started by itself). Default: `fallback`. */
  errorFallback?: (error: OAuthError) => ReactNode;
  /** Options of the login the guard starts (`scopes`, `extraParams`). */
  loginOptions?: Parameters<BrowserAuth['login']>[0];
  /** Called just before the guard starts a login (e.g. to remember where the user was). */
  onBeforeLogin?: () => void;
}

/**
 * Renders `children` while signed in. Signed out, it starts one login
 * (navigating to the provider) and shows `fallback`; a login left unfinished
 * (the user came back from the provider without answering) is started again,
 * except on the callback page the provider is redeeming. In error it shows
 * `errorFallback` and starts nothing: the user decides.
 */
export function RequireAuth(props: RequireAuthProps): ReactNode {
  const { handlesCallback } = useAuthContext('<RequireAuth>');
  const { status, error, login } = useAuth();
  // One login per mounted guard: the ref outlives StrictMode's second effect run, and the login's own steps
  // (busy, then awaitingCallback while the browser leaves) must not start another.
  const started = useRef(false);
  const { loginOptions, onBeforeLogin } = props;
  // Never over a failure (a refused callback leaves the real login pending, with the error to show): the user decides.
  const mustLogin = error === undefined && (status === 'signedOut' || (status === 'awaitingCallback' && !handlesCallback));

  useEffect(() => {
    if (!mustLogin || started.current) return;
    started.current = true;
    onBeforeLogin?.();
    void login(loginOptions);
  }, [mustLogin, login, loginOptions, onBeforeLogin]);

  if (status === 'signedIn') return props.children;
  if (error !== undefined && props.errorFallback) return props.errorFallback(error);
  return props.fallback ?? null;
}

/** Options of {@link withAuthenticationRequired}: those of {@link RequireAuth} but its children. */
export type WithAuthenticationRequiredOptions = Omit<RequireAuthProps, 'children'>;

/**
 * `Component` wrapped in {@link RequireAuth}: rendered only while signed in
 * (react-oidc-context's `withAuthenticationRequired`; its `OnRedirecting` is
 * `fallback` here, `signinRedirectArgs` is `loginOptions`, `onBeforeSignin`
 * is `onBeforeLogin`).
 */
export function withAuthenticationRequired<P extends object>(
  Component: ComponentType<P>,
  options: WithAuthenticationRequiredOptions = {},
): ComponentType<P> {
  function WithAuthenticationRequired(props: P): ReactNode {
    return (
      <RequireAuth {...options}>
        <Component {...props} />
      </RequireAuth>
    );
  }
  WithAuthenticationRequired.displayName = `withAuthenticationRequired(${Component.displayName ?? (Component.name || 'Component')})`;
  return WithAuthenticationRequired;
}
