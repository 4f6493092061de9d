/**
 * Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata
 * (OpenID Connect Discovery §3), listing exactly what this server enables.
 */
import { advertisedIssuer, endpointBasePath, responseIss } from './issuerQuirks.js';
import { DEVICE_GRANT, type PathEndpoint, type ServerState } from './serverState.js';

export function endpointUrl(state: ServerState, issuer: string, endpoint: PathEndpoint): string | undefined {
  const path = state.config.paths[endpoint];
  return path === null ? undefined : `${new URL(issuer).origin}${endpointBasePath(state, issuer)}${path}`;
}

export function serverMetadata(state: ServerState, issuer: string): Record<string, unknown> {
  const { config } = state;
  const url = (endpoint: PathEndpoint): string | undefined => endpointUrl(state, issuer, endpoint);
  const grants: string[] = [];
  if (url('authorize') !== undefined) grants.push('authorization_code');
  if (config.refreshTokens !== 'never' && config.quirks.tokenResponseShape !== 'api_key') grants.push('refresh_token');
  grants.push('client_credentials');
  if (url('device_authorization') !== undefined) grants.push(DEVICE_GRANT);
  if (config.passwordGrant) grants.push('password');
  const authMethods = config.quirks.clientSecretPostOnly
    ? ['client_secret_post', 'none']
    : ['client_secret_basic', 'client_secret_post', 'none'];
  const scopes = [...new Set([...state.clients.values()].flatMap((client) => client.scopes))];
  const document: Record<string, unknown> = {
    issuer: advertisedIssuer(state, issuer),
    authorization_endpoint: url('authorize'),
    token_endpoint: url('token'),
    revocation_endpoint: config.quirks.unadvertisedRevocation === true ? undefined : url('revoke'),
    introspection_endpoint: url('introspect'),
    userinfo_endpoint: url('userinfo'),
    device_authorization_endpoint: url('device_authorization'),
    end_session_endpoint: url('end_session'),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: grants,
    code_challenge_methods_supported: [config.quirks.pkceMethodName ?? 'S256', ...(config.allowPlainPkce ? ['plain'] : [])],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods.filter((method) => method !== 'none'),
    scopes_supported: scopes,
    authorization_response_iss_parameter_supported: responseIss(state, issuer) === undefined ? undefined : true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.idTokenAlg],
  };
  // Disabled endpoints are absent, not null (RFC 8414 §2: omitted when not supported).
  for (const [name, value] of Object.entries(document)) if (value === undefined) delete document[name];
  if (document.revocation_endpoint === undefined) delete document.revocation_endpoint_auth_methods_supported;
  if (document.introspection_endpoint === undefined) delete document.introspection_endpoint_auth_methods_supported;
  return document;
}
