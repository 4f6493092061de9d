/**
 * Assembles a client of any grant: the dispatcher by `grant` onto each
 * grant's kit (machine and façade). It imports every grant, so only the
 * entries that take any grant (`createOAuthClient`, the token cache) use it;
 * the browser helper assembles the authorization code grant alone.
 * Options are taken as validated.
 */
import { assembleGrantClient, type GrantKit } from './assemble.js';
import { authorizationCodeKit } from './authorizationCode.js';
import { clientCredentialsKit } from './clientCredentials.js';
import type { OAuthGrant } from './config.js';
import { deviceCodeKit } from './deviceCode.js';
import type { OAuthClientOptions } from './options.js';
import type { OAuthClient } from './types.js';

export { defaultClientStorage } from './assemble.js';

/**
 * The façade of `options.grant` over its machine, for options already
 * validated: `createOAuthClient` checks them first; the token cache, which
 * validates its own input at its entry, calls this directly so that each
 * input is validated once.
 */
export function assembleClient<G extends OAuthGrant>(options: OAuthClientOptions<G>): OAuthClient<G> {
  const grant: OAuthGrant = options.grant;
  const kit: GrantKit =
    grant === 'authorization_code' ? authorizationCodeKit() : grant === 'client_credentials' ? clientCredentialsKit() : deviceCodeKit();
  return assembleGrantClient(options, kit);
}
