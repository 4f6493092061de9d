/**
 * `oauth-machines/browser`: the single-page-app helper. A public client
 * (no secret), sessions in `sessionStorage` by default, tabs kept in step.
 *
 * @packageDocumentation
 */

export { createBrowserAuth, type BrowserAuth, type BrowserLoginOptions } from './createBrowserAuth.js';
export type { CallbackTokens } from '../client/types.js';
export type { BrowserAuthOptions, BrowserClientConfig, BrowserServices, BrowserStorageOption } from './options.js';
export type { BrowserEnvironment } from './environment.js';
export type { LoginOptions, LogoutOptions } from '../client.js';
export { selectUser, type UserClaims } from '../client/user.js';
export { selectAuthStatus, type AuthStatus } from '../client/status.js';
export type { TokenSet } from '../protocol/types.js';
export { OAuthError, isOAuthError } from '../errors.js';
