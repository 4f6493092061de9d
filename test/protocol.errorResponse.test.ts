import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, readErrorResponse, readJsonBody } from '../src/protocol/errorResponse.js';
import { OAuthError } from '../src/errors.js';
import { revokeToken } from '../src/protocol/operations.js';
import { clock, jsonResponse, NOW, recordingFetch, servicesWith } from './protocol.fixtures.js';

describe('readErrorResponse', () => {
  it.each([
    // RFC 6749 §5.2
    ['invalid_request', 400, false],
    ['invalid_client', 401, false],
    ['invalid_grant', 400, false],
    ['unauthorized_client', 400, false],
    ['unsupported_grant_type', 400, false],
    ['invalid_scope', 400, false],
    // RFC 6749 §4.1.2.1, also sent by token endpoints
    ['server_error', 500, true],
    ['temporarily_unavailable', 503, true],
    ['access_denied', 400, false],
    // RFC 8628 §3.5
    ['authorization_pending', 400, false],
    ['slow_down', 400, false],
    ['expired_token', 400, false],
    // RFC 7009 §2.2.1
    ['unsupported_token_type', 400, false],
    // a code outside the registries is kept as sent
    ['custom_vendor_error', 400, false],
    // 429 is retryable whatever the code
    ['invalid_request', 429, true],
  ] as const)('maps %s with HTTP %i (retryable: %s)', async (code, status, retryable) => {
    const body = { error: code, error_description: 'why', error_uri: 'https://as.example/e' };
    const error = await readErrorResponse(jsonResponse(body, { status }));
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code, description: 'why', uri: 'https://as.example/e', status, retryable });
    expect(error.cause).toEqual(body);
  });

  it('reads the error from WWW-Authenticate when the body has none (RFC 6750 §3)', async () => {
    const response = new Response(null, {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="example", error="invalid_token", error_description="The access token expired"' },
    });
    const error = await readErrorResponse(response);
    expect(error).toMatchObject({ code: 'invalid_token', description: 'The access token expired', status: 401, retryable: false });
    expect(error.wwwAuthenticate).toContain('invalid_token');
  });

  it('prefers the body error to the header error', async () => {
    const response = jsonResponse({ error: 'invalid_client' }, { status: 401, headers: { 'www-authenticate': 'Basic error="invalid_token"' } });
    expect((await readErrorResponse(response)).code).toBe('invalid_client');
  });

  it('makes invalid_response of an error without an OAuth error, keeping status and body', async () => {
    const html = await readErrorResponse(new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } }));
    expect(html).toMatchObject({ code: 'invalid_response', status: 502, retryable: true });
    expect(html.cause).toBe('<h1>Bad gateway</h1>');
    const unauthenticated = await readErrorResponse(new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="x"' } }));
    expect(unauthenticated).toMatchObject({ code: 'invalid_response', status: 401, retryable: false, wwwAuthenticate: 'Bearer realm="x"' });
    const notJson = await readErrorResponse(new Response('{', { status: 400, headers: { 'content-type': 'application/json' } }));
    expect(notJson).toMatchObject({ code: 'invalid_response', status: 400 });
  });

  it('ignores an error member that is not a legal RFC 6749 §5.2 code', async () => {
    expect((await readErrorResponse(jsonResponse({ error: 42 }, { status: 400 }))).code).toBe('invalid_response');
    expect((await readErrorResponse(jsonResponse({ error: 'bad"quote' }, { status: 400 }))).code).toBe('invalid_response');
    expect((await readErrorResponse(jsonResponse({ error: '' }, { status: 400 }))).code).toBe('invalid_response');
  });
});

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  function withRetryAfter(value: string, status = 503): Response {
    return jsonResponse({ error: 'temporarily_unavailable' }, { status, headers: { 'retry-after': value } });
  }

  it.each([
    ['120', 429, 120_000],
    ['0', 503, 0],
    ['007', 503, 7_000],
    ['30', 400, 30_000],
  ] as const)('reads delta-seconds %s on HTTP %i', async (value, status, expected) => {
    expect((await readErrorResponse(withRetryAfter(value, status), clock)).retryAfterMs).toBe(expected);
  });

  it('reads an HTTP-date in each of its three forms against the clock', async () => {
    // The fixture clock stands at 2026-01-01T00:00:00Z, a Thursday.
    const inTwoMinutes = [
      'Thu, 01 Jan 2026 00:02:00 GMT', // IMF-fixdate
      'Thursday, 01-Jan-26 00:02:00 GMT', // obsolete RFC 850 form
      'Thu Jan  1 00:02:00 2026', // obsolete asctime form
    ];
    for (const value of inTwoMinutes) {
      expect((await readErrorResponse(withRetryAfter(value), clock)).retryAfterMs, value).toBe(120_000);
    }
  });

  it('reads an HTTP-date in the past as no wait at all', async () => {
    expect((await readErrorResponse(withRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT'), clock)).retryAfterMs).toBe(0);
  });

  it('uses the system clock when none is given', async () => {
    const soon = new Date(Date.now() + 3_600_000).toUTCString();
    const { retryAfterMs } = await readErrorResponse(withRetryAfter(soon));
    expect(retryAfterMs).toBeGreaterThan(3_000_000);
    expect(retryAfterMs).toBeLessThanOrEqual(3_600_000);
  });

  it.each(['-5', '1.5', '5s', 'soon', '', '5, 5', 'Thu, 32 Jan 2026 00:00:00 GMT', 'Thu, 01 Jan 2026 24:00:00 GMT', '2026-01-01T00:02:00Z', '1e3'])(
    'ignores a Retry-After of %j',
    async (value) => {
      const error = await readErrorResponse(withRetryAfter(value), clock);
      expect(error.code).toBe('temporarily_unavailable');
      expect(error.retryAfterMs).toBeUndefined();
    },
  );

  test.prop([fc.oneof(fc.string(), fc.stringMatching(/^\d{1,40}$/), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()))])(
    'for any Retry-After value, retryAfterMs is absent or a non-negative finite number',
    async (value) => {
      let headers: Headers;
      try {
        headers = new Headers({ 'content-type': 'application/json', 'retry-after': value });
      } catch {
        return; // not a value a header can carry
      }
      const error = await readErrorResponse(new Response('{"error":"slow_down"}', { status: 429, headers }), clock);
      if (error.retryAfterMs !== undefined) {
        expect(Number.isFinite(error.retryAfterMs)).toBe(true);
        expect(error.retryAfterMs).toBeGreaterThanOrEqual(0);
      }
    },
  );

  it('is read by the operations against services.clock', async () => {
    const { fetch } = recordingFetch(() => new Response(null, { status: 503, headers: { 'retry-after': new Date(NOW + 90_000).toUTCString() } }));
    const provider = { tokenEndpoint: 'https://as.example/token', revocationEndpoint: 'https://as.example/revoke' };
    await expect(revokeToken({ provider, client: { clientId: 'app' }, services: servicesWith(fetch), token: 't' })).rejects.toMatchObject({
      status: 503,
      retryAfterMs: 90_000,
    });
  });
});

