/**
 * Discord.
 *
 * Source: Discord Developer Portal, "OAuth2"
 * (https://discord.com/developers/docs/topics/oauth2), and Discord's RFC 8414
 * metadata (https://discord.com/.well-known/oauth-authorization-server).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { baseUrl } from './profileUrls.js';

export interface DiscordOptions {
  /** Serve every endpoint from this origin (a proxy, or a test server); the issuer becomes it too. Default `https://discord.com`. */
  baseUrl?: string;
}

/**
 * Discord:
 * - authorization at `/oauth2/authorize`, tokens at `/api/oauth2/token`,
 *   RFC 7009 revocation at `/api/oauth2/token/revoke`; issuer
 *   `https://discord.com`, which sends `iss` in authorization responses (RFC 9207);
 * - form-encoded token requests; a confidential client authenticates with
 *   Basic or in the body, PKCE S256;
 * - access tokens live a week (`expires_in: 604800`) and come with a refresh
 *   token (no `offline_access` scope), replaced on every refresh;
 * - scopes are Discord's own (`identify`, `email`, `guilds`…); client
 *   credentials give a bot owner's token for the app's own scopes.
 *
 * @example
 * const provider = discord();
 * const client = { clientId: '1234567890', redirectUri: 'https://app.example/callback', scopes: ['identify', 'email'] };
 */
export function discord(options: DiscordOptions = {}): ProviderConfig {
  const base = baseUrl(options.baseUrl ?? 'https://discord.com', 'discord: baseUrl');
  return {
    issuer: base,
    authorizationEndpoint: `${base}/oauth2/authorize`,
    tokenEndpoint: `${base}/api/oauth2/token`,
    revocationEndpoint: `${base}/api/oauth2/token/revoke`,
    authorizationResponseIssParameterSupported: true,
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post', 'none'],
  };
}
