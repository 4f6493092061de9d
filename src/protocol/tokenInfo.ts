/**
 * A provider's token-info endpoint (`provider.tokenInfoEndpoint`): a
 * non-standard `GET` with the access token as a bearer credential that
 * describes the token — `{ client_id, user_id, scopes, expires_at }`, with
 * `expires_at` an ISO 8601 date-time — read into a typed value.
 */
import * as v from 'valibot';
import { systemClock } from '../services/clock.js';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import type { HttpRequest, ProviderConfig } from './types.js';
import { userinfoRequest } from './userinfo.js';

/** What a token-info endpoint says about the access token; `raw` is the body as sent. */
export interface TokenInfo {
  clientId?: string;
  userId?: string;
  scopes?: string[];
  /** Epoch ms; absent when the server says the token does not expire (`null`) or does not say. */
  expiresAt?: number;
  raw: Record<string, unknown>;
}

/** A GET of `provider.tokenInfoEndpoint` with `Authorization: Bearer` (and the client's User-Agent where one can be set). */
export function tokenInfoRequest(provider: ProviderConfig, accessToken: string, options: { userAgent?: string } = {}): HttpRequest {
  if (provider.tokenInfoEndpoint === undefined) throw new TypeError('provider.tokenInfoEndpoint is not set');
  return userinfoRequest(provider, accessToken, { ...options, endpoint: provider.tokenInfoEndpoint });
}

const Text = v.pipe(v.string(), v.minLength(1));

/** `expires_at`: an RFC 3339 date-time, or epoch seconds as a number; `null` = does not expire. */
const ExpiresAt = v.nullish(
  v.union([
    v.pipe(
      v.string(),
      v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i, 'not an RFC 3339 date-time'),
      v.transform((text) => Date.parse(text)),
      v.check((ms) => Number.isSafeInteger(ms), 'not a date-time'),
    ),
    v.pipe(v.number(), v.finite(), v.minValue(0), v.transform((seconds) => Math.round(seconds * 1000))),
  ]),
);

const TokenInfoSchema = v.looseObject({
  client_id: v.nullish(Text),
  user_id: v.nullish(v.union([Text, v.pipe(v.number(), v.safeInteger(), v.transform(String))])),
  // Some servers send the scopes as one space-separated string (RFC 6749 §3.3), others as an array.
  scopes: v.nullish(v.union([v.array(Text), v.pipe(v.string(), v.transform((text) => text.split(' ').filter((s) => s !== '')))])),
  expires_at: ExpiresAt,
});

/**
 * Reads a token-info answer into {@link TokenInfo}: `expires_at` (RFC 3339, or epoch seconds)
 * becomes `expiresAt` in epoch ms. An error status is the server's `OAuthError` (a 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` is `invalid_token`); a body that does not fit is
 * `invalid_response`, the body as `cause`.
 */
export async function readTokenInfoResponse(response: Response, clock: TimeSource = systemClock): Promise<TokenInfo> {
  if (!response.ok) throw await readErrorResponse(response, clock);
  const body = await readJsonBody(response);
  const parsed = v.safeParse(TokenInfoSchema, body);
  if (!parsed.success || typeof body !== 'object' || body === null || Array.isArray(body)) {
    const issue = parsed.success ? undefined : parsed.issues[0];
    const where = issue?.path?.map((item) => String(item.key)).join('.') ?? 'body';
    throw new OAuthError('invalid_response', {
      description: `the token info has an invalid ${where}${issue ? `: ${issue.message}` : ''}`,
      status: response.status,
      cause: body,
    });
  }
  const fields = parsed.output;
  const info: TokenInfo = { raw: body as Record<string, unknown> };
  if (fields.client_id != null) info.clientId = fields.client_id;
  if (fields.user_id != null) info.userId = fields.user_id;
  if (fields.scopes != null) info.scopes = fields.scopes;
  if (fields.expires_at != null) info.expiresAt = fields.expires_at;
  return info;
}
