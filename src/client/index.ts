/**
 * `createOAuthClient`: the promise façade over one grant machine's actor, for
 * code that does not want to speak events. A thin dispatcher by `grant` onto
 * one small façade per grant (`authorizationCode.ts`, `clientCredentials.ts`,
 * `deviceCode.ts`) over a shared core (`core.ts`) that sends events and waits
 * on the machines' tags and context; all behaviour — PKCE, state, restore,
 * refresh, revocation — stays in the machine.
 */
import { assembleClient } from './facade.js';
import type { OAuthGrant } from './config.js';
import { validateClientOptions, type OAuthClientOptions } from './options.js';
import type { OAuthClient } from './types.js';

export { defaultClientStorage } from './facade.js';
export { selectUser, type UserClaims } from './user.js';
export type { OAuthClientOptions } from './options.js';
export type {
  AuthorizationCodeClientConfig,
  ClientConfigFor,
  ClientCredentialsClientConfig,
  ConfidentialClientCredentials,
  DeviceCodeClientConfig,
  OAuthGrant,
  ProviderOption,
  PrivateKeyJwtClientCredentials,
  PublicClientCredentials,
} from './config.js';
export type { GrantActor, GrantSnapshot, InspectOption, LogoutOptions } from './core.js';
export type {
  CallbackTokens,
  DeviceLogin,
  LoginOptions,
  LoginResult,
  LogoutResult,
  NotRevoked,
  OAuthClient,
  RefreshOptions,
  RevocableToken,
} from './types.js';

/**
 * Creates the promise façade over one grant machine (see {@link OAuthClient}).
 * Options are checked at once (a `TypeError` names the problem); discovery
 * and restore start at once and `ready` tells when they are done.
 *
 * @example
 * const client = createOAuthClient({
 *   grant: 'authorization_code',
 *   provider: { issuer: 'https://id.example' },
 *   client: { clientId: 'app', redirectUri: 'https://app.example/callback', scopes: ['openid', 'offline_access'] },
 * });
 * await client.login();                                   // navigates
 * const tokens = await client.handleCallback(location.href); // on the callback page
 */
export function createOAuthClient<G extends OAuthGrant>(options: OAuthClientOptions<G>): OAuthClient<G> {
  validateClientOptions(options as OAuthClientOptions);
  return assembleClient(options);
}
