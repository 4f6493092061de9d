/**
 * `oauth-machines/react`: `<AuthProvider auth={createBrowserAuth(…)}>`, the
 * hooks `useAuth()`, `useAccessToken()` and `useAuthSelector()`, and the
 * guard `<RequireAuth>` / `withAuthenticationRequired`, over the browser
 * helper's actor with `@xstate/react`'s `useSelector`. React and
 * `@xstate/react` are peer dependencies; nothing else imports this entry.
 *
 * @packageDocumentation
 */

export { AuthProvider, isAuthorizationCallback, type AuthProviderProps } from './AuthProvider.js';
export { useAuth, useAccessToken, useAuthSelector, type AuthState } from './hooks.js';
export { RequireAuth, withAuthenticationRequired, type RequireAuthProps, type WithAuthenticationRequiredOptions } from './RequireAuth.js';
export { selectAccessToken, selectAuthError, selectAuthStatus, type AuthSnapshot, type AuthStatus } from './status.js';
