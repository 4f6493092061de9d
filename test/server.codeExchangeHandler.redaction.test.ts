/**
 * The code-exchange handler never hands the client secret to the browser:
 * whatever a provider echoes back — the secret as sent, percent- or
 * form-encoded, base64 alone or as Basic credentials, JSON-escaped — in
 * whichever field of an error or a token response, the body the browser gets
 * holds none of it. The encodings are computed here with Node's own encoders,
 * independently of the handler.
 */
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createCodeExchangeHandler } from '../src/server/codeExchangeHandler.js';
import type { ClientAuthMethod } from '../src/protocol/types.js';
import type { FetchLike } from '../src/services/types.js';

const REDIRECT_URI = 'https://app.example/callback';
const HANDLER_URL = 'https://app.example/api/oauth/exchange';
const TOKEN_ENDPOINT = 'https://id.example/token';
const VERIFIER = 'v'.repeat(43);
const EXCHANGE = JSON.stringify({ code: 'a-code', code_verifier: VERIFIER, redirect_uri: REDIRECT_URI });

/** application/x-www-form-urlencoded (WHATWG URL): space → `+`, and `!'()~` escaped, unlike encodeURIComponent. */
const formEncode = (text: string): string => new URLSearchParams([['v', text]]).toString().slice(2);
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
/** The secret as it stands inside a JSON string literal, with every non-ASCII character as `\uXXXX`. */
const asciiJson = (text: string): string =>
  JSON.stringify(text)
    .slice(1, -1)
    .replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Every spelling of the secret (and of the Basic credentials built from it) a provider might echo. */
function encodingsOf(clientId: string, secret: string): Record<string, string> {
  return {
    'the secret as it is': secret,
    'percent-encoded (encodeURIComponent)': encodeURIComponent(secret),
    'percent-encoded with lower-case hex': encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    'form-encoded (+ for spaces)': formEncode(secret),
    'JSON-escaped': JSON.stringify(secret).slice(1, -1),
    'JSON-escaped with \\u escapes': asciiJson(secret),
    base64: base64(secret),
    base64url: base64url(secret),
    'base64 of id:secret (a Basic header)': base64(`${clientId}:${secret}`),
    'base64 of the form-encoded id:secret (RFC 6749 §2.3.1 Basic)': base64(`${formEncode(clientId)}:${formEncode(secret)}`),
    'base64url of id:secret': base64url(`${clientId}:${secret}`),
  };
}

/** RFC 6749 §5.2: an `error` code may only use %x20-21 / %x23-5B / %x5D-7E, so only such spellings can be one. */
const ERROR_CODE_CHARS = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

interface ProviderCall {
  url: string;
  init: RequestInit | undefined;
}

/** A provider that answers every token request with `status` and the JSON `body`, recording the calls. */
function providerAnswering(status: number, body: unknown): { fetch: FetchLike; calls: ProviderCall[] } {
  const calls: ProviderCall[] = [];
  const fetch: FetchLike = (input, init) => {
    calls.push({ url: String(input), init });
    return Promise.resolve(
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }),
    );
  };
  return { fetch, calls };
}

/** What a provider that leaks the secret puts in an error response: it everywhere a string may go. */
function echoingError(echo: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    error: 'invalid_client',
    error_description: `client authentication failed for ${echo} (try again)`,
    error_uri: `https://id.example/errors?credentials=${echo}`,
  };
  if (ERROR_CODE_CHARS.test(`invalid_client ${echo}`)) body['error'] = `invalid_client ${echo}`;
  return body;
}

/** A token response that carries the echo in extra fields (kept and passed on to the browser). */
function echoingTokens(echo: string): Record<string, unknown> {
  return {
    access_token: 'at-1',
    token_type: 'Bearer',
    expires_in: 3600,
    debug: `authenticated with ${echo}`,
    nested: { list: [echo, { deeper: echo }] },
    [`key ${echo}`]: 'as a field name',
  };
}

function handlerFor(clientId: string, secret: string, fetch: FetchLike, authMethod: ClientAuthMethod = 'client_secret_post') {
  return createCodeExchangeHandler({
    provider: { tokenEndpoint: TOKEN_ENDPOINT },
    client: { clientId, clientSecret: secret, authMethod },
    redirectUris: [REDIRECT_URI],
    services: { fetch },
  });
}

function exchangeRequest(): Request {
  return new Request(HANDLER_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: EXCHANGE });
}

