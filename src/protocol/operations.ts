/**
 * The build → send → check steps the machines' actors invoke. Each sends with
 * `services.fetch(url, { ...init, signal, redirect: 'manual' })`, turns a
 * failed fetch into `OAuthError` (`network_error`, `timeout`, `aborted`), a
 * redirect answer into `unexpected_redirect`, and reads the response with the
 * matching reader. Bad arguments still throw `TypeError` before
 * anything is sent.
 */
import type { DpopSession, Services } from '../services/types.js';
import { readDeviceAuthorizationResponse, deviceAuthorizationRequest, type DeviceAuthorization } from './deviceAuthorization.js';
import { OAuthError } from '../errors.js';
import { checkIdTokenClaims, decodeJwtPayload } from './idToken.js';
import type { NoPkce } from './pkce.js';
import { checkDpopTokenType } from './dpop.js';
import { introspectionRequest, readIntrospectionResponse, type Introspection } from './introspection.js';
import { resolveClientAuthMethod } from './clientAuth.js';
import { sendRequest } from './providerRequest.js';
import { pushedAuthorizationRequest, readPushedAuthorizationResponse, type PushedAuthorization } from './pushedAuthorization.js';
import { readRevocationResponse, revocationRequest } from './revocation.js';
import { tokenRequest } from './tokenRequest.js';
import { readTokenResponse } from './tokenResponse.js';
import type { ClientConfig, HttpRequest, ProviderConfig, TokenSet } from './types.js';
import { readUserinfoResponse, userinfoRequest } from './userinfo.js';
import { readTokenInfoResponse, tokenInfoRequest, type TokenInfo } from './tokenInfo.js';

/** What every operation needs: who to talk to, as whom, through which services. */
export interface OperationContext {
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  signal?: AbortSignal;
  /**
   * A DPoP-bound session (RFC 9449): every request gets a proof of its key (with the server's latest
   * nonce), and a token answered must be of type `DPoP`.
   */
  dpop?: DpopSession;
}

type TokenTypeHint = 'access_token' | 'refresh_token' | (string & {});

/** Whether the client sends credentials (RFC 6749 §2.3) with its requests: what a bodiless 401/403 is judged by. */
function clientAuthenticated(context: OperationContext): boolean {
  return resolveClientAuthMethod(context.provider, context.client) !== 'none';
}

/**
 * Sends a built request with the context's fetch and signal (never following a redirect, see
 * `sendRequest`): its JWT client assertion signed first when it has one (a new assertion, with a new
 * `jti`, for every send), and in a DPoP-bound session with a proof (`accessToken`: the token the
 * request presents, for `ath`), keeping the `DPoP-Nonce` the answer carries, an error's included.
 */
export async function send(context: OperationContext, request: HttpRequest, accessToken?: string): Promise<Response> {
  // The signing code and `jose` load on first use (a chunk of their own in a split bundle).
  const signed =
    request.clientAssertion === undefined ? request : await (await import('./clientAssertion.js')).signClientAssertion(context, request);
  const dpop = context.dpop;
  if (dpop === undefined) return sendRequest(context.services.fetch, signed, context.signal);
  const headers = { ...signed.init.headers };
  headers['DPoP'] = await dpop.proof(context.provider.dpopSigningAlgValuesSupported, context.services, {
    method: signed.init.method,
    url: signed.url,
    ...(accessToken === undefined ? {} : { accessToken }),
  });
  const response = await sendRequest(context.services.fetch, { url: signed.url, init: { ...signed.init, headers } }, context.signal);
  dpop.rememberNonce(signed.url, response);
  return response;
}

/**
 * What an ID token in a token response is checked against (OIDC Core
 * §3.1.3.7), beyond the client id and the clock every check uses.
 */
export interface IdTokenCheck {
  /** The nonce sent in the authorization request; the ID token must carry it (`nonce_mismatch` otherwise). */
  nonce?: string;
  /** The issuer `iss` must equal; default `provider.issuer`. Without either, `iss` is not compared. */
  issuer?: string;
}

/** A refresh also compares the refreshed ID token with the one it replaces (OIDC Core §12.2). */
interface RefreshedIdTokenCheck extends IdTokenCheck {
  previous?: string;
}

/**
 * Checks the ID token of a token response, if it has one: issuer, audience,
 * authorized party and expiry always, the nonce when one was sent, the same
 * subject and issuer as `previous` on a refresh, and its signature whenever
 * the provider's key set is known (`provider.jwksUri`: see
 * `verifyIdTokenSignature`). Without one, the token endpoint's TLS stands in
 * for the signature (OIDC Core §3.1.3.7 item 6). Every grant's tokens pass here.
 */
