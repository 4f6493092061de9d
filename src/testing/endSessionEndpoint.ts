/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0, as
 * Keycloak, Okta, Auth0 and Microsoft Entra ID serve it): the user agent is
 * sent here to end the user's session at the provider, which revokes every
 * grant to the client of the user its `id_token_hint` names, then goes back to a registered
 * `post_logout_redirect_uri` with the `state` it was given.
 */
import { tokenIssuer } from './issuerQuirks.js';
import { queryParams } from './requestParsing.js';
import { htmlPage, redirectResponse } from './responses.js';
import type { ServerState } from './serverState.js';

/** The claims of an ID token, read without checking a signature (the server checks its own `iss` and `aud`). */
function idTokenClaims(idToken: string): Record<string, unknown> | undefined {
  const payload = idToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (char) => char.charCodeAt(0))));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function endSessionEndpoint(state: ServerState, request: Request, issuer: string): Response {
  if (request.method !== 'GET') return htmlPage(405, 'Method not allowed', 'the end-session endpoint takes GET here');
  let params: Record<string, string>;
  try {
    params = queryParams(new URL(request.url));
  } catch (error) {
    return htmlPage(400, 'Invalid logout request', error instanceof Error ? error.message : 'malformed query');
  }
  // §2: id_token_hint is RECOMMENDED; without it, client_id must say which client asks.
  const hint = params.id_token_hint === undefined ? undefined : idTokenClaims(params.id_token_hint);
  if (params.id_token_hint !== undefined && (hint === undefined || hint.iss !== tokenIssuer(state, issuer))) {
    return htmlPage(400, 'Invalid id_token_hint', 'the ID token was not issued by this server');
  }
  const clientId = params.client_id ?? (typeof hint?.aud === 'string' ? hint.aud : undefined);
  if (params.client_id !== undefined && hint !== undefined && hint.aud !== params.client_id) {
    return htmlPage(400, 'Invalid logout request', 'client_id is not the audience of id_token_hint');
  }
  const client = clientId === undefined ? undefined : state.clients.get(clientId);
  if (client === undefined) return htmlPage(400, 'Unknown client', 'the logout request names no registered client');
  const target = params.post_logout_redirect_uri;
  // §3: the redirect must be registered, else the user is not sent anywhere.
  if (target !== undefined && !(client.postLogoutRedirectUris ?? []).includes(target)) {
    return htmlPage(400, 'Unregistered post_logout_redirect_uri', `${target} is not registered for ${client.clientId}`);
  }
  // The user is known only from the hint: without one nothing is revoked (a real provider would ask the user).
  const sub = typeof hint?.sub === 'string' ? hint.sub : undefined;
  for (const grant of state.store.grants.values()) {
    if (sub !== undefined && grant.clientId === client.clientId && grant.user?.sub === sub) state.store.revokeGrant(grant.id);
  }
  if (target === undefined) return htmlPage(200, 'Signed out', 'You are signed out.');
  const url = new URL(target);
  if (params.state !== undefined) url.searchParams.append('state', params.state);
  return redirectResponse(url.toString());
}
