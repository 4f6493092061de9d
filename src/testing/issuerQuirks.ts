/**
 * How the server names itself and where its endpoints live, under the quirks
 * of real providers: Auth0's issuer with a trailing slash, Microsoft Entra
 * ID's `common` authority (a `{tenantid}` template in the metadata, the
 * tenant's own issuer in ID tokens, endpoints beside the issuer's path).
 */
import type { ServerState } from './serverState.js';

/** The issuer with its first path segment replaced (`/common/v2.0` → `/{tenantid}/v2.0`). */
function withTenant(issuer: string, tenant: string): string {
  const url = new URL(issuer);
  const segments = url.pathname.split('/');
  if (segments.length < 2 || segments[1] === '') throw new TypeError('quirks.tenantIssuer needs an issuer with a path (https://login.test/common/v2.0)');
  segments[1] = tenant;
  return `${url.origin}${segments.join('/')}`;
}

/** The `issuer` of the metadata document. */
export function advertisedIssuer(state: ServerState, issuer: string): string {
  const { quirks } = state.config;
  if (quirks.tenantIssuer !== undefined) return withTenant(issuer, '{tenantid}');
  return quirks.issuerTrailingSlash === true ? `${issuer}/` : issuer;
}

/** The `iss` of the ID tokens (and introspection answers) this server issues. */
export function tokenIssuer(state: ServerState, issuer: string): string {
  const { quirks } = state.config;
  if (quirks.tenantIssuer !== undefined) return withTenant(issuer, quirks.tenantIssuer.tenantId);
  return quirks.issuerTrailingSlash === true ? `${issuer}/` : issuer;
}

/** The `iss` of authorization responses (RFC 9207), or none (Microsoft Entra ID sends none). */
export function responseIss(state: ServerState, issuer: string): string | undefined {
  return state.config.quirks.tenantIssuer === undefined ? tokenIssuer(state, issuer) : undefined;
}

/** Claims every ID token carries beside the standard ones (Entra's `tid`). */
export function tenantClaims(state: ServerState): Record<string, unknown> {
  const tenant = state.config.quirks.tenantIssuer;
  return tenant === undefined ? {} : { tid: tenant.tenantId };
}

/** The path the endpoint paths are relative to: the issuer's, or `quirks.endpointBasePath`. */
export function endpointBasePath(state: ServerState, issuer: string): string {
  return state.config.quirks.endpointBasePath ?? new URL(issuer).pathname.replace(/\/+$/, '');
}
