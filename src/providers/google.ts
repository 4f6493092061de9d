/**
 * Google (Google Identity: OAuth 2.0 and OpenID Connect).
 *
 * Source: Google for Developers, "Using OAuth 2.0 for Web Server Applications"
 * (https://developers.google.com/identity/protocols/oauth2/web-server), "OpenID Connect"
 * (https://developers.google.com/identity/openid-connect/openid-connect, discovery at
 * https://accounts.google.com/.well-known/openid-configuration) and "OAuth 2.0 for TV and
 * Limited-Input Device Applications" (https://developers.google.com/identity/protocols/oauth2/limited-input-device).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { baseUrl } from './profileUrls.js';

export interface GoogleOptions {
  /**
   * Ask for a refresh token: every authorization request carries
   * `access_type=offline` and `prompt=consent` (Google issues a refresh token
   * only for offline access, and only at the first consent unless consent is
   * asked again). Default `true`; `false` sends neither, and sessions end
   * with their access token.
   */
  refreshToken?: boolean;
  /** Serve every endpoint from this one origin (a proxy, or a test server); the issuer becomes it too. Default: Google's hosts. */
  baseUrl?: string;
}

/**
 * Google:
 * - OpenID Connect with issuer `https://accounts.google.com`; discovery is the
 *   OpenID document only (no RFC 8414 document), which `discover()` falls back to;
 * - a refresh token needs `access_type=offline`, and comes again on a later
 *   login only with `prompt=consent` (both sent by default, see {@link GoogleOptions.refreshToken});
 *   Google has no `offline_access` scope;
 * - refresh tokens are not rotated: a refresh answers no new one and the
 *   library keeps the one it has;
 * - RFC 7009 revocation at `https://oauth2.googleapis.com/revoke`, the device
 *   flow at `https://oauth2.googleapis.com/device/code`.
 *
 * @example
 * const provider = google();
 * const client = { clientId: '….apps.googleusercontent.com', redirectUri: 'https://app.example/callback', scopes: ['openid', 'email'] };
 */
export function google(options: GoogleOptions = {}): ProviderConfig {
  const custom = options.baseUrl === undefined ? undefined : baseUrl(options.baseUrl, 'google: baseUrl');
  const accounts = custom ?? 'https://accounts.google.com';
  const apis = custom ?? 'https://oauth2.googleapis.com';
  const config: ProviderConfig = {
    issuer: accounts,
    authorizationEndpoint: `${accounts}/o/oauth2/v2/auth`,
    tokenEndpoint: `${apis}/token`,
    revocationEndpoint: `${apis}/revoke`,
    userinfoEndpoint: `${custom ?? 'https://openidconnect.googleapis.com'}/v1/userinfo`,
    deviceAuthorizationEndpoint: `${apis}/device/code`,
    codeChallengeMethodsSupported: ['S256', 'plain'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    tokenEndpointAuthMethodsSupported: ['client_secret_post', 'client_secret_basic'],
  };
  if (options.refreshToken !== false) config.quirks = { authorizationParams: { access_type: 'offline', prompt: 'consent' } };
  return config;
}
