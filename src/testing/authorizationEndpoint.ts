/**
 * The authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9207):
 * validates, then approves or denies as the test said, without a login page.
 */
import { randomValue } from './base64url.js';
import { isValidChallenge, type StoredPkceMethod } from './pkceVerification.js';
import { queryParams } from './requestParsing.js';
import { OAuthFailure, htmlPage, redirectResponse } from './responses.js';
import { checkScopes, parseScope } from './scopes.js';
import { responseIss } from './issuerQuirks.js';
import type { ServerState } from './serverState.js';
import type { AuthorizationDecision } from './types.js';

export function authorizationEndpoint(
  state: ServerState,
  request: Request,
  issuer: string,
  injected: AuthorizationDecision | undefined,
): Response {
  if (request.method !== 'GET') throw new OAuthFailure('invalid_request', 'the authorization endpoint takes GET', 405, { allow: 'GET' });
  const { config, store, clock } = state;
  let params: Record<string, string>;
  try {
    params = queryParams(new URL(request.url));
  } catch (error) {
    return htmlPage(400, 'Invalid authorization request', error instanceof Error ? error.message : 'malformed query');
  }

  // RFC 6749 §4.1.2.1: without a valid client and redirect URI the server MUST NOT redirect.
  const client = state.clients.get(params.client_id ?? '');
  if (!client) return htmlPage(400, 'Unknown client', `client_id ${params.client_id ?? '(missing)'} is not registered`);
  let redirectUri = params.redirect_uri;
  if (redirectUri === undefined) {
    // OAuth 2.1 §4.1.1: optional only when exactly one redirect URI is registered.
    if (client.redirectUris.length !== 1) return htmlPage(400, 'Missing redirect_uri', 'this client registered several redirect URIs');
    redirectUri = client.redirectUris[0] as string;
  } else if (!client.redirectUris.includes(redirectUri)) {
    return htmlPage(400, 'Unregistered redirect_uri', `${redirectUri} is not registered for ${client.clientId}`);
  }

  const target = redirectUri;
  const redirect = (values: Record<string, string | undefined>): Response => {
    const url = new URL(target);
    for (const [name, value] of Object.entries(values)) if (value !== undefined) url.searchParams.append(name, value);
    return redirectResponse(url.toString());
  };
  // RFC 6749 §4.1.2.1 error response, with RFC 9207 iss.
  const fail = (error: string, description: string): Response =>
    redirect({ error, error_description: description, state: params.state, iss: responseIss(state, issuer) });

  if (params.response_type === undefined) return fail('invalid_request', 'response_type is required');
  if (params.response_type !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grants.includes('authorization_code')) return fail('unauthorized_client', 'client may not use the authorization code grant');
  let scopes: string[];
  try {
    scopes = checkScopes(state, client, parseScope(params.scope, state.config.quirks.scopeDelimiter), 'authorization_code');
  } catch (error) {
    if (error instanceof OAuthFailure) return fail(error.code, error.description);
    throw error;
  }

  // Slack: the user token's scopes, beside the bot's `scope`.
  let userScopes: string[] | undefined;
  if (config.quirks.tokenResponseShape === 'slack' && params.user_scope !== undefined) {
    try {
      userScopes = checkScopes(state, client, parseScope(params.user_scope, ','), 'authorization_code');
    } catch (error) {
      if (error instanceof OAuthFailure) return fail(error.code, error.description);
      throw error;
    }
  }
  // Auth0: an audience names one of the tenant's APIs.
  const audiences = config.quirks.audiences;
  if (audiences !== undefined && params.audience !== undefined && !audiences.includes(params.audience)) {
    return fail('access_denied', `Service not found: ${params.audience}`);
  }

  const challenge = params.code_challenge;
  const methodParam = params.code_challenge_method;
  let method: StoredPkceMethod | undefined;
  if (challenge === undefined) {
    if (methodParam !== undefined) return fail('invalid_request', 'code_challenge_method without code_challenge');
    if (client.pkceRequired !== false) return fail('invalid_request', 'code_challenge is required (PKCE)');
  } else {
    const s256Name = config.quirks.pkceMethodName ?? 'S256';
    // RFC 7636 §4.3: an absent method means plain.
    if (methodParam === s256Name) method = 'S256';
    else if (methodParam === 'plain' || methodParam === undefined) {
      if (!config.allowPlainPkce) return fail('invalid_request', `code_challenge_method ${methodParam ?? '(absent: plain)'} is not allowed; use ${s256Name}`);
      method = 'plain';
    } else return fail('invalid_request', `unsupported code_challenge_method ${methodParam}`);
    if (!isValidChallenge(challenge, method, config.quirks.pkceChallengeEncoding)) return fail('invalid_request', 'malformed code_challenge');
  }

  const decision = injected ?? state.decisions.shift() ?? {};
  if (decision.deny) return fail('access_denied', decision.errorDescription ?? 'the user denied the request');
  if (decision.error !== undefined) return fail(decision.error, decision.errorDescription ?? 'injected authorization error');

  const now = clock.now();
  const user = decision.user ?? config.user;
  // Google: a refresh token for offline access at the user's first consent, or whenever the consent is asked again.
  const consent = `${client.clientId} ${user.sub}`;
  const offline = params.access_type === 'offline' && (!store.consents.has(consent) || (params.prompt ?? '').split(' ').includes('consent'));
  store.consents.add(consent);
  const code = randomValue('ac_');
  store.codes.set(code, {
    code,
    clientId: client.clientId,
    ...(params.redirect_uri === undefined ? {} : { redirectUri: params.redirect_uri }),
    scopes,
    ...(challenge === undefined || method === undefined ? {} : { challenge, method }),
    ...(params.nonce === undefined ? {} : { nonce: params.nonce }),
    user,
    ...(userScopes === undefined ? {} : { userScopes }),
    ...(config.quirks.offlineAccessType === true ? { offline } : {}),
    ...(params.audience === undefined ? {} : { audience: params.audience }),
    issuedAt: now,
    expiresAt: now + config.codeTtl * 1000,
    used: false,
  });
  return redirect({ code, state: params.state, iss: responseIss(state, issuer) });
}
