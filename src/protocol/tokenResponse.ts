/**
 * The token endpoint's answer (RFC 6749 §5.1 success, §5.2 error), validated
 * with valibot at the boundary.
 */
import * as v from 'valibot';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import { serverError } from './serverError.js';
import { ACCESS_TOKEN, JWS_COMPACT, REFRESH_TOKEN, TOKEN_TYPE } from './tokenSyntax.js';
import type { ProviderConfig, TokenSet } from './types.js';
import { isRecord } from './validators.js';

/**
 * The shortest `expires_in`, in seconds, taken as a token's lifetime. A server
 * that sends 0, a negative number or a fraction of a second has not said how
 * long the token lives: taken literally, the token would be due for renewal
 * the moment it arrives, and every renewal would bring another such token — a
 * tight loop against the token endpoint. Below this floor the lifetime is
 * unknown, exactly as if `expires_in` were absent (RFC 6749 §5.1 makes it
 * optional), and the token is used until the server refuses it.
 */
export const MIN_EXPIRES_IN_SECONDS = 1;

/** RFC 6749 §5.1; optional fields may be `null`, which means absent (a `null` lifetime is an unknown one). */
const TokenResponseSchema = v.looseObject({
  access_token: v.pipe(v.string(), v.regex(ACCESS_TOKEN, 'not a token a header can carry (1*%x21-7E)')),
  token_type: v.pipe(v.string(), v.regex(TOKEN_TYPE, 'not an RFC 9110 token')),
  expires_in: v.nullish(
    v.union([
      v.pipe(v.number(), v.finite()),
      // Some servers send the number as a string.
      v.pipe(v.string(), v.regex(/^-?\d{1,15}(\.\d{1,9})?$/), v.transform(Number)),
    ]),
  ),
  refresh_token: v.nullish(v.pipe(v.string(), v.regex(REFRESH_TOKEN, 'not 1*VSCHAR'))),
  scope: v.nullish(v.string()),
  id_token: v.nullish(v.pipe(v.string(), v.regex(JWS_COMPACT, 'not in the JWS compact charset'))),
});


/** Token types are case-insensitive (RFC 6749 §5.1); the registered ones get their canonical spelling. */
function normaliseTokenType(tokenType: string): string {
  const lower = tokenType.toLowerCase();
  if (lower === 'bearer') return 'Bearer';
  if (lower === 'dpop') return 'DPoP';
  return tokenType;
}

function invalid(description: string, cause: unknown): OAuthError {
  return new OAuthError('invalid_response', { description, cause });
}

/**
 * A `TokenSet` from a parsed token response body. Total: for any value it
 * returns a `TokenSet` or throws `OAuthError` (`invalid_response` with the
 * body as `cause`, or the server's own code for an error body sent with 2xx).
 * `quirks.mapTokenResponse` maps the body first; `raw` is the body as sent.
 */
export function parseTokenResponseBody(provider: ProviderConfig, body: unknown, clock: TimeSource): TokenSet {
  if (!isRecord(body)) throw invalid('the token response is not a JSON object', body);
  // Some servers answer an error with 200 (RFC 6749 §5.2 says 400); the code is still the server's.
  if (typeof body['error'] === 'string' && body['error'] !== '' && body['access_token'] === undefined) {
    throw serverError({ error: body['error'], error_description: body['error_description'], error_uri: body['error_uri'] }, { cause: body });
  }
  let mapped: unknown = body;
  const map = provider.quirks?.mapTokenResponse;
  if (map !== undefined) {
    try {
      mapped = map({ ...body });
    } catch (thrown) {
      throw invalid('the provider mapping rejected the token response', thrown);
    }
    if (!isRecord(mapped)) throw invalid('the provider mapping did not return an object', body);
  }
  const result = v.safeParse(TokenResponseSchema, mapped);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join('.') ?? 'body';
    throw invalid(`the token response has an invalid ${where}: ${issue.message}`, body);
  }
  const fields = result.output;
  const tokens: TokenSet = {
    accessToken: fields.access_token,
    tokenType: normaliseTokenType(fields.token_type),
    raw: body,
  };
  if (fields.expires_in !== undefined && fields.expires_in !== null && fields.expires_in >= MIN_EXPIRES_IN_SECONDS) {
    const expiresAt = Math.floor(clock.now() + fields.expires_in * 1000);
    if (!Number.isSafeInteger(expiresAt)) throw invalid('expires_in is out of range', body);
    tokens.expiresAt = expiresAt;
  }
  if (fields.refresh_token !== undefined && fields.refresh_token !== null) tokens.refreshToken = fields.refresh_token;
  if (fields.scope !== undefined && fields.scope !== null) tokens.scope = fields.scope.split(' ').filter((s) => s !== '');
  if (fields.id_token !== undefined && fields.id_token !== null) tokens.idToken = fields.id_token;
  return tokens;
}

/**
 * Reads a token endpoint response: an error status becomes the server's
 * `OAuthError` (`readErrorResponse`, with the rule on answers without an error
 * body: an empty 400 is `invalid_grant`, an empty 401/403 to an authenticated
 * client `invalid_client`, unless `quirks.mapErrorResponse` says otherwise); a success body is read as JSON (at most
 * 1 MiB; form fields instead with `quirks.formEncodedTokenResponses`) and checked by `parseTokenResponseBody`, with `expiresAt` from `clock`.
 */
export async function readTokenResponse(
  provider: ProviderConfig,
  response: Response,
  clock: TimeSource,
  options: { clientAuthenticated?: boolean } = {},
): Promise<TokenSet> {
  if (!response.ok) {
    throw await readErrorResponse(response, clock, { provider, endpoint: 'token', clientAuthenticated: options.clientAuthenticated === true });
  }
  let body: unknown;
  try {
    body = await readJsonBody(response, { formEncoded: provider.quirks?.formEncodedTokenResponses === true });
  } catch (thrown) {
    // The answer arrived and its body failed on the way (a stall, a reset): the server has acted on the
    // request — a code is redeemed, a refresh token rotated — so the failure keeps the status it came with.
    const error = OAuthError.from(thrown, 'invalid_response');
    if (error.status !== undefined) throw error;
    throw new OAuthError(error.code, { description: error.description, status: response.status, retryable: error.retryable, cause: error.cause ?? thrown });
  }
  try {
    return parseTokenResponseBody(provider, body, clock);
  } catch (thrown) {
    const error = OAuthError.from(thrown, 'invalid_response');
    if (error.status !== undefined) throw error;
    throw new OAuthError(error.code, {
      description: error.description,
      uri: error.uri,
      status: response.status,
      retryable: error.retryable,
      cause: error.cause,
    });
  }
}