async function browserSees(clientId: string, secret: string, status: number, providerBody: unknown): Promise<string> {
  const { fetch } = providerAnswering(status, providerBody);
  const response = await handlerFor(clientId, secret, fetch)(exchangeRequest());
  return response.text();
}

describe('createCodeExchangeHandler never passes the client secret to the browser', () => {
  const clientId = 'web app';
  const secret = "s3cr3t +/=%~!'()*\"\\é€😀:&?#";

  for (const [name, echo] of Object.entries(encodingsOf(clientId, secret))) {
    it(`redacts the secret ${name} from the error code, description and URI of a provider error`, async () => {
      for (const status of [400, 401]) {
        const text = await browserSees(clientId, secret, status, echoingError(echo));
        expect(text).not.toContain(echo);
        const body = JSON.parse(text) as Record<string, unknown>;
        // A description or URI outside RFC 6749's charsets is dropped by the protocol before it gets here;
        // one that passes reaches the browser redacted.
        for (const field of ['error_description', 'error_uri']) {
          if (body[field] !== undefined) expect(body[field]).toContain('[redacted]');
        }
      }
    });

    it(`redacts the secret ${name} from every extra field of a token response`, async () => {
      const text = await browserSees(clientId, secret, 200, echoingTokens(echo));
      expect(text).not.toContain(echo);
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body['access_token']).toBe('at-1');
      expect(body['debug']).toBe('authenticated with [redacted]');
      expect(body['nested']).toEqual({ list: ['[redacted]', { deeper: '[redacted]' }] });
      expect(body['key [redacted]']).toBe('as a field name');
    });
  }

  it.each<[ClientAuthMethod, string]>([
    ['client_secret_basic', 'the Authorization header it received'],
    ['client_secret_post', 'the form body it received'],
  ])('redacts what a provider echoes of a %s request (%s)', async (method) => {
    const fetch: FetchLike = (_input, init) => {
      const headers = new Headers(init?.headers);
      const received = method === 'client_secret_basic' ? (headers.get('authorization') ?? '') : String(init?.body);
      expect(received).not.toBe('');
      return Promise.resolve(
        new Response(JSON.stringify({ error: 'invalid_client', error_description: `rejected: ${received}`, error_uri: `https://id.example/e?${received}` }), {
          status: 401,
          headers: { 'content-type': 'application/json' },
        }),
      );
    };
    const response = await handlerFor(clientId, secret, fetch, method)(exchangeRequest());
    expect(response.status).toBe(401);
    const text = await response.text();
    for (const echo of Object.values(encodingsOf(clientId, secret))) expect(text).not.toContain(echo);
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_client' });
  });

  /** Characters whose spellings differ between the encodings, and some that do not. */
  const interesting = fc.constantFrom(
    ...[' ', '+', '/', '=', '%', '~', '!', "'", '(', ')', '*', '"', '\\', ':', '&', '?', '#', '\n', '\t', 'é', 'ß', '€', '😀', '中'],
    ...'abcdefXYZ0189-._'.split(''),
  );
  const secrets = fc.string({ unit: interesting, minLength: 8, maxLength: 40 });
  // Blank client ids are refused up front by the one client schema (every entry's), so none is generated.
  const clientIds = fc.string({ unit: interesting, minLength: 1, maxLength: 12 }).filter((id) => id.trim() !== '');
  const bodies = fc.constantFrom<[string, number, (echo: string) => Record<string, unknown>]>(
    ['a 400 error', 400, echoingError],
    ['a 401 error', 401, echoingError],
    ['a 500 error', 500, echoingError],
    ['an error sent with 200', 200, (echo) => ({ ...echoingError(echo), error: 'invalid_client' })],
    ['a token response', 200, echoingTokens],
  );

  propTest.prop([clientIds, secrets, bodies], { numRuns: 150 })(
    'property: for any secret and client id, no body the browser gets contains the secret in any encoding, whichever field a provider echoes it in',
    async (id, secret, [, status, body]) => {
      const encodings = Object.values(encodingsOf(id, secret));
      // A spelling the handler writes anyway (a field name, its own text, the marker) proves nothing about a leak.
      const baseline = await browserSees(id, secret, status, body(''));
      fc.pre(encodings.every((encoding) => !baseline.includes(encoding) && !'[redacted]'.includes(encoding)));
      for (const echo of encodings) {
        const text = await browserSees(id, secret, status, body(echo));
        for (const encoding of encodings) expect(text).not.toContain(encoding);
      }
    },
  );
});
