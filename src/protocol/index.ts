/**
 * The OAuth protocol core: pure builders and checkers, and the operations
 * that send them through the services.
 */
export { OAuthError, isOAuthError, isRetryable } from '../errors.js';
export type { OAuthErrorCode, OAuthErrorJSON, OAuthErrorOptions, LibraryErrorCode, ServerErrorCode } from '../errors.js';
export type {
  ClientAuthMethod,
  ClientConfig,
  GrantType,
  HttpRequest,
  PkceMethod,
  ProviderConfig,
  ProviderQuirks,
  TokenSet,
} from './types.js';

export { base64urlDecode, base64urlEncode } from './base64url.js';
export { createNonce, createState, randomToken } from './random.js';
export { createCodeChallenge, createCodeVerifier, createPkce, pkceMethodWireName, type Pkce } from './pkce.js';
export { resolveEndpoint, type EndpointName } from './endpoints.js';
export { buildAuthorizationUrl, type AuthorizationUrlOptions } from './authorizationUrl.js';
export { checkCallback, parseCallback, type CallbackExpectation, type CallbackResult } from './callback.js';
export { applyClientAuth, basicCredentials } from './clientAuth.js';
export { DEVICE_CODE_GRANT_TYPE, tokenRequest } from './tokenRequest.js';
export { MIN_EXPIRES_IN_SECONDS, parseTokenResponseBody, readTokenResponse } from './tokenResponse.js';
export { readErrorResponse, readJsonBody } from './errorResponse.js';
export { discover, type DiscoveryKind, type DiscoveryOptions } from './discovery.js';
export {
  deviceAuthorizationRequest,
  readDeviceAuthorizationResponse,
  type DeviceAuthorization,
} from './deviceAuthorization.js';
export { readRevocationResponse, revocationRequest } from './revocation.js';
export { introspectionRequest, readIntrospectionResponse, type Introspection } from './introspection.js';
export { readUserinfoResponse, userinfoRequest } from './userinfo.js';
export { checkIdTokenClaims, decodeJwtPayload, type IdTokenClaims, type IdTokenExpectation } from './idToken.js';
export {
  exchangeAuthorizationCode,
  fetchUserinfo,
  introspectToken,
  pollDeviceToken,
  refreshTokens,
  requestClientCredentials,
  requestDeviceAuthorization,
  requestPasswordToken,
  revokeToken,
  type IdTokenCheck,
  type OperationContext,
} from './operations.js';
