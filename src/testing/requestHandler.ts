/**
 * The one request handler behind both faces (in-memory fetch and loopback
 * HTTP): routing, CORS, the User-Agent quirk, injected faults and the log.
 */
import { authorizationEndpoint } from './authorizationEndpoint.js';
import { DEVICE_PAGE_PATH, deviceAuthorizationEndpoint, devicePage } from './deviceAuthorizationEndpoint.js';
import { delay, faultName, faultResponse, takeFault } from './faults.js';
import { endSessionEndpoint } from './endSessionEndpoint.js';
import { endpointBasePath } from './issuerQuirks.js';
import { serverMetadata } from './metadata.js';
import { tokenResponseQuirks } from './tokenResponseQuirks.js';
import { clientIdForLog, loggedHeaders, paramsForLog, redactParams } from './redaction.js';
import { OAuthFailure, htmlPage, jsonResponse, oauthErrorResponse } from './responses.js';
import type { PathEndpoint, ServerState } from './serverState.js';
import { tokenEndpoint } from './tokenEndpoint.js';
import { introspectionEndpoint, revocationEndpoint, tokenInfoEndpoint, userinfoEndpoint } from './tokenUseEndpoints.js';
import type { AuthorizationDecision, TestEndpoint, TestLogEntry } from './types.js';

/** The handler's answer when an injected fault drops the connection. */
export const DROPPED: unique symbol = Symbol('dropped');
export type HandlerResult = Response | typeof DROPPED;

type Route =
  | { endpoint: PathEndpoint }
  | { endpoint: 'metadata'; document: 'metadata' | 'jwks' }
  | { endpoint: 'other'; page: 'device' | 'not_found' };

function route(state: ServerState, url: URL, issuer: string): Route {
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  const basePath = endpointBasePath(state, issuer);
  const path = url.pathname;
  // RFC 8414 §3.1: the well-known segment goes between host and issuer path; OIDC Discovery §4 appends it.
  const oauthMetadata = state.config.quirks.openidDiscoveryOnly !== true && path === `/.well-known/oauth-authorization-server${issuerPath}`;
  if (oauthMetadata || path === `${issuerPath}/.well-known/openid-configuration`) {
    return { endpoint: 'metadata', document: 'metadata' };
  }
  if (path === `${issuerPath}/jwks`) return { endpoint: 'metadata', document: 'jwks' };
  for (const [endpoint, endpointPath] of Object.entries(state.config.paths) as [PathEndpoint, string | null][]) {
    if (endpointPath !== null && path === `${basePath}${endpointPath}`) return { endpoint };
  }
  if (path === `${issuerPath}${DEVICE_PAGE_PATH}`) return { endpoint: 'other', page: 'device' };
  return { endpoint: 'other', page: 'not_found' };
}

/** Endpoints a browser app calls with fetch (the authorization endpoint is navigated to instead). */
const CROSS_ORIGIN: ReadonlySet<TestEndpoint | 'other'> = new Set([
  'token', 'revoke', 'introspect', 'userinfo', 'device_authorization', 'metadata', 'token_info',
]);

/** Back-channel endpoints, where the User-Agent quirk applies (as at Path of Exile). */
/** The endpoints whose OAuth errors `quirks.bodilessErrors` answers without a body. */
const BODILESS_ERRORS: ReadonlySet<TestEndpoint | 'other'> = new Set(['token', 'revoke', 'introspect']);

const BACK_CHANNEL: ReadonlySet<TestEndpoint | 'other'> = new Set([
  'token', 'revoke', 'introspect', 'userinfo', 'device_authorization', 'token_info',
]);

/** CORS headers for an Origin that is the origin of a registered redirect URI, else none. */
function corsHeaders(state: ServerState, request: Request): Record<string, string> {
  const origin = request.headers.get('origin');
  if (origin === null) return {};
  for (const client of state.clients.values()) {
    for (const uri of client.redirectUris) {
      let redirectOrigin: string | undefined;
      try {
        redirectOrigin = new URL(uri).origin;
      } catch {
        redirectOrigin = undefined;
      }
      if (redirectOrigin === origin) {
        return {
          'access-control-allow-origin': origin,
          'access-control-expose-headers': 'www-authenticate',
          vary: 'Origin',
        };
      }
    }
  }
  return {};
}

