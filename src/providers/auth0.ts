/**
 * Auth0 (Okta Customer Identity Cloud).
 *
 * Source: Auth0 Docs, "Authentication API"
 * (https://auth0.com/docs/api/authentication), "Refresh Token Rotation"
 * (https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation)
 * and "Get Access Tokens" (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { domainOrBaseUrl } from './profileUrls.js';

export interface Auth0Options {
  /** The tenant's domain (`dev-123.us.auth0.com`) or its custom domain (`login.example.com`). */
  domain?: string;
  /** Instead of `domain`: the whole base URL (a test server on loopback, a proxy). */
  baseUrl?: string;
  /**
   * The API identifier the access tokens are for. Sent as `audience` with
   * every authorization and token request; without it Auth0 issues an opaque
   * token for its userinfo endpoint only, and refuses client credentials.
   */
  audience?: string;
}

/**
 * Auth0:
 * - the issuer is `https://{domain}/`, with a trailing slash, and ID tokens
 *   name it so; discovery is the OpenID document at
 *   `https://{domain}/.well-known/openid-configuration`;
 * - `audience` names the API (see {@link Auth0Options.audience}; a JWT access
 *   token only with it), on the authorization request and, for client
 *   credentials, on the token request (`authorizationParams`, `tokenParams`);
 * - `offline_access` for a refresh token; with refresh token rotation on (an
 *   application setting) every refresh answers a new refresh token, and presenting a used
 *   one revokes the whole family (reuse detection);
 * - `/oauth/token`, `/oauth/revoke` (RFC 7009), `/userinfo`,
 *   `/oauth/device/code`, and `/oidc/logout` (RP-initiated logout).
 *
 * @example
 * const provider = auth0({ domain: 'dev-123.us.auth0.com', audience: 'https://api.example.com' });
 */
export function auth0(options: Auth0Options): ProviderConfig {
  const base = domainOrBaseUrl(options, 'auth0');
  const config: ProviderConfig = {
    issuer: `${base}/`,
    authorizationEndpoint: `${base}/authorize`,
    tokenEndpoint: `${base}/oauth/token`,
    revocationEndpoint: `${base}/oauth/revoke`,
    userinfoEndpoint: `${base}/userinfo`,
    deviceAuthorizationEndpoint: `${base}/oauth/device/code`,
    endSessionEndpoint: `${base}/oidc/logout`,
    codeChallengeMethodsSupported: ['S256', 'plain'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post', 'none'],
  };
  if (options.audience !== undefined) {
    if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('auth0: audience must be a non-empty string');
    config.quirks = { authorizationParams: { audience: options.audience }, tokenParams: { audience: options.audience } };
  }
  return config;
}
