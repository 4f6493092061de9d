/**
 * The device authorization request and response (RFC 8628 §3.1, §3.2).
 */
import * as v from 'valibot';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import { isSecureUrl } from './endpoints.js';
import { buildAuthenticatedPost } from './providerRequest.js';
import { assertScopesAllowed, assertScopeSyntax } from './scopeGrants.js';
import { DEVICE_CODE_GRANT_TYPE } from './tokenRequest.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from './types.js';

/** What the user is shown and what the client polls with. */
import type { DeviceAuthorization } from '../session/blob.js';

export type { DeviceAuthorization };

/** RFC 8628 §3.2: the polling interval when the server gives none. */
const DEFAULT_INTERVAL_SECONDS = 5;

const NonEmptyString = v.pipe(v.string(), v.minLength(1));
const Seconds = v.union([
  v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e9)),
  v.pipe(v.string(), v.regex(/^\d{1,9}$/), v.transform(Number)),
]);
// Any number, so that one below a second can fall back to the default rather than fail the response.
const IntervalSeconds = v.union([
  v.pipe(v.number(), v.finite(), v.maxValue(1e9)),
  v.pipe(v.string(), v.regex(/^\d{1,9}$/), v.transform(Number)),
]);

/**
 * The app shows this address to the user or opens it: only a web page, over
 * TLS except on loopback, never `javascript:`, `data:` or a relative path.
 */
const VerificationUri = v.pipe(
  v.string(),
  v.check((value) => URL.canParse(value) && isSecureUrl(new URL(value)), 'not an https URL (http only on loopback)'),
);

const DeviceAuthorizationSchema = v.looseObject({
  device_code: NonEmptyString,
  user_code: NonEmptyString,
  verification_uri: v.optional(VerificationUri),
  // Some servers (Google) spell it verification_url.
  verification_url: v.optional(VerificationUri),
  verification_uri_complete: v.nullish(VerificationUri),
  expires_in: Seconds,
  interval: v.nullish(IntervalSeconds),
});

/** RFC 8628 §3.1: client authentication plus `scope` (default `client.scopes`). */
export function deviceAuthorizationRequest(
  provider: ProviderConfig,
  client: ClientConfig,
  options: { scopes?: string[] } = {},
): HttpRequest {
  const scopes = options.scopes ?? client.scopes ?? [];
  assertScopeSyntax(scopes);
  assertScopesAllowed(provider, DEVICE_CODE_GRANT_TYPE, scopes);
  const params: Record<string, string> = {};
  if (scopes.length > 0) params['scope'] = scopes.join(' ');
  return buildAuthenticatedPost(provider, client, 'deviceAuthorization', params);
}

/** Reads RFC 8628 §3.2's response; an error status becomes the server's `OAuthError`. */
export async function readDeviceAuthorizationResponse(response: Response, clock: TimeSource): Promise<DeviceAuthorization> {
  if (!response.ok) throw await readErrorResponse(response, clock);
  const body = await readJsonBody(response);
  const result = v.safeParse(DeviceAuthorizationSchema, body);
  const fields = result.success ? result.output : undefined;
  const verificationUri = fields?.verification_uri ?? fields?.verification_url;
  if (fields === undefined || verificationUri === undefined) {
    throw new OAuthError('invalid_response', {
      description: result.success ? 'the device authorization response has no verification_uri' : `the device authorization response is invalid: ${result.issues[0].message}`,
      status: response.status,
      cause: body,
    });
  }
  const authorization: DeviceAuthorization = {
    deviceCode: fields.device_code,
    userCode: fields.user_code,
    verificationUri,
    expiresAt: Math.floor(clock.now() + fields.expires_in * 1000),
    // RFC 8628 §3.2: the default applies when the server names none; below a second is none worth polling at.
    interval: fields.interval !== undefined && fields.interval !== null && fields.interval >= 1 ? fields.interval : DEFAULT_INTERVAL_SECONDS,
  };
  if (fields.verification_uri_complete !== undefined && fields.verification_uri_complete !== null) {
    authorization.verificationUriComplete = fields.verification_uri_complete;
  }
  return authorization;
}
