/**
 * A backend-for-frontend route that redeems a browser app's authorization
 * code with the client secret the browser must not hold (a SkyMavis SSO
 * app's server route, a plain RFC 6749 provider's confidential web app). The
 * browser keeps its PKCE verifier and sends it along; the secret never leaves
 * the server, nor comes back from the provider to the browser.
 */
import * as v from 'valibot';
import {
  ClientSchema,
  ProviderSchema,
  ServicesSchema,
  checkClientAuth,
  configError,
  machineClientConfig,
  parseConfig,
} from '../client/config.js';
import { isOAuthError, type OAuthError } from '../errors.js';
import { exchangeAuthorizationCode } from '../protocol/operations.js';
import { nopkce } from '../protocol/pkce.js';
import { assertCodeExchangeParams } from '../protocol/tokenRequest.js';
import type { ClientAuthMethod, ProviderConfig, TokenSet } from '../protocol/types.js';
import type { Services } from '../services/types.js';
import { CREDENTIAL_NAME, secretRedactor, withoutNestedCredentials } from './secretRedaction.js';
import { nodeServices } from './services.js';

/** The confidential client of {@link createCodeExchangeHandler}: its secret is added on the server, never sent back. */
export interface CodeExchangeClientConfig {
  clientId: string;
  clientSecret: string;
  /** Default: the protocol's choice (the provider's only allowed method, else `client_secret_basic`); `'none'` is refused. */
  authMethod?: ClientAuthMethod;
  /** `User-Agent` sent to the provider (Path of Exile requires one of a given form). */
  userAgent?: string;
}

/** Options of {@link createCodeExchangeHandler}: the one configuration shape (`provider`, `client`, `services`), plus the handler's own. */
export interface CodeExchangeHandlerOptions {
  /** The authorization server (endpoints and quirks), e.g. a profile from `oauth-machines/providers`. */
  provider: ProviderConfig;
  /** The confidential client whose secret the browser must not hold. */
  client: CodeExchangeClientConfig;
  /**
   * The redirect URIs the browser may name, compared by exact string
   * equality (RFC 9700 §4.1.3): anything else is refused before the provider
   * is asked.
   */
  redirectUris: readonly string[];
  /** Whether the provider's refresh token is handed to the browser. Default `true`. */
  includeRefreshToken?: boolean;
  /** Largest accepted request body in bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /**
   * How long the whole request body may take to arrive, in milliseconds:
   * a body that stalls or trickles is answered 408 once it passes, so a slow
   * or vanished browser cannot hold the handler open. Default 10 000.
   */
  bodyTimeoutMs?: number;
  /**
   * Origins allowed to call the handler cross-origin (exact match, e.g.
   * `https://app.example`). When set, preflights are answered and requests
   * from any other `Origin` are refused with 403; when absent, no CORS
   * headers are sent (same-origin deployments).
   */
  allowedOrigins?: readonly string[];
  /** Services for the token request (`fetch`, `clock`). Default: {@link nodeServices}. */
  services?: Partial<Services>;
  /**
   * Whether the browser must send a PKCE `code_verifier`. Default `'required'` (RFC 9700 §2.1.1).
   * `'optional'` is an explicit opt-out for a provider that does not do PKCE (a SkyMavis SSO app's
   * route posts `{ code, state, redirect_uri }`): a body without `code_verifier` is exchanged
   * without one. See docs/security.md for what that gives up.
   */
  pkce?: 'required' | 'optional';
  /**
   * Extra parameters added to every code exchange this handler sends (`audience`, or `scope` for a
   * server that wants it there); one the library sets is refused when the handler is created.
   */
  tokenParams?: Record<string, string>;
}

const ENTRY = 'createCodeExchangeHandler';

const positiveInteger = (message: string) => v.pipe(v.number(message), v.integer(message), v.minValue(1, message));

const HandlerOptionsSchema = v.strictObject({
  provider: ProviderSchema,
  client: ClientSchema,
  services: v.optional(ServicesSchema),
  redirectUris: v.pipe(v.array(v.string('redirectUris must be strings')), v.minLength(1, 'redirectUris is empty')),
  includeRefreshToken: v.optional(v.boolean('includeRefreshToken must be a boolean')),
  maxBodyBytes: v.optional(positiveInteger('maxBodyBytes must be a positive integer')),
  bodyTimeoutMs: v.optional(
    v.pipe(v.number(), v.finite('bodyTimeoutMs must be a positive number of milliseconds'), v.gtValue(0, 'bodyTimeoutMs must be a positive number of milliseconds')),
  ),
  allowedOrigins: v.optional(v.array(v.string('allowedOrigins must be strings'))),
  pkce: v.optional(v.picklist(['required', 'optional'], 'pkce must be required or optional')),
  tokenParams: v.optional(v.record(v.string(), v.string('tokenParams values must be strings'), 'tokenParams must be an object of strings')),
});