async function checkReturnedIdToken(context: OperationContext, tokens: TokenSet, check: RefreshedIdTokenCheck, sentAt: number): Promise<void> {
  // OIDC Core §3.1.3.3 requires an ID token in the response to an `openid` request, but some servers omit it
  // (and OIDC Core §12.2 lets a refresh response omit it): nothing to check then, and the tokens are still good.
  if (tokens.idToken === undefined) return;
  const claims = checkIdTokenClaims(tokens.idToken, {
    issuer: idTokenIssuer(context.provider, check.issuer ?? context.provider.issuer, tokens.idToken),
    clientId: context.client.clientId,
    nonce: check.nonce,
    // The response answers a request sent at `sentAt`: its ID token cannot be older than that, so a clock that
    // jumped while the request was under way (a laptop waking) does not refuse tokens the server already issued.
    now: Math.min(sentAt, context.services.clock.now()),
  });
  // Whenever the provider's key set is known. The verifier and `jose` load on first use (their own chunk in a split bundle).
  if (context.provider.jwksUri !== undefined) {
    const { verifyIdTokenSignature } = await import('./idTokenSignature.js');
    await verifyIdTokenSignature(context, tokens.idToken);
  }
  if (check.previous === undefined) return;
  let before: Record<string, unknown>;
  try {
    before = decodeJwtPayload(check.previous);
  } catch {
    return; // not ours to judge now: the previous token was checked when it arrived
  }
  // OIDC Core §12.2: a refreshed ID token is about the same end-user, from the same issuer.
  if (before.sub !== claims.sub || before.iss !== claims.iss) {
    throw new OAuthError('invalid_id_token', {
      description: 'the refreshed ID token names another subject or issuer than the one it replaces',
      retryable: false,
    });
  }
}

/**
 * The issuer `iss` must equal: the provider's, or what its
 * `quirks.idTokenIssuer` makes of it for this token. A mapping that throws
 * leaves the template, which no `iss` equals: the token is refused.
 */
function idTokenIssuer(provider: ProviderConfig, issuer: string | undefined, idToken: string): string | undefined {
  const map = provider.quirks?.idTokenIssuer;
  try {
    return map === undefined || issuer === undefined ? issuer : map(issuer, decodeJwtPayload(idToken));
  } catch {
    return issuer;
  }
}

/** Sends a token request and reads its answer: the one way every grant gets a `TokenSet`. */
async function requestTokens(context: OperationContext, request: HttpRequest, check: RefreshedIdTokenCheck = {}): Promise<TokenSet> {
  const sentAt = context.services.clock.now();
  const response = await send(context, request);
  const tokens = await readTokenResponse(context.provider, response, context.services.clock, { clientAuthenticated: clientAuthenticated(context) });
  if (context.dpop !== undefined) checkDpopTokenType(tokens.tokenType);
  await checkReturnedIdToken(context, tokens, check, sentAt);
  return tokens;
}

/**
 * RFC 6749 §4.1.3: the authorization code and its PKCE verifier for tokens.
 * An `id_token` in the response is checked against the issuer and client id
 * (OIDC Core §3.1.3.7) and, with `idToken.nonce`, the nonce that was sent; a
 * failure throws `nonce_mismatch` / `invalid_id_token` (`invalid_response`
 * for one that does not decode). A response without one is accepted. Its
 * signature is verified when the provider's key set is known
 * (`provider.jwksUri`); otherwise the token endpoint's TLS stands in for it
 * (§3.1.3.7 item 6).
 */
export async function exchangeAuthorizationCode(
  context: OperationContext & {
    code: string;
    codeVerifier: string | NoPkce;
    redirectUri?: string;
    idToken?: IdTokenCheck;
    /** Extra token-request parameters (`scope`, `audience`…); never one the library sets. */
    extraParams?: Record<string, string>;
  },
): Promise<TokenSet> {
  const options: Parameters<typeof tokenRequest.authorizationCode>[2] = {
    code: context.code,
    codeVerifier: context.codeVerifier,
  };
  if (context.redirectUri !== undefined) options.redirectUri = context.redirectUri;
  if (context.extraParams !== undefined) options.extraParams = context.extraParams;
  return requestTokens(context, tokenRequest.authorizationCode(context.provider, context.client, options), context.idToken);
}

/**
 * RFC 6749 §6; keeps the old refresh token when the response has none (the server did not rotate it).
 * An `id_token` in the response is checked for issuer (`idToken.issuer`, default `provider.issuer`),
 * audience and expiry — no nonce (OIDC Core §12.2) — and, when `idToken.previous` is the ID token it
 * replaces, for the same `sub` and `iss`.
 */
