/**
 * Okta (Workforce Identity).
 *
 * Source: Okta Developer, "Authorization servers"
 * (https://developer.okta.com/docs/concepts/auth-servers/) and "OpenID Connect & OAuth 2.0 API"
 * (https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { domainOrBaseUrl, pathSegment } from './profileUrls.js';

export interface OktaOptions {
  /** The org's domain (`dev-123.okta.com`) or its custom domain. */
  domain?: string;
  /** Instead of `domain`: the org's whole base URL (a test server on loopback, a proxy). */
  baseUrl?: string;
  /**
   * A custom authorization server's ID (`default` is the one every org has):
   * tokens for your own APIs. Absent: the org authorization server, whose
   * access tokens are for Okta's own APIs only.
   */
  authorizationServerId?: string;
}

/**
 * Okta has two kinds of authorization server, with different issuers and paths:
 * - the org authorization server: issuer `https://{domain}`, endpoints under
 *   `https://{domain}/oauth2/v1/` (beside the issuer, not under it);
 * - a custom authorization server: issuer `https://{domain}/oauth2/{id}`,
 *   endpoints under `{issuer}/v1/`;
 * - either's OpenID discovery document is at `{issuer}/.well-known/openid-configuration`
 *   (the custom one's RFC 8414 document is appended to the issuer, not
 *   inserted as RFC 8414 §3.1 says, so `discover()` falls back to the OpenID one);
 * - endpoints `authorize`, `token`, `revoke` (RFC 7009), `introspect`
 *   (RFC 7662), `userinfo`, `device/authorize` (RFC 8628) and `logout`;
 * - `offline_access` for a refresh token; rotation is a per-app setting.
 *
 * @example
 * const custom = okta({ domain: 'dev-123.okta.com', authorizationServerId: 'default' });
 * const org = okta({ domain: 'dev-123.okta.com' });
 */
export function okta(options: OktaOptions): ProviderConfig {
  const origin = domainOrBaseUrl(options, 'okta');
  const issuer = options.authorizationServerId === undefined
    ? origin
    : `${origin}/oauth2/${pathSegment(options.authorizationServerId, 'okta: authorizationServerId')}`;
  const endpoint = (path: string): string =>
    options.authorizationServerId === undefined ? `${origin}/oauth2/v1/${path}` : `${issuer}/v1/${path}`;
  return {
    issuer,
    authorizationEndpoint: endpoint('authorize'),
    tokenEndpoint: endpoint('token'),
    revocationEndpoint: endpoint('revoke'),
    introspectionEndpoint: endpoint('introspect'),
    userinfoEndpoint: endpoint('userinfo'),
    deviceAuthorizationEndpoint: endpoint('device/authorize'),
    endSessionEndpoint: endpoint('logout'),
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
  };
}
