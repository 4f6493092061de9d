/**
 * `oauth-machines/protocol`: the OAuth protocol core without any machine —
 * pure builders and checkers (PKCE, the authorization URL, callbacks, token
 * and other requests, every response reader, client authentication,
 * `WWW-Authenticate`, ID-token claims and signatures), and the operations that send them
 * through the services. The machines of the main entry are built on these.
 */

// The error every reader throws (also on the main entry).
export { OAuthError, isOAuthError, isRetryable } from '../errors.js';
export type { OAuthErrorCode, OAuthErrorJSON, OAuthErrorOptions, LibraryErrorCode, ServerErrorCode } from '../errors.js';
export type {
  ClientAuthMethod,
  ClientConfig,
  ErrorAnswer,
  GrantType,
  HttpRequest,
  Jwk,
  PkceMethod,
  PrivateKey,
  ProviderConfig,
  ProviderQuirks,
  TokenSet,
  WebCryptoKey,
} from './types.js';
// The service interfaces the functions take (also on the main entry).
export type { CryptoService, FetchLike, Services, TimeSource } from '../services/types.js';

// Building blocks: base64url, random values, PKCE (RFC 7636), endpoint resolution.
export { base64urlDecode, base64urlEncode } from './base64url.js';
export { createNonce, createState, randomToken } from './random.js';
export {
  createCodeChallenge,
  createCodeVerifier,
  createPkce,
  nopkce,
  pkceMethodWireName,
  type NoPkce,
  type Pkce,
  type PkceChallengeEncoding,
} from './pkce.js';
export { runtimeSetsUserAgent, usesRequestObject } from './providerRules.js';
export { resolveEndpoint, type EndpointName } from './endpoints.js';
// Requests and their checks: authorization URL, callback, client authentication, token requests.
export {
  authorizationRequestParams,
  buildAuthorizationUrl,
  buildPushedAuthorizationUrl,
  type AuthorizationUrlOptions,
} from './authorizationUrl.js';
export { buildEndSessionUrl, type EndSessionUrlOptions } from './endSession.js';
export { checkCallback, parseCallback, type CallbackExpectation, type CallbackResult } from './callback.js';
export { applyClientAuth, basicCredentials, clientAssertionAudience, resolveClientAuthMethod } from './clientAuth.js';
export { CLIENT_ASSERTION_TYPE, signClientAssertion } from './clientAssertion.js';
export { createClientAssertion } from './clientKeySigning.js';
export { signAuthorizationRequest } from './requestObject.js';
export { DEVICE_CODE_GRANT_TYPE, tokenRequest } from './tokenRequest.js';
// Response readers: tokens, errors (with WWW-Authenticate and Retry-After), discovery, device authorization,
// revocation, introspection, userinfo, and the ID token's claims.
export { MIN_EXPIRES_IN_SECONDS, parseTokenResponseBody, readTokenResponse } from './tokenResponse.js';
export { readErrorResponse, readJsonBody } from './errorResponse.js';
export { parseWwwAuthenticate } from './wwwAuthenticate.js';
export { parseRetryAfter } from './retryAfter.js';
export { discover, type DiscoveryKind, type DiscoveryOptions } from './discovery.js';
export {
  deviceAuthorizationRequest,
  readDeviceAuthorizationResponse,
  type DeviceAuthorization,
} from './deviceAuthorization.js';
export {
  pushedAuthorizationRequest,
  pushesAuthorizationRequests,
  readPushedAuthorizationResponse,
  type PushedAuthorization,
} from './pushedAuthorization.js';
export { readRevocationResponse, revocationRequest } from './revocation.js';
export {
  DPOP_ALGORITHMS,
  checkDpopTokenType,
  chooseDpopAlgorithm,
  createDpopProof,
  createDpopSession,
  dpop,
  dpopKeyThumbprint,
  dpopNonceOf,
  dpopTargetUri,
  generateDpopKey,
  publicJwk,
  type DpopAlgorithm,
  type DpopKey,
  type DpopOptions,
  type DpopProofClaims,
  type DpopService,
  type DpopSession,
} from './dpop.js';
export { introspectionRequest, readIntrospectionResponse, type Introspection } from './introspection.js';
export { readUserinfoResponse, userinfoRequest } from './userinfo.js';
export { readTokenInfoResponse, tokenInfoRequest, type TokenInfo } from './tokenInfo.js';
export { checkIdTokenClaims, decodeJwtPayload, type IdTokenClaims, type IdTokenExpectation } from './idToken.js';
export { allowedIdTokenAlgorithms, verifyIdTokenSignature } from './idTokenSignature.js';
export { fetchJwks, type JsonWebKeySet } from './jwks.js';
// Operations: build → send through services.fetch → read, as the machines' actors call them.
export {
  exchangeAuthorizationCode,
  fetchTokenInfo,
  fetchUserinfo,
  introspectToken,
  pollDeviceToken,
  pushAuthorizationRequest,
  refreshTokens,
  requestClientCredentials,
  requestDeviceAuthorization,
  requestPasswordToken,
  revokeToken,
  type IdTokenCheck,
  type OperationContext,
} from './operations.js';
