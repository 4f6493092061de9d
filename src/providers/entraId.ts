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
import type { ProviderConfig, ProviderQuirks } from '../protocol/types.js';
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

/** The placeholder of the multi-tenant issuer in Microsoft's discovery documents. */
export const ENTRA_TENANT_PLACEHOLDER = '{tenantid}';

/**
 * The issuer of one ID token under a `{tenantid}` issuer template: the
 * template with the token's `tid` claim in its place. Throws `TypeError` for
 * a token without a tenant ID (a `tid` that could change more than the one
 * path segment included), which refuses the ID token. Pure.
 */
export function entraIdTokenIssuer(issuer: string, claims: Record<string, unknown>): string {
  if (!issuer.includes(ENTRA_TENANT_PLACEHOLDER)) return issuer;
  const tenant = claims['tid'];
  if (typeof tenant !== 'string' || !/^[A-Za-z0-9._-]+$/.test(tenant)) throw new TypeError('the ID token has no usable tid claim for the issuer template');
  return issuer.replace(ENTRA_TENANT_PLACEHOLDER, tenant);
}

/**
 * Whether a discovery document naming `documentIssuer` is the one fetched for
 * `requested`: the same URL with exactly one path segment replaced by
 * `{tenantid}` (`…/common/v2.0` → `…/{tenantid}/v2.0`). Pure.
 */
export function isEntraIssuerTemplate(documentIssuer: string, requested: string): boolean {
  if (!URL.canParse(documentIssuer) || !URL.canParse(requested)) return false;
  const [template, asked] = [new URL(documentIssuer), new URL(requested)];
  if (template.origin !== asked.origin || template.search !== '' || template.hash !== '') return false;
  const [templateSegments, askedSegments] = [template.pathname.split('/'), asked.pathname.split('/')];
  if (templateSegments.length !== askedSegments.length) return false;
  const differing = templateSegments.filter((segment, index) => segment !== askedSegments[index]);
  return differing.length === 1 && differing[0] === encodeURI(ENTRA_TENANT_PLACEHOLDER);
}

/** The quirks of a multi-tenant authority: for `{ issuer, quirks }` discovery of `…/common/v2.0` as well as for the profile. */
export const ENTRA_MULTI_TENANT_QUIRKS: Readonly<ProviderQuirks> = Object.freeze({
  idTokenIssuer: entraIdTokenIssuer,
  acceptsDiscoveredIssuer: isEntraIssuerTemplate,
});

/**
 * Microsoft Entra ID:
 * - the v2.0 endpoints under the tenant: `/{tenant}/oauth2/v2.0/authorize`,
 *   `/token`, `/devicecode` and `/logout` (RP-initiated logout);
 * - the issuer is `https://login.microsoftonline.com/{tenantid}/v2.0`; for a
 *   tenant given by its ID it is that tenant's, otherwise (`common`,
 *   `organizations`, `consumers`, a domain name) the discovery document names
 *   it as a template with `{tenantid}`, and each ID token's issuer is the
 *   template with its `tid` claim filled in ({@link entraIdTokenIssuer});
 *   discovery of such an authority accepts the template
 *   ({@link isEntraIssuerTemplate}; both are {@link ENTRA_MULTI_TENANT_QUIRKS});
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
    issuer: `${base}/${singleTenant ? tenant.toLowerCase() : ENTRA_TENANT_PLACEHOLDER}/v2.0`,
    authorizationEndpoint: `${authority}/authorize`,
    tokenEndpoint: `${authority}/token`,
    deviceAuthorizationEndpoint: `${authority}/devicecode`,
    endSessionEndpoint: `${authority}/logout`,
    codeChallengeMethodsSupported: ['S256', 'plain'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
    tokenEndpointAuthMethodsSupported: ['client_secret_post', 'client_secret_basic'],
  };
  if (!singleTenant) config.quirks = { ...ENTRA_MULTI_TENANT_QUIRKS };
  return config;
}