/** A Fetch-API request handler: Node (via a small adapter), Deno, Bun, Workers. */
export type FetchHandler = (request: Request) => Promise<Response>;

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;

// RFC 7636 §4.1: code_verifier = 43*128unreserved.
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

const CodeVerifier = v.pipe(
  v.string('code_verifier must be a string'),
  v.regex(CODE_VERIFIER, 'code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)'),
);

/** The browser's body; `code_verifier` is required unless the handler opted out of PKCE (`pkce: 'optional'`). */
const exchangeInput = (verifier: 'required' | 'optional') => v.strictObject({
  code: v.pipe(v.string('code must be a string'), v.minLength(1, 'code is empty'), v.maxLength(2048, 'code is too long')),
  code_verifier: verifier === 'required' ? CodeVerifier : v.optional(CodeVerifier),
  redirect_uri: v.pipe(
    v.string('redirect_uri must be a string'),
    v.minLength(1, 'redirect_uri is empty'),
    v.maxLength(2048, 'redirect_uri is too long'),
  ),
  state: v.optional(v.pipe(v.string('state must be a string'), v.maxLength(1024, 'state is too long'))),
  // OIDC Core §3.1.2.1: the nonce the browser sent with `openid`; the ID token must carry it back.
  nonce: v.optional(
    v.pipe(v.string('nonce must be a string'), v.minLength(1, 'nonce is empty'), v.maxLength(1024, 'nonce is too long')),
  ),
});

/** Fields of a TokenSet that the handler writes itself; the rest of `raw` passes through. */
const STANDARD_FIELDS = new Set([
  'access_token',
  'token_type',
  'expires_in',
  'refresh_token',
  'scope',
  'id_token',
]);
const REFRESH_FIELDS = new Set(['refresh_token', 'refresh_token_expires_in']);

/**
 * Creates a Fetch-API handler that exchanges a browser's authorization code
 * for tokens, adding the client secret on the server.
 *
 * The browser POSTs `application/json` `{ code, code_verifier, redirect_uri, state?, nonce? }`
 * (`code_verifier` may be left out only when the handler opted out with `pkce: 'optional'`);
 * an ID token in the response is checked (OIDC Core §3.1.3.7: `iss`, `aud`,
 * `exp`, and the `nonce` when the browser sent the one of its request), and
 * one that fails is answered 400 with `nonce_mismatch` / `invalid_id_token`;
 * the handler answers the RFC 6749 §5.1 token response as JSON with
 * `Cache-Control: no-store`. Bad input is answered 400 `invalid_request`
 * (405, 413, 415 for the wrong method, size or media type, 408 for a body
 * still incomplete after `bodyTimeoutMs`) without any request to the
 * provider; a provider's OAuth error keeps its 4xx status, a network
 * failure, 5xx or malformed provider response becomes 502. The returned
 * promise never rejects.
 *
 * @example
 * ```ts
 * const handler = createCodeExchangeHandler({
 *   provider: { tokenEndpoint: 'https://id.example/token' },
 *   client: { clientId: 'web', clientSecret: process.env.CLIENT_SECRET! },
 *   redirectUris: ['https://app.example/callback'],
 * });
 * const response = await handler(request);
 * ```
 */
