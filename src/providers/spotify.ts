/**
 * Spotify (Web API authorization).
 *
 * Source: Spotify for Developers, "Authorization Code with PKCE Flow"
 * (https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow),
 * "Authorization Code Flow" (https://developer.spotify.com/documentation/web-api/tutorials/code-flow)
 * and "Refreshing tokens" (https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { baseUrl } from './profileUrls.js';

export interface SpotifyOptions {
  /** Serve every endpoint from this origin (a proxy, or a test server). Default `https://accounts.spotify.com`. */
  baseUrl?: string;
}

/**
 * Spotify:
 * - authorization at `https://accounts.spotify.com/authorize`, tokens at
 *   `https://accounts.spotify.com/api/token` (form-encoded); a confidential
 *   client authenticates with Basic, a PKCE client (S256) sends `client_id` only;
 * - access tokens live an hour and come with a refresh token (no
 *   `offline_access` scope); a refresh may answer without a new refresh
 *   token, and the library keeps the one it has;
 * - refresh tokens expire six months after the user's authorization: the
 *   refresh is then refused `invalid_grant`, which ends the session;
 * - client credentials (no user) for the public catalogue; no discovery, no
 *   revocation endpoint (a user removes the app in their account settings).
 *
 * @example
 * const provider = spotify();
 * const client = { clientId: 'abc123', redirectUri: 'http://127.0.0.1:8888/callback', scopes: ['user-read-private'] };
 */
export function spotify(options: SpotifyOptions = {}): ProviderConfig {
  const base = baseUrl(options.baseUrl ?? 'https://accounts.spotify.com', 'spotify: baseUrl');
  return {
    authorizationEndpoint: `${base}/authorize`,
    tokenEndpoint: `${base}/api/token`,
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'none'],
  };
}