function errorOf(response: Response, thrown: OAuthFailure | undefined): string | undefined {
  if (thrown) return thrown.code;
  const location = response.headers.get('location');
  if (location !== null) {
    try {
      return new URL(location).searchParams.get('error') ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function dispatch(
  state: ServerState,
  request: Request,
  issuer: string,
  target: Route,
  body: string,
  injectedDecision: AuthorizationDecision | undefined,
): Promise<Response> {
  switch (target.endpoint) {
    case 'metadata':
      if (request.method !== 'GET') throw new OAuthFailure('invalid_request', 'metadata takes GET', 405, { allow: 'GET' });
      return target.document === 'jwks'
        ? jsonResponse(200, { keys: [] })
        : jsonResponse(200, serverMetadata(state, issuer), { 'cache-control': 'no-cache' });
    case 'other':
      return target.page === 'device' ? devicePage(request) : htmlPage(404, 'Not found', new URL(request.url).pathname);
    case 'authorize':
      return authorizationEndpoint(state, request, issuer, injectedDecision);
    case 'userinfo':
      return userinfoEndpoint(state, request);
    case 'token_info':
      return tokenInfoEndpoint(state, request);
    case 'end_session':
      return endSessionEndpoint(state, request, issuer);
    default:
      break;
  }
  if (request.method !== 'POST') throw new OAuthFailure('invalid_request', `the ${target.endpoint} endpoint takes POST`, 405, { allow: 'POST' });
  switch (target.endpoint) {
    case 'token':
      return tokenEndpoint(state, request, body, issuer);
    case 'revoke':
      return revocationEndpoint(state, request, body);
    case 'introspect':
      return introspectionEndpoint(state, request, body, issuer);
    default:
      return deviceAuthorizationEndpoint(state, request, body, issuer);
  }
}

/**
 * Answers one request as the server at `issuer` (the face's own base URL).
 * `signal` aborts an injected delay; the faces decide what an abort means.
 */
export async function handleRequest(state: ServerState, request: Request, issuer: string, signal?: AbortSignal): Promise<HandlerResult> {
  const url = new URL(request.url);
  const target = route(state, url, issuer);
  const cors = CROSS_ORIGIN.has(target.endpoint) ? corsHeaders(state, request) : {};

  if (request.method === 'OPTIONS') {
    // CORS preflight (Fetch standard): not a protocol request, so neither logged nor faulted.
    return new Response(null, {
      status: 204,
      headers: {
        ...cors,
        ...(cors['access-control-allow-origin'] === undefined
          ? {}
          : {
              'access-control-allow-methods': 'GET, POST',
              'access-control-allow-headers': 'authorization, content-type',
              'access-control-max-age': '600',
            }),
      },
    });
  }

  // Read once: endpoints and the log share the text (cloning a body stream costs more than the rest of a request).
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  const params = paramsForLog(request, body);
  const keep = state.config.logSecrets;
  const clientId = clientIdForLog(request, params);
  const entry: TestLogEntry = {
    at: state.clock.now(),
    endpoint: target.endpoint,
    method: request.method,
    ...(params.grant_type === undefined ? {} : { grantType: params.grant_type }),
    ...(clientId === undefined ? {} : { clientId }),
    params: redactParams(params, keep),
    headers: loggedHeaders(request, keep),
    status: 0,
  };
  state.log.push(entry);

  let injectedDecision: AuthorizationDecision | undefined;
  const faultEndpoint = target.endpoint === 'other' ? undefined : target.endpoint;
  const fault = faultEndpoint === undefined ? undefined : takeFault(state, faultEndpoint);
  if (fault && faultEndpoint !== undefined) {
    entry.fault = faultName(fault);
    if ('delayMs' in fault) await delay(fault.delayMs, signal);
    else if ('drop' in fault) return DROPPED;
    else if ('oauthError' in fault && target.endpoint === 'authorize') {
      // At the authorization endpoint an OAuth error is an error redirect (RFC 6749 §4.1.2.1).
      injectedDecision = { error: fault.oauthError, ...(fault.description === undefined ? {} : { errorDescription: fault.description }) };
    } else {
      const response = faultResponse(faultEndpoint, fault);
      if (response) return finish(entry, response, cors, undefined);
    }
  }

  let thrown: OAuthFailure | undefined;
  let response: Response;
  try {
    const pattern = state.config.quirks.userAgentPattern;
    if (pattern && BACK_CHANNEL.has(target.endpoint) && !pattern.test(request.headers.get('user-agent') ?? '')) {
      throw new OAuthFailure('invalid_request', 'the User-Agent header does not have the required format');
    }
    response = await dispatch(state, request, issuer, target, body, injectedDecision);
  } catch (error) {
    if (!(error instanceof OAuthFailure)) throw error;
    thrown = error;
    response =
      state.config.quirks.bodilessErrors === true && BODILESS_ERRORS.has(target.endpoint)
        ? new Response(null, { status: error.status, headers: { 'cache-control': 'no-store', ...error.headers } })
        : oauthErrorResponse(error);
  }
  if (target.endpoint === 'token' || target.endpoint === 'device_authorization') response = await tokenResponseQuirks(state, request, response);
  return finish(entry, response, cors, thrown);
}

function finish(entry: TestLogEntry, response: Response, cors: Record<string, string>, thrown: OAuthFailure | undefined): Response {
  for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
  entry.status = response.status;
  const error = errorOf(response, thrown);
  if (error !== undefined) entry.error = error;
  return response;
}
