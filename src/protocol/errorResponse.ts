/**
 * Reading response bodies safely, and turning error responses into
 * `OAuthError`s (RFC 6749 §5.2, RFC 8628 §3.5, RFC 6750 §3).
 */
import { systemClock } from '../services/clock.js';
import type { TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { parseRetryAfter } from './retryAfter.js';
import { serverError } from './serverError.js';
import { parseWwwAuthenticate } from './wwwAuthenticate.js';
import type { ErrorAnswer, ProviderConfig } from './types.js';

export { parseWwwAuthenticate };

/** The largest body the library reads by default: 1 MiB is far beyond any OAuth response. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The codes of a response that failed on the way rather than said something. */
const TRANSPORT_FAILURES: ReadonlySet<string> = new Set(['timeout', 'network_error', 'aborted']);

function invalidResponse(response: Response, description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_response', { description, status: response.status, cause });
}

/** Whether the response declares a JSON media type (`application/json` or `…+json`). */
function isJsonContentType(response: Response): boolean {
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Reads at most `maxBytes` of the body as UTF-8; a larger or undecodable body is `invalid_response`. */
async function readTextCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw invalidResponse(response, `the response body is larger than ${maxBytes} bytes`);
  }
  if (response.body === null) return '';
  if (response.bodyUsed) throw invalidResponse(response, 'the response body was already read');
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = response.body.getReader();
  } catch (thrown) {
    throw invalidResponse(response, 'the response body cannot be read', thrown);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    // Bounded: every round either adds a byte towards maxBytes or counts towards the empty-chunk limit.
    for (let emptyChunks = 0; emptyChunks < 10_000; ) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) {
        emptyChunks++;
        continue;
      }
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw invalidResponse(response, `the response body is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (thrown) {
    // A stream that fails mid-body is a transport failure (network_error, aborted, timeout).
    throw OAuthError.from(thrown);
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (thrown) {
    throw invalidResponse(response, 'the response body is not UTF-8', thrown);
  }
}

/**
 * The response's JSON body, read with a size cap. Throws
 * `OAuthError('invalid_response')` (with the HTTP status) when the content
 * type is not JSON, the body is larger than `maxBytes` or does not parse.
 * With `formEncoded`, an `application/x-www-form-urlencoded` body — or a
 * body labelled JSON that does not parse as JSON — is read as the object of
 * its fields (strings; a repeated field's last value); whatever it holds is
 * then validated as the answer it should be.
 */
export async function readJsonBody(response: Response, options: { maxBytes?: number; formEncoded?: boolean } = {}): Promise<unknown> {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const form = options.formEncoded === true;
  if (!isJsonContentType(response) && !(form && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(response.headers.get('content-type') ?? ''))) {
    await response.body?.cancel().catch(() => undefined);
    throw invalidResponse(
      response,
      `expected a JSON response, got ${response.headers.get('content-type') ?? 'no content type'} (HTTP ${response.status})`,
    );
  }
  const text = await readTextCapped(response, maxBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (thrown) {
    // A form-encoded body, whatever the content type says (GitHub has sent one labelled JSON).
    if (form) return Object.fromEntries(new URLSearchParams(text));
    throw invalidResponse(response, `the response body is not JSON (HTTP ${response.status})`, text);
  }
}

function stringField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The `unexpected_redirect` error for a response that is a redirect, else
 * `undefined`: a 3xx (RFC 9110 §15.4), what a browser shows of one under
 * `redirect: 'manual'` (an `opaqueredirect` response with status 0), or a
 * response some fetch reached by following one anyway. The library sends
 * nothing to where a redirect points and reads nothing that came from there.
 */
export function redirectError(response: Response): OAuthError | undefined {
  const isRedirect = response.type === 'opaqueredirect' || (response.status >= 300 && response.status <= 399);
  if (!isRedirect && response.redirected !== true) return undefined;
  return new OAuthError('unexpected_redirect', {
    status: response.status,
    retryable: false,
    description: isRedirect
      ? `the server answered with a redirect (HTTP ${response.status}), which is not followed`
      : 'the response came through a redirect, which the library does not follow',
    cause: { location: response.headers.get('location') ?? undefined, url: response.url },
  });
}

/** Where an error answer came from, for the rule on answers without an error body ({@link errorWithoutBody}). */
export interface ErrorContext {
  provider: ProviderConfig;
  endpoint: ErrorAnswer['endpoint'];
  /** The client sent credentials with the request (`client_secret_basic` or `client_secret_post`). */
  clientAuthenticated: boolean;
}

/**
 * What an error answer without an RFC 6749 §5.2 body stands for. The provider's
 * `quirks.mapErrorResponse` decides first; then the library's rule, which only
 * ever reads an empty body (a gateway's HTML page or any other text says nothing
 * about the grant, and stays `invalid_response`):
 * - 401 or 403 from an endpoint the client authenticated to: `invalid_client`
 *   (RFC 6749 §5.2: client authentication failed), the status kept;
 * - 400 from the token endpoint: `invalid_grant`, a definitive refusal of what
 *   was presented (a spent, revoked or stolen refresh token, a used code), so a
 *   session built on it ends.
 */
function errorWithoutBody(
  response: Response,
  text: string,
  answered: ErrorContext,
): { error: string; error_description?: string } | undefined {
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() || undefined;
  const answer: ErrorAnswer = {
    endpoint: answered.endpoint,
    status: response.status,
    contentType,
    body: text,
    clientAuthenticated: answered.clientAuthenticated,
  };
  const map = answered.provider.quirks?.mapErrorResponse;
  if (map !== undefined) {
    let mapped: ReturnType<typeof map>;
    try {
      mapped = map(answer);
    } catch {
      mapped = undefined; // a mapping that throws has said nothing; the library's rule applies
    }
    if (mapped !== undefined) return mapped;
  }
  if (text.trim() !== '') return undefined;
  if ((response.status === 401 || response.status === 403) && answered.clientAuthenticated) {
    return { error: 'invalid_client', error_description: `HTTP ${response.status} without a body to an authenticated client request` };
  }
  if (response.status === 400 && answered.endpoint === 'token') {
    return { error: 'invalid_grant', error_description: 'HTTP 400 without a body from the token endpoint: a definitive refusal' };
  }
  return undefined;
}

/**
 * The `OAuthError` an error response stands for; never throws. The code comes
 * from the JSON body's `error` (RFC 6749 §5.2), else from the
 * `WWW-Authenticate` header's `error` (RFC 6750 §3, e.g. a 401 from
 * userinfo), else it is `invalid_response`; either goes through
 * `serverError`'s charset check (an illegal code is `invalid_response`). A redirect is
 * `unexpected_redirect`, its body unread. Status, header and the body (as
 * `cause`) are kept; 429 and 5xx are retryable. A `Retry-After` header, on
 * any status, becomes `retryAfterMs` (an HTTP-date measured against `clock`).
 * With `answered` (where the request went, and whether the client authenticated),
 * an answer without an error body may still carry a meaning: see {@link errorWithoutBody}.
 */
export async function readErrorResponse(
  response: Response,
  clock: TimeSource = systemClock,
  answered?: ErrorContext,
): Promise<OAuthError> {
  const redirect = redirectError(response);
  if (redirect !== undefined) {
    await response.body?.cancel().catch(() => undefined);
    return redirect;
  }
  const wwwAuthenticate = response.headers.get('www-authenticate') ?? undefined;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
  let body: unknown;
  let text = '';
  try {
    text = await readTextCapped(response, MAX_BODY_BYTES);
    body = text;
    if (isJsonContentType(response)) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        throw invalidResponse(response, `the response body is not JSON (HTTP ${response.status})`, text);
      }
    }
  } catch (thrown) {
    const failure = OAuthError.from(thrown, 'invalid_response');
    // The body never arrived whole (timeout, reset, abort): that, not the half-read body, is what happened.
    if (TRANSPORT_FAILURES.has(failure.code)) {
      return new OAuthError(failure.code, {
        status: response.status,
        wwwAuthenticate,
        retryAfterMs,
        retryable: failure.retryable,
        description: failure.description,
        cause: failure,
      });
    }
    body = thrown;
  }
  const common = { status: response.status, wwwAuthenticate, retryAfterMs, cause: body };
  const error = stringField(body, 'error');
  if (error !== undefined) {
    return serverError(
      { error, error_description: stringField(body, 'error_description'), error_uri: stringField(body, 'error_uri') },
      common,
    );
  }
  if (wwwAuthenticate !== undefined) {
    const params = parseWwwAuthenticate(wwwAuthenticate);
    if (params['error'] !== undefined) {
      return serverError({ error: params['error'], error_description: params['error_description'], error_uri: params['error_uri'] }, common);
    }
  }
  if (answered !== undefined) {
    const meant = errorWithoutBody(response, text, answered);
    if (meant !== undefined) return serverError(meant, common);
  }
  return new OAuthError('invalid_response', {
    ...common,
    description: `HTTP ${response.status} without an OAuth error`,
  });
}