export async function refreshTokens(
  context: OperationContext & {
    refreshToken: string;
    scopes?: string[];
    idToken?: { issuer?: string; previous?: string };
    /** Extra token-request parameters; never one the library sets. */
    extraParams?: Record<string, string>;
  },
): Promise<TokenSet> {
  const options: Parameters<typeof tokenRequest.refreshToken>[2] = { refreshToken: context.refreshToken };
  if (context.scopes !== undefined) options.scopes = context.scopes;
  if (context.extraParams !== undefined) options.extraParams = context.extraParams;
  const check: RefreshedIdTokenCheck = {};
  if (context.idToken?.issuer !== undefined) check.issuer = context.idToken.issuer;
  if (context.idToken?.previous !== undefined) check.previous = context.idToken.previous;
  const tokens = await requestTokens(context, tokenRequest.refreshToken(context.provider, context.client, options), check);
  return tokens.refreshToken === undefined ? { ...tokens, refreshToken: context.refreshToken } : tokens;
}

/** RFC 6749 §4.4; an `id_token` in the response is checked like every grant's. */
export async function requestClientCredentials(
  context: OperationContext & { scopes?: string[]; resource?: string; extraParams?: Record<string, string> },
): Promise<TokenSet> {
  const options: { scopes?: string[]; resource?: string; extraParams?: Record<string, string> } = {};
  if (context.scopes !== undefined) options.scopes = context.scopes;
  if (context.resource !== undefined) options.resource = context.resource;
  if (context.extraParams !== undefined) options.extraParams = context.extraParams;
  return requestTokens(context, tokenRequest.clientCredentials(context.provider, context.client, options));
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
 * `expired_token`, `access_denied`. An `id_token` in the response is checked
 * like every grant's (no nonce: none was sent).
 */
export async function pollDeviceToken(context: OperationContext & { deviceCode: string }): Promise<TokenSet> {
  return requestTokens(context, tokenRequest.deviceCode(context.provider, context.client, { deviceCode: context.deviceCode }));
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
  return requestTokens(context, tokenRequest.password(context.provider, context.client, options));
}

/**
 * RFC 9126 §2: pushes an authorization request's parameters (see
 * `authorizationRequestParams`) with the client's authentication; resolves with
 * the `request_uri` to send the user agent with, and when it expires.
 */
export async function pushAuthorizationRequest(
  context: OperationContext & { params: readonly (readonly [string, string])[] },
): Promise<PushedAuthorization> {
  const response = await send(context, pushedAuthorizationRequest(context.provider, context.client, context.params));
  return readPushedAuthorizationResponse(response, context.services.clock, {
    provider: context.provider,
    endpoint: 'pushedAuthorizationRequest',
    clientAuthenticated: clientAuthenticated(context),
  });
}

/** RFC 7009: resolves once the server has accepted the revocation. */
export async function revokeToken(context: OperationContext & { token: string; tokenTypeHint?: TokenTypeHint }): Promise<void> {
  const options: { token: string; tokenTypeHint?: TokenTypeHint } = { token: context.token };
  if (context.tokenTypeHint !== undefined) options.tokenTypeHint = context.tokenTypeHint;
  const response = await send(context, revocationRequest(context.provider, context.client, options));
  return readRevocationResponse(response, context.services.clock, {
    provider: context.provider,
    endpoint: 'revocation',
    clientAuthenticated: clientAuthenticated(context),
  });
}

/** RFC 7662. */
export async function introspectToken(
  context: OperationContext & { token: string; tokenTypeHint?: TokenTypeHint },
): Promise<Introspection> {
  const options: { token: string; tokenTypeHint?: TokenTypeHint } = { token: context.token };
  if (context.tokenTypeHint !== undefined) options.tokenTypeHint = context.tokenTypeHint;
  const response = await send(context, introspectionRequest(context.provider, context.client, options));
  return readIntrospectionResponse(response, context.services.clock, {
    provider: context.provider,
    endpoint: 'introspection',
    clientAuthenticated: clientAuthenticated(context),
  });
}

/**
 * OIDC Core §5.3 UserInfo, or a provider's token-info endpoint with
 * `endpoint: provider.tokenInfoEndpoint` (a non-standard `GET` describing the bearer token).
 */
export async function fetchUserinfo(
  context: OperationContext & { accessToken: string; endpoint?: string },
): Promise<Record<string, unknown>> {
  const options: { endpoint?: string; userAgent?: string } = {};
  if (context.endpoint !== undefined) options.endpoint = context.endpoint;
  if (context.client.userAgent !== undefined) options.userAgent = context.client.userAgent;
  const response = await send(context, userinfoRequest(context.provider, context.accessToken, options));
  return readUserinfoResponse(response, context.services.clock);
}

/** The provider's token-info endpoint (`provider.tokenInfoEndpoint`) about `accessToken`, typed (see `readTokenInfoResponse`). */
export async function fetchTokenInfo(context: OperationContext & { accessToken: string }): Promise<TokenInfo> {
  const options: { userAgent?: string } = {};
  if (context.client.userAgent !== undefined) options.userAgent = context.client.userAgent;
  const response = await send(context, tokenInfoRequest(context.provider, context.accessToken, options));
  return readTokenInfoResponse(response, context.services.clock);
}
