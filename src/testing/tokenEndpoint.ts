/**
 * The token endpoint (RFC 6749 §3.2): authorization_code with PKCE,
 * refresh_token with rotation and reuse detection, client_credentials,
 * device_code (RFC 8628 §3.4) and the legacy password grant.
 */
import { authenticateClient } from './clientAuthentication.js';
import { randomValue } from './base64url.js';
import { createIdToken } from './idToken.js';
import { tenantClaims, tokenIssuer } from './issuerQuirks.js';
import { verifierMatches } from './pkceVerification.js';
import { bodyParams } from './requestParsing.js';
import { OAuthFailure, jsonResponse } from './responses.js';
import { checkScopes, parseScope } from './scopes.js';
import { DEVICE_GRANT, type ServerState } from './serverState.js';
import type { Grant, TokenRecord } from './tokenStore.js';
import type { TestClient } from './types.js';

const KNOWN_GRANTS = new Set(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT, 'password']);

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw new OAuthFailure('invalid_request', `${name} is required`);
  return value;
}

export async function tokenEndpoint(state: ServerState, request: Request, body: string, issuer: string): Promise<Response> {
  const params = bodyParams(request, body, state.config.quirks.jsonTokenRequests === true);
  const client = authenticateClient(state, request, params);
  const grantType = required(params, 'grant_type');
  if (!KNOWN_GRANTS.has(grantType) || (grantType === 'password' && !state.config.passwordGrant)) {
    throw new OAuthFailure('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
  if (!(client.grants as string[]).includes(grantType)) {
    throw new OAuthFailure('unauthorized_client', `client ${client.clientId} may not use ${grantType}`);
  }
  // Auth0: an audience names one of the tenant's APIs; client credentials must name one.
  const audiences = state.config.quirks.audiences;
  if (audiences !== undefined) {
    if (params.audience !== undefined && !audiences.includes(params.audience)) {
      throw new OAuthFailure('access_denied', `Service not found: ${params.audience}`, 403);
    }
    if (grantType === 'client_credentials' && params.audience === undefined) {
      throw new OAuthFailure('access_denied', 'No audience parameter was provided, and no default audience has been configured', 403);
    }
  }
  const context: GrantContext = { state, issuer, client, params, grantType };
  switch (grantType) {
    case 'authorization_code':
      return authorizationCodeGrant(context);
    case 'refresh_token':
      return refreshTokenGrant(context);
    case 'client_credentials':
      return clientCredentialsGrant(context);
    case DEVICE_GRANT:
      return deviceCodeGrant(context);
    default:
      return passwordGrant(context);
  }
}

interface GrantContext {
  state: ServerState;
  issuer: string;
  client: TestClient;
  params: Record<string, string>;
  grantType: string;
}

async function authorizationCodeGrant({ state, issuer, client, params, grantType }: GrantContext): Promise<Response> {
  const { store, clock } = state;
  const code = required(params, 'code');
  const record = store.codes.get(code);
  if (!record || record.clientId !== client.clientId) throw new OAuthFailure('invalid_grant', 'unknown authorization code');
  if (record.used) {
    // RFC 6749 §4.1.2: a code used twice revokes every token issued from it.
    if (record.grantId !== undefined) store.revokeGrant(record.grantId);
    throw new OAuthFailure('invalid_grant', 'authorization code was already used; tokens issued from it are revoked');
  }
  // Consumed by its first presentation, whatever the outcome: a failed exchange cannot be retried.
  record.used = true;
  // Created before any await, so a concurrent replay finds and revokes it.
  const grant = store.createGrant({
    clientId: client.clientId,
    user: record.user,
    scopes: record.scopes,
    ...(record.nonce === undefined ? {} : { nonce: record.nonce }),
    authTime: record.issuedAt,
    ...(record.userScopes === undefined ? {} : { userScopes: record.userScopes }),
    ...(record.offline === undefined ? {} : { offline: record.offline }),
  });
  record.grantId = grant.id;
  if (clock.now() >= record.expiresAt) throw new OAuthFailure('invalid_grant', 'authorization code expired');
  // RFC 6749 §4.1.3: redirect_uri must be identical when the authorization request had one.
  const single = client.redirectUris.length === 1 ? client.redirectUris[0] : undefined;
  const expectedRedirect = record.redirectUri ?? single;
  if (record.redirectUri !== undefined || params.redirect_uri !== undefined) {
    if (params.redirect_uri !== expectedRedirect) throw new OAuthFailure('invalid_grant', 'redirect_uri does not match the authorization request');
  }
  const verifier = params.code_verifier;
  if (record.challenge !== undefined && record.method !== undefined) {
    // RFC 7636 §4.6
    if (verifier === undefined) throw new OAuthFailure('invalid_grant', 'code_verifier is required');
    if (!(await verifierMatches(verifier, record.challenge, record.method, state.config.quirks.pkceChallengeEncoding))) {
      throw new OAuthFailure('invalid_grant', 'PKCE verification failed');
    }
  } else if (verifier !== undefined) {
    // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
    throw new OAuthFailure('invalid_grant', 'code_verifier sent but the authorization request had no code_challenge');
  }
  return issueTokens({ state, issuer, client, grant, grantType, scopes: grant.scopes, refresh: 'new' });
}

async function refreshTokenGrant({ state, issuer, client, params, grantType }: GrantContext): Promise<Response> {
  const { store, clock, config } = state;
  const presented = required(params, 'refresh_token');
  const record = store.tokens.get(presented);
  if (!record || record.kind !== 'refresh_token' || record.clientId !== client.clientId) {
    throw new OAuthFailure('invalid_grant', 'unknown refresh token');
  }
  const grant = store.grants.get(record.grantId);
  if (record.rotated) {
    // RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole family.
    store.revokeGrant(record.grantId);
    throw new OAuthFailure('invalid_grant', 'refresh token was already used; the grant is revoked');
  }
  if (record.revoked || !grant || grant.revoked) throw new OAuthFailure('invalid_grant', 'refresh token was revoked');
  if (record.expiresAt !== null && clock.now() >= record.expiresAt) throw new OAuthFailure('invalid_grant', 'refresh token expired');
  // RFC 6749 §6: a refresh may narrow the scope, never widen it.
  const requested = parseScope(params.scope, state.config.quirks.scopeDelimiter);
  for (const scope of requested) {
    if (!record.scopes.includes(scope)) throw new OAuthFailure('invalid_scope', `scope ${scope} was not granted originally`);
  }
  const scopes = requested.length > 0 ? requested : record.scopes;
  const holder = record.holder === undefined ? {} : { holder: record.holder };
  if (config.rotateRefreshTokens) {
    record.rotated = true;
    return issueTokens({ state, issuer, client, grant, grantType, scopes, refresh: 'new', refreshScopes: record.scopes, ...holder });
  }
  return issueTokens({ state, issuer, client, grant, grantType, scopes, refresh: 'none', ...holder });
}

async function clientCredentialsGrant({ state, issuer, client, params, grantType }: GrantContext): Promise<Response> {
  // RFC 6749 §4.4: confidential clients only.
  if (client.authMethod === 'none') throw new OAuthFailure('unauthorized_client', 'client_credentials needs a confidential client');
  const scopes = checkScopes(state, client, parseScope(params.scope, state.config.quirks.scopeDelimiter), grantType);
  // Microsoft Entra ID: client credentials name a resource's application permissions as `{resource}/.default`.
  if (state.config.quirks.defaultScopeForClientCredentials === true && (scopes.length === 0 || scopes.some((scope) => !scope.endsWith('/.default')))) {
    throw new OAuthFailure('invalid_scope', 'client credential flows must have a scope value with /.default suffixed to the resource identifier');
  }
  const grant = state.store.createGrant({ clientId: client.clientId, scopes });
  // RFC 6749 §4.4.3: a refresh token SHOULD NOT be included.
  return issueTokens({ state, issuer, client, grant, grantType, scopes, refresh: 'none' });
}

async function deviceCodeGrant({ state, issuer, client, params, grantType }: GrantContext): Promise<Response> {
  const { store, clock } = state;
  const deviceCode = required(params, 'device_code');
  const record = store.devices.get(deviceCode);
  if (!record || record.clientId !== client.clientId) throw new OAuthFailure('invalid_grant', 'unknown device code');
  if (record.status === 'used') throw new OAuthFailure('invalid_grant', 'device code was already exchanged');
  const now = clock.now();
  // RFC 8628 §3.5
  if (now >= record.expiresAt) throw new OAuthFailure('expired_token', 'the device code expired');
  if (record.status === 'denied') throw new OAuthFailure('access_denied', 'the user denied the request');
  if (record.status === 'pending') {
    const tooSoon = record.lastPollAt !== undefined && now - record.lastPollAt < record.interval * 1000;
    record.lastPollAt = now;
    if (tooSoon) {
      // RFC 8628 §3.5: the interval MUST be increased by 5 seconds for this and all subsequent requests.
      record.interval += 5;
      throw new OAuthFailure('slow_down', `polled faster than every ${record.interval - 5} s`);
    }
    throw new OAuthFailure('authorization_pending', 'the user has not approved yet');
  }
  record.status = 'used';
  const grant = store.createGrant({ clientId: client.clientId, user: record.user ?? state.config.user, scopes: record.scopes, authTime: now });
  return issueTokens({ state, issuer, client, grant, grantType, scopes: record.scopes, refresh: 'new' });
}

async function passwordGrant({ state, issuer, client, params, grantType }: GrantContext): Promise<Response> {
  const username = required(params, 'username');
  const password = required(params, 'password');
  const user = state.config.user;
  if (user.password === undefined || username !== (user.username ?? user.sub) || password !== user.password) {
    throw new OAuthFailure('invalid_grant', 'wrong username or password');
  }
  const scopes = checkScopes(state, client, parseScope(params.scope, state.config.quirks.scopeDelimiter), grantType);
  const grant = state.store.createGrant({ clientId: client.clientId, user, scopes, authTime: state.clock.now() });
  return issueTokens({ state, issuer, client, grant, grantType, scopes, refresh: 'new' });
}

interface Issue {
  state: ServerState;
  issuer: string;
  client: TestClient;
  grant: Grant;
  grantType: string;
  /** The access token's scopes. */
  scopes: string[];
  /** `new`: issue a refresh token when policy allows; `none`: never (client credentials, refresh without rotation). */
  refresh: 'new' | 'none';
  /** A rotated refresh token keeps the original grant's scopes, however narrow this access token is. */
  refreshScopes?: string[];
  /** Slack's shape: whose token a refresh renews. */
  holder?: 'bot' | 'user';
}

function refreshAllowed(state: ServerState, client: TestClient, scopes: string[], grant?: Grant): boolean {
  if (!client.grants.includes('refresh_token')) return false;
  // Google: offline access decides, not a scope (a device or password grant has none).
  if (state.config.quirks.offlineAccessType === true) return grant?.offline === true;
  if (state.config.refreshTokens === 'always') return true;
  return state.config.refreshTokens === 'offline_access' && scopes.includes('offline_access');
}

async function issueTokens(issue: Issue): Promise<Response> {
  const { state, issuer, client, grant, grantType, scopes } = issue;
  const { config, store, clock } = state;
  if (config.quirks.tokenResponseShape === 'slack') return slackTokens(issue);
  const apiKey = config.quirks.tokenResponseShape === 'api_key';
  const accessTtl = apiKey ? (config.quirks.apiKeyExpiresIn ?? null) : config.quirks.nonExpiringAccessTokens === true ? null : config.accessTokenTtl;
  const access = store.issue(grant, 'access_token', grantType, accessTtl, scopes);
  if (apiKey) {
    // Poe's shape: the whole response is the key and its lifetime, null meaning it never expires.
    return jsonResponse(200, { api_key: access.token, api_key_expires_in: accessTtl });
  }
  const refreshScopes = issue.refreshScopes ?? grant.scopes;
  let refresh: TokenRecord | undefined;
  if (issue.refresh === 'new' && refreshAllowed(state, client, refreshScopes, grant)) {
    refresh = store.issue(grant, 'refresh_token', grantType, config.refreshTokenTtl, refreshScopes);
  }
  const body: Record<string, unknown> = {
    access_token: access.token,
    token_type: 'Bearer',
  };
  if (accessTtl !== null) body.expires_in = accessTtl;
  if (refresh) body.refresh_token = refresh.token;
  if (scopes.length > 0) body.scope = scopes.join(config.quirks.scopeDelimiter ?? ' ');
  if (scopes.includes('openid') && grant.user) {
    body.id_token = await createIdToken({
      issuer: tokenIssuer(state, issuer),
      extraClaims: tenantClaims(state),
      clientId: client.clientId,
      user: grant.user,
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
      ...(grant.authTime === undefined ? {} : { authTime: grant.authTime }),
      now: clock.now(),
      ttlSeconds: config.accessTokenTtl,
      alg: config.idTokenAlg,
      key: config.idTokenKey ?? client.clientSecret ?? 'test-id-token-key',
    });
  }
  return jsonResponse(200, body);
}

/**
 * Slack's `oauth.v2.access` answer: the bot token (for `scope`) at the top
 * with `token_type: 'bot'`, the user token (for `user_scope`) nested in
 * `authed_user`, each with its own refresh token under token rotation; a
 * refresh answers the one renewed token at the top, of its holder's type.
 */
function slackTokens(issue: Issue): Response {
  const { state, issuer, client, grant, grantType, scopes } = issue;
  const { config, store } = state;
  const ttl = config.quirks.nonExpiringAccessTokens === true ? null : config.accessTokenTtl;
  const token = (holder: 'bot' | 'user', tokenScopes: string[]): Record<string, unknown> => {
    const access = store.issue(grant, 'access_token', grantType, ttl, tokenScopes);
    access.holder = holder;
    const fields: Record<string, unknown> = { access_token: access.token, token_type: holder, scope: tokenScopes.join(',') };
    if (ttl !== null) fields.expires_in = ttl;
    if (issue.refresh === 'new' && refreshAllowed(state, client, tokenScopes, grant)) {
      const refresh = store.issue(grant, 'refresh_token', grantType, config.refreshTokenTtl, tokenScopes);
      refresh.holder = holder;
      fields.refresh_token = refresh.token;
    }
    return fields;
  };
  const app = { ok: true, app_id: 'A0TESTAPP', team: { id: 'T0TEST', name: 'Test workspace' }, enterprise: null, is_enterprise_install: false };
  if (grantType === 'refresh_token') return jsonResponse(200, { ...app, ...token(issue.holder ?? 'bot', scopes) });
  const body: Record<string, unknown> = { ...app };
  if (scopes.length > 0) Object.assign(body, token('bot', scopes), { bot_user_id: 'U0TESTBOT' });
  if (scopes.includes('incoming-webhook')) {
    // The webhook a user picked a channel for: its URL is itself a credential.
    const hook = randomValue('B0', 9);
    body.incoming_webhook = { channel: '#general', channel_id: 'C0TEST', configuration_url: `${issuer}/services/${hook}`, url: `${issuer}/services/T0TEST/${hook}/${randomValue('', 18)}` };
  }
  const userScopes = grant.userScopes ?? [];
  body.authed_user = { id: grant.user?.sub, ...(userScopes.length > 0 ? token('user', userScopes) : {}) };
  return jsonResponse(200, body);
}