describe('parseWwwAuthenticate', () => {
  it('reads quoted and token auth-params, first one winning', () => {
    expect(parseWwwAuthenticate('Bearer realm="a, b", error=invalid_token, scope="x y", error="second"')).toEqual({
      realm: 'a, b',
      error: 'invalid_token',
      scope: 'x y',
    });
  });

  it('reads a 256 KiB header made of one long run of token characters', () => {
    // A backtracking pattern retried every start position of the run: quadratic, seconds per response.
    const header = `Bearer ${'a'.repeat(256 * 1024)}`;
    expect(parseWwwAuthenticate(header)).toEqual({});
    expect(parseWwwAuthenticate(`${header}, error="invalid_token"`)).toEqual({ error: 'invalid_token' });
  });
});

describe('readJsonBody', () => {
  it('accepts application/json and +json media types', async () => {
    expect(await readJsonBody(jsonResponse({ a: 1 }))).toEqual({ a: 1 });
    expect(await readJsonBody(new Response('[1]', { headers: { 'content-type': 'application/problem+json' } }))).toEqual([1]);
  });

  it('refuses other media types, bodies over the cap and a stream that fails', async () => {
    await expect(readJsonBody(new Response('{}', { headers: { 'content-type': 'text/json' } }))).rejects.toMatchObject({ code: 'invalid_response' });
    await expect(readJsonBody(jsonResponse({ a: 'x'.repeat(100) }), { maxBytes: 50 })).rejects.toMatchObject({ code: 'invalid_response' });
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new TypeError('socket hang up'));
      },
    });
    await expect(readJsonBody(new Response(failing, { headers: { 'content-type': 'application/json' } }))).rejects.toMatchObject({
      code: 'network_error',
    });
  });
});