export function createCodeExchangeHandler(options: CodeExchangeHandlerOptions): FetchHandler {
  parseConfig(ENTRY, HandlerOptionsSchema, options);
  checkClientAuth(ENTRY, options.client, 'client.clientSecret is required (a public client needs no backend exchange)');
  if (typeof options.provider.tokenEndpoint !== 'string') configError(ENTRY, 'provider.tokenEndpoint is required');
  if (options.tokenParams !== undefined) {
    try {
      assertCodeExchangeParams(options.tokenParams);
    } catch (thrown) {
      configError(ENTRY, `tokenParams: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    }
  }
  const ExchangeInput = exchangeInput(options.pkce ?? 'required');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const redirectUris = new Set(options.redirectUris);
  const allowedOrigins = options.allowedOrigins ? new Set(options.allowedOrigins) : undefined;
  const includeRefreshToken = options.includeRefreshToken ?? true;
  const given = nodeServices(options.services);
  // Called detached, never as `given.fetch(…)`: Cloudflare Workers' fetch throws "Illegal invocation"
  // when `this` is another object, as it is for `services: { fetch: globalThis.fetch }`.
  const send = given.fetch;
  const services: Services = {
    ...given,
    // RFC 9110 §15.4.8: a followed 307 repeats the request, secret and all, wherever Location points.
    // Whatever fetch is given, a 3xx is the answer here (the protocol reads it as a failure).
    fetch: (input, init) => send(input, { ...init, redirect: 'manual' }),
  };
  const client = machineClientConfig(options.client);

  // Built once: every body the browser gets passes through it, whatever the provider put where.
  const redact = secretRedactor(options.client.clientId, options.client.clientSecret);

  async function answer(request: Request): Promise<Reply> {
    const origin = request.headers.get('origin');
    const cors = corsHeaders(allowedOrigins, origin);
    if (allowedOrigins && origin !== null && !cors) {
      return errorReply(403, 'invalid_request', 'Origin not allowed', {});
    }
    if (request.method === 'OPTIONS' && allowedOrigins) {
      // Fetch standard, CORS preflight: answer without reading a body.
      return {
        status: 204,
        body: null,
        headers: {
          ...cors,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type',
          'access-control-max-age': '600',
        },
      };
    }
    const headers = cors ?? {};
    if (request.method !== 'POST') {
      return errorReply(405, 'invalid_request', 'Only POST is allowed', { ...headers, allow: 'POST' });
    }
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return errorReply(415, 'invalid_request', 'Content-Type must be application/json', headers);
    }
    const read = await readBodyText(request, maxBodyBytes, bodyTimeoutMs);
    if (read === TOO_LARGE) {
      return errorReply(413, 'invalid_request', `The body exceeds ${maxBodyBytes} bytes`, headers);
    }
    if (read === TIMED_OUT) {
      // RFC 9110 §15.5.9: the request was not completed in the time the server was prepared to wait.
      return errorReply(408, 'invalid_request', `The body did not arrive within ${bodyTimeoutMs} ms`, headers);
    }
    if (read === UNREADABLE) {
      return errorReply(400, 'invalid_request', 'The body could not be read', headers);
    }
    let json: unknown;
    try {
      json = JSON.parse(read);
    } catch {
      return errorReply(400, 'invalid_request', 'The body is not valid JSON', headers);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return errorReply(400, 'invalid_request', 'The body must be a JSON object', headers);
    }
    const parsed = v.safeParse(ExchangeInput, json);
    if (!parsed.success) {
      return errorReply(400, 'invalid_request', describeIssue(parsed.issues[0]), headers);
    }
    const input = parsed.output;
    if (!redirectUris.has(input.redirect_uri)) {
      return errorReply(400, 'invalid_request', 'redirect_uri is not one of the registered redirect URIs', headers);
    }

    let tokens: TokenSet;
    // The browser's request signal is not passed on: once sent, the single-use code is spent either way.
    try {
      tokens = await exchangeAuthorizationCode({
        provider: options.provider,
        client: { ...client, redirectUri: input.redirect_uri },
        services,
        code: input.code,
        // Only with `pkce: 'optional'` may it be absent: then the authorization request had no challenge either.
        codeVerifier: input.code_verifier ?? nopkce,
        redirectUri: input.redirect_uri,
        idToken: input.nonce === undefined ? {} : { nonce: input.nonce },
        ...(options.tokenParams === undefined ? {} : { extraParams: options.tokenParams }),
      });
    } catch (thrown) {
      return providerFailure(thrown, headers);
    }
    const body = tokenResponseBody(tokens, providerFields(options.provider, tokens), services.clock.now(), includeRefreshToken);
    return { status: 200, body, headers };
  }

  return async function exchangeCode(request: Request): Promise<Response> {
    let reply: Reply;
    try {
      reply = await answer(request);
    } catch {
      // The handler answers; it never rejects into a runtime that would send its own error page.
      reply = errorReply(500, 'server_error', 'The token exchange failed', {});
    }
    return toResponse(reply.status, reply.body === null ? null : redact(reply.body), reply.headers);
  };
}

/**
 * The provider's fields after its profile's mapping (Poe: `api_key` is
 * already `access_token` there), so extras are passed on without the
 * non-standard duplicates of standard fields.
 */
function providerFields(provider: ProviderConfig, tokens: TokenSet): Record<string, unknown> {
  const map = provider.quirks?.mapTokenResponse;
  const fields = map ? map({ ...tokens.raw }) : tokens.raw;
  const serverOnly = provider.quirks?.serverOnlyFields ?? [];
  return Object.fromEntries(Object.entries(fields).filter(([name]) => !serverOnly.includes(name)));
}

/** RFC 6749 §5.1 body from a TokenSet: standard fields normalised (also for mapped providers), extras kept. */
function tokenResponseBody(
  tokens: TokenSet,
  fields: Record<string, unknown>,
  now: number,
  includeRefreshToken: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (STANDARD_FIELDS.has(name) || CREDENTIAL_NAME.test(name)) continue;
    if (!includeRefreshToken && REFRESH_FIELDS.has(name)) continue;
    body[name] = withoutNestedCredentials(value);
  }
  body['access_token'] = tokens.accessToken;
  body['token_type'] = tokens.tokenType;
  if (tokens.expiresAt !== undefined) body['expires_in'] = Math.max(0, Math.floor((tokens.expiresAt - now) / 1000));
  if (includeRefreshToken && tokens.refreshToken !== undefined) body['refresh_token'] = tokens.refreshToken;
  if (tokens.scope !== undefined) body['scope'] = tokens.scope.join(' ');
  if (tokens.idToken !== undefined) body['id_token'] = tokens.idToken;
  return body;
}

/** Codes the library raises about the provider's answer itself: the upstream failed, whatever status it sent. */
const UPSTREAM_FAILURES: ReadonlySet<string> = new Set(['invalid_response', 'unexpected_redirect']);

function providerFailure(thrown: unknown, headers: Record<string, string>): Reply {
  // A TypeError or a rule of the provider's profile the protocol refused before sending: a configuration
  // mistake on this server, not the browser's.
  if (!isOAuthError(thrown) || thrown.code === 'configuration_error') {
    return errorReply(500, 'server_error', 'The token exchange is misconfigured', headers);
  }
  const error: OAuthError = thrown;
  // The provider answered, but its ID token is not for this login: the browser's request is at fault (or forged).
  const status = error.code === 'nonce_mismatch' || error.code === 'invalid_id_token' ? 400 : error.status;
  // RFC 6749 §5.2: a provider's own 4xx error is the browser's business (invalid_grant: log in again).
  if (status !== undefined && status >= 400 && status < 500 && !UPSTREAM_FAILURES.has(error.code)) {
    return errorReply(status, error.code, error.description, headers, error.uri);
  }
  // Network failure, timeout, 5xx or a body that did not validate: the upstream failed.
  const code = error.code === 'temporarily_unavailable' ? 'temporarily_unavailable' : 'server_error';
  return errorReply(502, code, 'The authorization server could not complete the exchange', headers);
}

const TOO_LARGE = Symbol('too large');
const TIMED_OUT = Symbol('timed out');
const UNREADABLE = Symbol('unreadable');

/**
 * Reads at most `maxBytes` of the body, whatever Content-Length claims, and
 * waits at most `timeoutMs` for all of it. Never rejects: a stream that
 * errors (the browser went away mid-upload) or was already read is
 * `UNREADABLE`; one still open at the deadline is cancelled and `TIMED_OUT`.
 */
async function readBodyText(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<string | typeof TOO_LARGE | typeof TIMED_OUT | typeof UNREADABLE> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) return TOO_LARGE;
  if (request.body === null) return '';
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = request.body.getReader();
  } catch {
    return UNREADABLE; // locked: the body was read already
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    // Bounded: each round adds bytes towards maxBytes, or the deadline ends the read.
    for (;;) {
      // The race's own handler takes a late rejection of the pending read: it is never unhandled.
      const next = await Promise.race([reader.read(), deadline]);
      if (next === TIMED_OUT) {
        reader.cancel(new DOMException('The request body did not arrive in time', 'TimeoutError')).catch(() => undefined);
        return TIMED_OUT;
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        return TOO_LARGE;
      }
      chunks.push(next.value);
    }
  } catch {
    return UNREADABLE;
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const essence = value.split(';', 1)[0]?.trim().toLowerCase();
  return essence === 'application/json';
}

function corsHeaders(allowed: ReadonlySet<string> | undefined, origin: string | null): Record<string, string> | undefined {
  if (!allowed || origin === null || !allowed.has(origin)) return undefined;
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return 'The body is invalid';
  const path = v.getDotPath(issue);
  if (path === null) return 'The body must be a JSON object';
  // valibot reports both a missing key and an unknown one as a strict_object issue; `never` marks the unknown one.
  if (issue.type === 'strict_object') return issue.expected === 'never' ? `${path} is not an accepted field` : `${path} is missing`;
  return issue.message;
}

/** What the handler answers, before the one step that turns it into the browser's `Response`. */
interface Reply {
  status: number;
  /** A JSON value, or `null` for no body (a preflight). */
  body: unknown;
  headers: Record<string, string>;
}

function errorReply(
  status: number,
  error: string,
  description: string | undefined,
  headers: Record<string, string>,
  uri?: string,
): Reply {
  const body: Record<string, string> = { error };
  if (description !== undefined) body['error_description'] = description;
  if (uri !== undefined) body['error_uri'] = uri;
  return { status, body, headers };
}

function toResponse(status: number, body: unknown, headers: Record<string, string>): Response {
  if (body === null) return new Response(null, { status, headers });
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...headers,
      'content-type': 'application/json;charset=UTF-8',
      // RFC 6749 §5.1: responses carrying tokens must not be cached; errors neither.
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'x-content-type-options': 'nosniff',
    },
  });
}
