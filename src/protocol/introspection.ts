/**
 * Token introspection (RFC 7662).
 */
import * as v from 'valibot';
import { systemClock } from '../services/clock.js';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody, type ErrorContext } from './errorResponse.js';
import { buildAuthenticatedPost, tokenReferenceParams, type TokenReference } from './providerRequest.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from './types.js';

/** RFC 7662 §2.2: `active`, the registered fields when present, and any extras as sent. */
export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  [extra: string]: unknown;
}

const NumericDate = v.pipe(v.number(), v.finite());

const IntrospectionSchema = v.looseObject({
  active: v.boolean(),
  scope: v.exactOptional(v.string()),
  client_id: v.exactOptional(v.string()),
  username: v.exactOptional(v.string()),
  token_type: v.exactOptional(v.string()),
  exp: v.exactOptional(NumericDate),
  iat: v.exactOptional(NumericDate),
  nbf: v.exactOptional(NumericDate),
  sub: v.exactOptional(v.string()),
  aud: v.exactOptional(v.union([v.string(), v.array(v.string())])),
  iss: v.exactOptional(v.string()),
  jti: v.exactOptional(v.string()),
});

/** RFC 7662 §2.1: the token, an optional hint, and client authentication. */
export function introspectionRequest(
  provider: ProviderConfig,
  client: ClientConfig,
  options: TokenReference,
): HttpRequest {
  return buildAuthenticatedPost(provider, client, 'introspection', tokenReferenceParams(options));
}

/**
 * Reads RFC 7662 §2.2's response; `active` must be a boolean, the registered fields well typed.
 * An error status is the server's `OAuthError` (a `Retry-After` measured against `clock`).
 */
export async function readIntrospectionResponse(
  response: Response,
  clock: TimeSource = systemClock,
  answered?: ErrorContext,
): Promise<Introspection> {
  if (!response.ok) throw await readErrorResponse(response, clock, answered);
  const body = await readJsonBody(response);
  const result = v.safeParse(IntrospectionSchema, body);
  if (!result.success) {
    throw new OAuthError('invalid_response', {
      description: `the introspection response is invalid: ${result.issues[0].message}`,
      status: response.status,
      cause: body,
    });
  }
  return result.output;
}
