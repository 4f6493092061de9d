/**
 * Pushed authorization requests (RFC 9126): the authorization request's
 * parameters go to the server in an authenticated POST, and the user agent is
 * sent with only the `request_uri` the server answers.
 */
import * as v from 'valibot';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody, type ErrorContext } from './errorResponse.js';
import { buildAuthenticatedPost } from './providerRequest.js';
import { configurationError } from './providerRules.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from './types.js';

/** What the server answered to a pushed authorization request (RFC 9126 §2.2). */
export interface PushedAuthorization {
  /** The reference to the pushed request, sent to the authorization endpoint in its place. */
  requestUri: string;
  /** Epoch ms after which the server no longer accepts `requestUri`: the user must be sent before. */
  expiresAt: number;
}

// RFC 9126 §2.2: `request_uri` (a URI, oidc-provider's and most are `urn:ietf:params:oauth:request_uri:…`)
// and `expires_in`, a positive integer of seconds.
const PushedAuthorizationSchema = v.looseObject({
  request_uri: v.pipe(v.string(), v.minLength(1), v.maxLength(2048), v.regex(/^[\x21-\x7e]+$/)),
  expires_in: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400)),
});

/**
 * Whether a login pushes its authorization request: always when the server
 * requires it (`requirePushedAuthorizationRequests`), else when the client asks
 * to (`wanted`). Throws `configuration_error` before anything is sent when a
 * push is due and the provider names no endpoint for it.
 */
export function pushesAuthorizationRequests(provider: ProviderConfig, wanted: boolean): boolean {
  const required = provider.requirePushedAuthorizationRequests === true;
  if (!required && !wanted) return false;
  if (provider.pushedAuthorizationRequestEndpoint === undefined || provider.pushedAuthorizationRequestEndpoint === '') {
    throw configurationError(
      required
        ? 'the provider requires pushed authorization requests (RFC 9126) but names no pushed_authorization_request_endpoint'
        : 'options.pushedAuthorizationRequests is on but the provider names no pushed_authorization_request_endpoint',
    );
  }
  return true;
}

/**
 * RFC 9126 §2.1: the authorization request's parameters (from
 * `authorizationRequestParams`), form-encoded in a POST to the pushed authorization
 * request endpoint with the client's authentication, as at the token endpoint.
 */
export function pushedAuthorizationRequest(
  provider: ProviderConfig,
  client: ClientConfig,
  params: readonly (readonly [string, string])[],
): HttpRequest {
  const body: Record<string, string> = {};
  for (const [name, value] of params) {
    // RFC 9126 §2.1: `request_uri` is not allowed in a pushed request.
    if (name === 'request_uri') throw new TypeError('a pushed authorization request cannot carry request_uri');
    body[name] = value;
  }
  return buildAuthenticatedPost(provider, client, 'pushedAuthorizationRequest', body);
}

/**
 * Reads RFC 9126 §2.2's answer: `201 Created` with `request_uri` and
 * `expires_in`, which sets `expiresAt` by `clock`. An error status is the
 * server's `OAuthError` (§2.3: `invalid_request`, `invalid_client`, a 413 or 429
 * without a body…); any other answer, a 200 included, is `invalid_response`.
 */
export async function readPushedAuthorizationResponse(
  response: Response,
  clock: TimeSource,
  answered?: ErrorContext,
): Promise<PushedAuthorization> {
  if (!response.ok) throw await readErrorResponse(response, clock, answered);
  if (response.status !== 201) {
    await response.body?.cancel().catch(() => undefined);
    throw new OAuthError('invalid_response', {
      description: `the pushed authorization request was answered ${response.status}, not 201 Created (RFC 9126 §2.2)`,
      status: response.status,
    });
  }
  const body = await readJsonBody(response);
  const result = v.safeParse(PushedAuthorizationSchema, body);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join('.') ?? 'body';
    throw new OAuthError('invalid_response', {
      description: `the pushed authorization response has an invalid ${where}: ${issue.message}`,
      status: response.status,
      cause: body,
    });
  }
  return { requestUri: result.output.request_uri, expiresAt: clock.now() + result.output.expires_in * 1000 };
}
