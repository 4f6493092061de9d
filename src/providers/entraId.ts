/**
 * Microsoft Entra ID (the Microsoft identity platform, v2.0 endpoints).
 *
 * Source: Microsoft Learn, "OpenID Connect on the Microsoft identity platform"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc),
 * "Microsoft identity platform and the OAuth 2.0 client credentials flow"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
 * and "Validate the issuer" of "Access tokens"
 * (https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens).
 */
import { TENANT_ISSUER_PLACEHOLDER, type ProviderConfig } from '../protocol/types.js';
import { baseUrl, pathSegment } from './profileUrls.js';

export interface EntraIdOptions {
  /**
   * The tenant: its ID (a GUID), one of its domains (`contoso.onmicrosoft.com`),
   * or `common` (work, school and personal accounts), `organizations` or
   * `consumers`. Default `common`.
   */
  tenant?: string;
  /** The authority host (a national cloud such as `https://login.microsoftonline.us`, or a test server). Default `https://login.microsoftonline.com`. */
  baseUrl?: string;
}

const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Microsoft Entra ID:
 * - the v2.0 endpoints under the tenant: `/{tenant}/oauth2/v2.0/authorize`,
 *   `/token`, `/devicecode` and `/logout` (RP-initiated logout);
 * - the issuer is `https://login.microsoftonline.com/{tenantid}/v2.0`; for a
 *   tenant given by its ID it is that tenant's, otherwise (`common`,
 *   `organizations`, `consumers`, a domain name) the discovery document names
 *   it as a template with `{tenantid}`, and each ID token's issuer is the
 *   template with its `tid` claim filled in (`tenantIssuerClaim: 'tid'`);
 *   discovery of such an authority is accepted the same way;
 * - scopes name a resource: `User.Read` means Microsoft Graph's, an API of
 *   your own is `api://{app-id}/{scope}`; client credentials ask for
 *   `{resource}/.default` (the application permissions granted to the app),
 *   e.g. `https://graph.microsoft.com/.default`;
 * - `offline_access` for a refresh token, which is replaced on every use;
 * - no RFC 7009 revocation endpoint, no `iss` in authorization responses.
 *
 * @example
 * const provider = entraId({ tenant: 'organizations' });
 * const daemon = entraId({ tenant: '9188040d-6c67-4c5b-b112-36a304b66dad' }); // with scopes ['https://graph.microsoft.com/.default']
 */
export function entraId(options: EntraIdOptions = {}): ProviderConfig {
  const base = baseUrl(options.baseUrl ?? 'https://login.microsoftonline.com', 'entraId: baseUrl');
  const tenant = pathSegment(options.tenant ?? 'common', 'entraId: tenant');
  const authority = `${base}/${tenant}/oauth2/v2.0`;
  const singleTenant = TENANT_ID.test(tenant);
  const config: ProviderConfig = {
    issuer: `${base}/${singleTenant ? tenant.toLowerCase() : TENANT_ISSUER_PLACEHOLDER}/v2.0`,
    authorizationEndpoint: `${authority}/authorize`,
    tokenEndpoint: `${authority}/token`,
    deviceAuthorizationEndpoint: `${authority}/devicecode`,
    endSessionEndpoint: `${authority}/logout`,
    codeChallengeMethodsSupported: ['S256', 'plain'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
    tokenEndpointAuthMethodsSupported: ['client_secret_post', 'client_secret_basic'],
  };
  if (!singleTenant) config.quirks = { tenantIssuerClaim: 'tid' };
  return config;
}
