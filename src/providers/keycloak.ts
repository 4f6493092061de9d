/**
 * Keycloak.
 *
 * Source: Keycloak, "Securing applications and services with OpenID Connect",
 * section "Available Endpoints" (https://www.keycloak.org/securing-apps/oidc-layers).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { baseUrl, pathSegment } from './profileUrls.js';

export interface KeycloakOptions {
  /** Where Keycloak runs: `https://sso.example.com`, or `https://sso.example.com/auth` for Keycloak before 17 (WildFly). */
  baseUrl: string;
  /** The realm (`master`, `myrealm`). */
  realm: string;
}

/**
 * Keycloak:
 * - one issuer per realm, `{baseUrl}/realms/{realm}`, with its OpenID
 *   discovery document at `{issuer}/.well-known/openid-configuration`;
 * - every endpoint under `{issuer}/protocol/openid-connect/`: `auth`,
 *   `token`, `revoke` (RFC 7009), `token/introspect` (RFC 7662), `userinfo`,
 *   `auth/device` (RFC 8628) and `logout`, the `end_session_endpoint` of
 *   RP-initiated logout (`id_token_hint`, `post_logout_redirect_uri`);
 * - refresh tokens with every code exchange (an offline token with
 *   `offline_access`); rotation is a realm setting.
 *
 * @example
 * const provider = keycloak({ baseUrl: 'https://sso.example.com', realm: 'myrealm' });
 */
export function keycloak(options: KeycloakOptions): ProviderConfig {
  const issuer = `${baseUrl(options.baseUrl, 'keycloak: baseUrl')}/realms/${pathSegment(options.realm, 'keycloak: realm')}`;
  const endpoint = (path: string): string => `${issuer}/protocol/openid-connect/${path}`;
  return {
    issuer,
    authorizationEndpoint: endpoint('auth'),
    tokenEndpoint: endpoint('token'),
    revocationEndpoint: endpoint('revoke'),
    introspectionEndpoint: endpoint('token/introspect'),
    userinfoEndpoint: endpoint('userinfo'),
    deviceAuthorizationEndpoint: endpoint('auth/device'),
    endSessionEndpoint: endpoint('logout'),
    codeChallengeMethodsSupported: ['plain', 'S256'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
  };
}
