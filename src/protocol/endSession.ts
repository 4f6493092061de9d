/**
 * OpenID Connect RP-Initiated Logout 1.0: the URL that ends the user's
 * session at the provider (Keycloak's, Okta's, Auth0's and Microsoft Entra
 * ID's `end_session_endpoint`), to send the user agent to after `logout()`
 * has revoked the tokens and cleared the session.
 */
import { resolveEndpoint } from './endpoints.js';
import type { ClientConfig, ProviderConfig } from './types.js';

export interface EndSessionUrlOptions {
  /** §2: the ID token of the session (RECOMMENDED): it tells the provider whose session ends. */
  idTokenHint?: string;
  /** §2: where the provider sends the user back; must be registered with the provider. */
  postLogoutRedirectUri?: string;
  /** §2: given back with the redirect, for the app to check. */
  state?: string;
  /** §2: a hint of the user to log out when there is no ID token (`logout_hint`). */
  logoutHint?: string;
}

function optionalText(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/**
 * The provider's `endSessionEndpoint` with `client_id` and the given
 * parameters (§2), keeping the endpoint's own query. Throws `TypeError` when
 * the provider has no end-session endpoint, or an argument is empty or not
 * an absolute URL where one is needed.
 */
export function buildEndSessionUrl(provider: ProviderConfig, client: ClientConfig, options: EndSessionUrlOptions = {}): string {
  if (provider.endSessionEndpoint === undefined) throw new TypeError('the provider has no endSessionEndpoint (OpenID Connect RP-Initiated Logout)');
  const url = new URL(resolveEndpoint(provider, 'endSession'));
  const redirect = optionalText(options.postLogoutRedirectUri, 'postLogoutRedirectUri');
  if (redirect !== undefined && !URL.canParse(redirect)) throw new TypeError(`postLogoutRedirectUri must be an absolute URL: ${redirect}`);
  const params: [string, string | undefined][] = [
    ['id_token_hint', optionalText(options.idTokenHint, 'idTokenHint')],
    ['logout_hint', optionalText(options.logoutHint, 'logoutHint')],
    ['client_id', optionalText(client.clientId, 'client.clientId')],
    ['post_logout_redirect_uri', redirect],
    ['state', optionalText(options.state, 'state')],
  ];
  for (const [name, value] of params) {
    if (value === undefined) continue;
    url.searchParams.delete(name);
    url.searchParams.append(name, value);
  }
  return url.href;
}
