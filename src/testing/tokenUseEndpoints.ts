/**
 * The endpoints that take an issued token: revocation (RFC 7009),
 * introspection (RFC 7662), userinfo (OpenID Connect Core §5.3, bearer per
 * RFC 6750) and a non-standard token-info GET.
 */
import { tokenIssuer } from './issuerQuirks.js';
import { authenticateClient } from './clientAuthentication.js';
import { bearerToken, bodyParams } from './requestParsing.js';
import { OAuthFailure, jsonResponse } from './responses.js';
import type { ServerState } from './serverState.js';
import type { TokenRecord } from './tokenStore.js';

export function revocationEndpoint(state: ServerState, request: Request, body: string): Response {
  const params = bodyParams(request, body, state.config.quirks.jsonTokenRequests === true);
  const client = authenticateClient(state, request, params);
  if (state.config.quirks.revocationRequiresClientAuthentication === true && client.authMethod === 'none') {
    throw new OAuthFailure('invalid_client', 'revocation requires client authentication', 401);
  }
  const token = params.token;
  if (token === undefined || token === '') throw new OAuthFailure('invalid_request', 'token is required');
  const record = state.store.tokens.get(token);
  // RFC 7009 §2.2: unknown tokens, and tokens of other clients, get the same 200 (nothing is revealed).
  if (record && record.clientId === client.clientId) state.store.revoke(record);
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

export function introspectionEndpoint(state: ServerState, request: Request, body: string, issuer: string): Response {
  const params = bodyParams(request, body, state.config.quirks.jsonTokenRequests === true);
  const client = authenticateClient(state, request, params);
  // RFC 7662 §2.1: the endpoint requires authorization; here only confidential clients have it.
  if (client.authMethod === 'none') {
    throw new OAuthFailure('invalid_client', 'introspection needs a confidential client', 401, {
      'www-authenticate': 'Basic realm="test-authorization-server"',
    });
  }
  const token = params.token;
  if (token === undefined || token === '') throw new OAuthFailure('invalid_request', 'token is required');
  const record = state.store.tokens.get(token);
  if (!record || !state.store.isActive(record)) return jsonResponse(200, { active: false });
  const sub = state.store.grants.get(record.grantId)?.user?.sub;
  // RFC 7662 §2.2
  return jsonResponse(200, {
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    ...(record.kind === 'access_token' ? { token_type: 'Bearer' } : {}),
    ...(record.expiresAt === null ? {} : { exp: Math.floor(record.expiresAt / 1000) }),
    iat: Math.floor(record.issuedAt / 1000),
    ...(sub === undefined ? {} : { sub }),
    aud: record.clientId,
    iss: tokenIssuer(state, issuer),
  });
}

/** RFC 6750 §3.1: the challenge carries an error only when a token was presented. */
function bearerFailure(status: 401 | 403, error: string, description: string): OAuthFailure {
  return new OAuthFailure(error, description, status, {
    'www-authenticate': `Bearer realm="test-authorization-server", error="${error}", error_description="${description}"`,
  });
}

function activeAccessToken(state: ServerState, request: Request): TokenRecord | Response {
  const token = bearerToken(request);
  if (token === undefined) {
    if (request.headers.has('authorization')) throw bearerFailure(401, 'invalid_token', 'the Authorization header is not a Bearer token');
    return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="test-authorization-server"' } });
  }
  const record = state.store.tokens.get(token);
  if (!record || record.kind !== 'access_token' || !state.store.isActive(record)) {
    throw bearerFailure(401, 'invalid_token', 'the access token is unknown, expired or revoked');
  }
  return record;
}

export function userinfoEndpoint(state: ServerState, request: Request): Response {
  if (request.method !== 'GET' && request.method !== 'POST') {
    throw new OAuthFailure('invalid_request', 'userinfo takes GET or POST', 405, { allow: 'GET, POST' });
  }
  const record = activeAccessToken(state, request);
  if (record instanceof Response) return record;
  const user = state.store.grants.get(record.grantId)?.user;
  // OpenID Connect Core §5.3: userinfo serves tokens granted the openid scope.
  if (!user || !record.scopes.includes('openid')) throw bearerFailure(403, 'insufficient_scope', 'the token was not granted openid');
  return jsonResponse(200, { ...user.claims, sub: user.sub });
}

export function tokenInfoEndpoint(state: ServerState, request: Request): Response {
  if (request.method !== 'GET') throw new OAuthFailure('invalid_request', 'token info takes GET', 405, { allow: 'GET' });
  const record = activeAccessToken(state, request);
  if (record instanceof Response) return record;
  const sub = state.store.grants.get(record.grantId)?.user?.sub;
  // The token-info shape: { client_id, user_id, scopes, expires_at (ISO 8601) }.
  return jsonResponse(200, {
    client_id: record.clientId,
    user_id: sub ?? null,
    scopes: record.scopes,
    expires_at: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
  });
}
