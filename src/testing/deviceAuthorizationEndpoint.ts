/** The device authorization endpoint (RFC 8628 §3.1, §3.2). */
import { randomValue } from './base64url.js';
import { authenticateClient } from './clientAuthentication.js';
import { bodyParams } from './requestParsing.js';
import { OAuthFailure, htmlPage, jsonResponse } from './responses.js';
import { checkScopes, parseScope } from './scopes.js';
import { DEVICE_GRANT, type ServerState } from './serverState.js';
import { createUserCode } from './tokenStore.js';

export const DEVICE_PAGE_PATH = '/device';

export function deviceAuthorizationEndpoint(state: ServerState, request: Request, body: string, issuer: string): Response {
  const { config, store, clock } = state;
  const params = bodyParams(request, body, config.quirks.jsonTokenRequests === true);
  const client = authenticateClient(state, request, params);
  if (!(client.grants as string[]).includes(DEVICE_GRANT)) {
    throw new OAuthFailure('unauthorized_client', `client ${client.clientId} may not use the device authorization grant`);
  }
  const scopes = checkScopes(state, client, parseScope(params.scope, state.config.quirks.scopeDelimiter), DEVICE_GRANT);
  const deviceCode = randomValue('dc_');
  const userCode = createUserCode();
  store.devices.set(deviceCode, {
    deviceCode,
    userCode,
    clientId: client.clientId,
    scopes,
    expiresAt: clock.now() + config.deviceCodeTtl * 1000,
    interval: config.deviceInterval,
    status: 'pending',
  });
  const verificationUri = `${issuer}${DEVICE_PAGE_PATH}`;
  return jsonResponse(200, {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
    expires_in: config.deviceCodeTtl,
    interval: config.deviceInterval,
  });
}

/** The page a user would open; approval is the test's call (`server.approveDevice`). */
export function devicePage(request: Request): Response {
  const userCode = new URL(request.url).searchParams.get('user_code');
  return htmlPage(200, 'Device sign-in', userCode === null ? 'Enter the code shown on your device.' : `Confirm the code ${userCode}.`);
}
