/**
 * The build → send → check steps the machines' actors invoke. Each sends with
 * `services.fetch(url, { ...init, signal })`, turns a failed fetch into
 * `OAuthError` (`network_error`, `timeout`, `aborted`) and reads the response
 * with the matching reader. Bad arguments still throw `TypeError` before
 * anything is sent.
 */
import type { Services } from '../services/types.js';
import { readDeviceAuthorizationResponse, deviceAuthorizationRequest, type DeviceAuthorization } from './deviceAuthorization.js';
import { introspectionRequest, readIntrospectionResponse, type Introspection } from './introspection.js';
import { transportError } from './providerRequest.js';
import { readRevocationResponse, revocationRequest } from './revocation.js';
import { tokenRequest } from './tokenRequest.js';
import { readTokenResponse } from './tokenResponse.js';
import type { ClientConfig, HttpRequest, ProviderConfig, TokenSet } from './types.js';
import { readUserinfoResponse, userinfoRequest } from './userinfo.js';

/** What every operation needs: who to talk to, as whom, through which services. */
export interface OperationContext {
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  signal?: AbortSignal;
}

type TokenTypeHint = 'access_token' | 'refresh_token' | (string & {});

/** Sends a built request; a fetch that throws becomes an `OAuthError`. */
async function send(context: OperationContext, request: HttpRequest): Promise<Response> {
  const { signal } = context;
  const init: RequestInit = { ...request.init, headers: { ...request.init.headers } };
  if (signal !== undefined) init.signal = signal;
  try {
    return await context.services.fetch(request.url, init);
  } catch (thrown) {
    throw transportError(thrown, signal);
  }
}

/** RFC 6749 §4.1.3: the authorization code and its PKCE verifier for tokens. */
export async function exchangeAuthorizationCode(
  context: OperationContext & { code: string; codeVerifier: string; redirectUri?: string },
): Promise<TokenSet> {
  const options: { code: string; codeVerifier: string; redirectUri?: string } = {
    code: context.code,
    codeVerifier: context.codeVerifier,
  };
  if (context.redirectUri !== undefined) options.redirectUri = context.redirectUri;
  const response = await send(context, tokenRequest.authorizationCode(context.provider, context.client, options));
  return readTokenResponse(context.provider, response, context.services.clock);
}

/** RFC 6749 §6; keeps the old refresh token when the response has none (the server did not rotate it). */
export async function refreshTokens(
  context: OperationContext & { refreshToken: string; scopes?: string[] },
): Promise<TokenSet> {
  const options: { refreshToken: string; scopes?: string[] } = { refreshToken: context.refreshToken };
  if (context.scopes !== undefined) options.scopes = context.scopes;
  const response = await send(context, tokenRequest.refreshToken(context.provider, context.client, options));
  const tokens = await readTokenResponse(context.provider, response, context.services.clock);
  return tokens.refreshToken === undefined ? { ...tokens, refreshToken: context.refreshToken } : tokens;
}

/** RFC 6749 §4.4. */
export async function requestClientCredentials(
  context: OperationContext & { scopes?: string[]; resource?: string },
): Promise<TokenSet> {
  const options: { scopes?: string[]; resource?: string } = {};
  if (context.scopes !== undefined) options.scopes = context.scopes;
  if (context.resource !== undefined) options.resource = context.resource;
  const response = await send(context, tokenRequest.clientCredentials(context.provider, context.client, options));
  return readTokenResponse(context.provider, response, context.services.clock);
}

/** RFC 8628 §3.1–3.2. */
export async function requestDeviceAuthorization(
  context: OperationContext & { scopes?: string[] },
): Promise<DeviceAuthorization> {
  const options: { scopes?: string[] } = {};
  if (context.scopes !== undefined) options.scopes = context.scopes;
  const response = await send(context, deviceAuthorizationRequest(context.provider, context.client, options));
  return readDeviceAuthorizationResponse(response, context.services.clock);
}

/**
 * RFC 8628 §3.4–3.5: one poll. Throws the server's `OAuthError` while the
 * user has not finished: `authorization_pending`, `slow_down`,
 * `expired_token`, `access_denied`.
 */
export async function pollDeviceToken(context: OperationContext & { deviceCode: string }): Promise<TokenSet> {
  const response = await send(context, tokenRequest.deviceCode(context.provider, context.client, { deviceCode: context.deviceCode }));
  return readTokenResponse(context.provider, response, context.services.clock);
}

/** RFC 6749 §4.3 (legacy; removed by OAuth 2.1). */
export async function requestPasswordToken(
  context: OperationContext & { username: string; password: string; scopes?: string[] },
): Promise<TokenSet> {
  const options: { username: string; password: string; scopes?: string[] } = {
    username: context.username,
    password: context.password,
  };
  if (context.scopes !== undefined) options.scopes = context.scopes;
  const response = await send(context, tokenRequest.password(context.provider, context.client, options));
  return readTokenResponse(context.provider, response, context.services.clock);
}

/** RFC 7009: resolves once the server has accepted the revocation. */
export async function revokeToken(context: OperationContext & { token: string; tokenTypeHint?: TokenTypeHint }): Promise<void> {
  const options: { token: string; tokenTypeHint?: TokenTypeHint } = { token: context.token };
  if (context.tokenTypeHint !== undefined) options.tokenTypeHint = context.tokenTypeHint;
  const response = await send(context, revocationRequest(context.provider, context.client, options));
  return readRevocationResponse(response);
}

/** RFC 7662. */
export async function introspectToken(
  context: OperationContext & { token: string; tokenTypeHint?: TokenTypeHint },
): Promise<Introspection> {
  const options: { token: string; tokenTypeHint?: TokenTypeHint } = { token: context.token };
  if (context.tokenTypeHint !== undefined) options.tokenTypeHint = context.tokenTypeHint;
  const response = await send(context, introspectionRequest(context.provider, context.client, options));
  return readIntrospectionResponse(response);
}

/**
 * OIDC Core §5.3 UserInfo, or a provider's token-info endpoint with
 * `endpoint: provider.tokenInfoEndpoint` (seed 004).
 */
export async function fetchUserinfo(
  context: OperationContext & { accessToken: string; endpoint?: string },
): Promise<Record<string, unknown>> {
  const options: { endpoint?: string; userAgent?: string } = {};
  if (context.endpoint !== undefined) options.endpoint = context.endpoint;
  if (context.client.userAgent !== undefined) options.userAgent = context.client.userAgent;
  const response = await send(context, userinfoRequest(context.provider, context.accessToken, options));
  return readUserinfoResponse(response);
}
