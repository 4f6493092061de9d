import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { MIN_EXPIRES_IN_SECONDS, parseTokenResponseBody, readTokenResponse } from '../src/protocol/tokenResponse.js';
import type { ProviderConfig, TokenSet } from '../src/protocol/types.js';
import { clock, jsonResponse, NOW } from './protocol.fixtures.js';

const provider: ProviderConfig = { tokenEndpoint: 'https://as.example/token' };

/** Poe's token response (the `poe()` profile): `api_key` / `api_key_expires_in`, null = never expires. */
const poeProvider: ProviderConfig = {
  tokenEndpoint: 'https://api.poe.com/token',
  quirks: {
    mapTokenResponse: (body) => ({
      access_token: body['api_key'],
      token_type: 'Bearer',
      expires_in: body['api_key_expires_in'],
    }),
  },
};

function parse(body: unknown, on: ProviderConfig = provider): TokenSet {
  return parseTokenResponseBody(on, body, clock);
}

function failure(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

const tokenLikeBody = fc.record(
  {
    access_token: fc.oneof(fc.string(), fc.jsonValue()),
    token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'DPoP', ''), fc.jsonValue()),
    expires_in: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.jsonValue()),
    refresh_token: fc.oneof(fc.string(), fc.jsonValue()),
    scope: fc.oneof(fc.string(), fc.jsonValue()),
    id_token: fc.oneof(fc.string(), fc.jsonValue()),
    error: fc.oneof(fc.string(), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

function isTokenSetOrOAuthError(run: () => TokenSet): void {
  let outcome: unknown;
  try {
    outcome = run();
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return;
  }
  const tokens = outcome as TokenSet;
  expect(typeof tokens.accessToken).toBe('string');
  expect(tokens.accessToken.length).toBeGreaterThan(0);
  expect(typeof tokens.tokenType).toBe('string');
  if (tokens.expiresAt !== undefined) {
    expect(Number.isSafeInteger(tokens.expiresAt)).toBe(true);
    // A lifetime below the floor is no lifetime: an expiry never lies closer than one floor ahead.
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(NOW + MIN_EXPIRES_IN_SECONDS * 1000);
  }
}

describe('token response reader properties', () => {
  test.prop([fc.jsonValue()])('the reader is total: for any JSON value it returns a TokenSet or throws an OAuthError', (body) => {
    isTokenSetOrOAuthError(() => parse(body));
    isTokenSetOrOAuthError(() => parse(body, poeProvider));
  });

  test.prop([tokenLikeBody])('the reader is total for token-like bodies with fields of any JSON type', (body) => {
    isTokenSetOrOAuthError(() => parse(body));
  });

  test.prop([fc.oneof(fc.double({ min: -1e12, max: MIN_EXPIRES_IN_SECONDS, maxExcluded: true, noNaN: true }), fc.integer({ max: 0 }))])(
    'an expires_in below the floor never yields an expiresAt',
    (expiresIn) => {
      expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: expiresIn })).not.toHaveProperty('expiresAt');
    },
  );

  test.prop([
    fc.oneof(fc.string(), fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'), tokenLikeBody.map((b) => JSON.stringify(b))),
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/html', 'text/plain', ''),
    fc.integer({ min: 200, max: 599 }).filter((status) => ![204, 205, 304].includes(status)),
    fc.constantFrom(undefined, 'Bearer error="invalid_token"', 'Bearer realm="x"', 'garbage ==='),
  ])(
    'readTokenResponse is total: for any body, content type and status it returns a TokenSet or rejects with an OAuthError',
    async (body, contentType, status, wwwAuthenticate) => {
      const headers = new Headers();
      if (contentType !== '') headers.set('content-type', contentType);
      if (wwwAuthenticate !== undefined) headers.set('www-authenticate', wwwAuthenticate);
      const response = new Response(body, { status, headers });
      let outcome: TokenSet | OAuthError;
      try {
        outcome = await readTokenResponse(provider, response, clock);
      } catch (error) {
        expect(error).toBeInstanceOf(OAuthError);
        outcome = error as OAuthError;
      }
      if (!(outcome instanceof OAuthError)) expect(status).toBeLessThan(300);
      else if (status >= 300) expect(outcome.status).toBe(status);
    },
  );
});

describe('the token charsets (RFC 6750 §2.1, RFC 6749 Appendix A, RFC 9110 §5.6.2)', () => {
  const headerSafe = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1 });
  const outsideHeaderSafe = fc.oneof(
    fc.integer({ min: 0x00, max: 0x20 }),
    fc.constant(0x7f),
    fc.integer({ min: 0x80, max: 0xffff }).filter((code) => code < 0xd800 || code > 0xdfff),
  ).map((code) => String.fromCharCode(code));

  test.prop([fc.tuple(fc.string(), outsideHeaderSafe, fc.string())])(
    'an access_token with any character outside %x21-7E is refused as invalid_response',
    ([before, bad, after]) => {
      const error = failure(() => parse({ access_token: `${before}${bad}${after}`, token_type: 'Bearer' }));
      expect(error.code).toBe('invalid_response');
    },
  );

  test.prop([headerSafe])('an access_token of %x21-7E characters only is accepted as sent', (accessToken) => {
    expect(parse({ access_token: accessToken, token_type: 'Bearer' }).accessToken).toBe(accessToken);
  });

  it.each([
    ['an access_token with a space', { access_token: 'a t', token_type: 'Bearer' }],
    ['an access_token with CR LF', { access_token: 'at\r\nSet-Cookie: a=b', token_type: 'Bearer' }],
    ['an access_token with NUL', { access_token: 'at\u0000', token_type: 'Bearer' }],
    ['a non-ASCII access_token', { access_token: 'tökén', token_type: 'Bearer' }],
    ['a token_type with a space', { access_token: 'at', token_type: 'Bear er' }],
    ['a token_type with a separator', { access_token: 'at', token_type: 'Bearer;' }],
    ['a token_type with CR LF', { access_token: 'at', token_type: 'Bearer\r\n' }],
    ['a refresh_token with CR LF', { access_token: 'at', token_type: 'Bearer', refresh_token: 'rt\r\n' }],
    ['a non-ASCII refresh_token', { access_token: 'at', token_type: 'Bearer', refresh_token: 'rté' }],
    ['an id_token with a space', { access_token: 'at', token_type: 'Bearer', id_token: 'a.b. c' }],
    ['an id_token outside base64url', { access_token: 'at', token_type: 'Bearer', id_token: 'a+b.c/d.e=' }],
  ])('refuses %s as invalid_response', (_name, body) => {
    expect(failure(() => parse(body))).toMatchObject({ code: 'invalid_response', cause: body });
  });

  it('accepts what the grammar allows: a wide access_token alphabet, a refresh_token with spaces, a JWS id_token', () => {
    const tokens = parse({ access_token: 'tenant|abc:def~!', token_type: 'N_A', refresh_token: 'r t', id_token: 'eyJh.eyJz.c2ln' });
    expect(tokens).toMatchObject({ accessToken: 'tenant|abc:def~!', tokenType: 'N_A', refreshToken: 'r t', idToken: 'eyJh.eyJz.c2ln' });
  });
});

describe('parseTokenResponseBody', () => {
  it('reads the RFC 6749 §5.1 fields', () => {
    const body = { access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt', scope: 'a  b', id_token: 'it', extra: 1 };
    expect(parse(body)).toEqual({
      accessToken: 'at',
      tokenType: 'Bearer',
      expiresAt: NOW + 3_600_000,
      refreshToken: 'rt',
      scope: ['a', 'b'],
      idToken: 'it',
      raw: body,
    });
  });

  it('treats token_type case-insensitively', () => {
    expect(parse({ access_token: 'at', token_type: 'bEaReR' }).tokenType).toBe('Bearer');
    expect(parse({ access_token: 'at', token_type: 'dpop' }).tokenType).toBe('DPoP');
    expect(parse({ access_token: 'at', token_type: 'mac' }).tokenType).toBe('mac');
  });

  it('accepts expires_in as a numeric string, and absent or null as no expiry', () => {
    expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: '60' }).expiresAt).toBe(NOW + 60_000);
    expect(parse({ access_token: 'at', token_type: 'Bearer' })).not.toHaveProperty('expiresAt');
    expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: null })).not.toHaveProperty('expiresAt');
  });

  it.each([0, -1, -3600, 0.0001, 0.999, '0', '0.0001', '-5'])(
    'treats an expires_in of %s (below the one-second floor) as an unknown lifetime: no expiresAt',
    (expiresIn) => {
      expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: expiresIn })).not.toHaveProperty('expiresAt');
    },
  );

  it('takes an expires_in of exactly the floor as a lifetime', () => {
    expect(MIN_EXPIRES_IN_SECONDS).toBe(1);
    expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: MIN_EXPIRES_IN_SECONDS }).expiresAt).toBe(NOW + 1_000);
    expect(parse({ access_token: 'at', token_type: 'Bearer', expires_in: '1.5' }).expiresAt).toBe(NOW + 1_500);
  });

  it.each([
    ['a missing access_token', { token_type: 'Bearer' }],
    ['an empty access_token', { access_token: '', token_type: 'Bearer' }],
    ['a numeric access_token', { access_token: 1, token_type: 'Bearer' }],
    ['a missing token_type', { access_token: 'at' }],
    ['a non-numeric expires_in', { access_token: 'at', token_type: 'Bearer', expires_in: '1h' }],
    ['a huge expires_in', { access_token: 'at', token_type: 'Bearer', expires_in: 1e300 }],
    ['an empty refresh_token', { access_token: 'at', token_type: 'Bearer', refresh_token: '' }],
    ['a scope array', { access_token: 'at', token_type: 'Bearer', scope: ['a'] }],
    ['an array body', [{ access_token: 'at', token_type: 'Bearer' }]],
    ['a string body', 'at'],
    ['null', null],
  ])('rejects %s as invalid_response with the body as cause', (_name, body) => {
    const error = failure(() => parse(body));
    expect(error.code).toBe('invalid_response');
    expect(error.cause).toEqual(body);
  });

  it('maps a non-standard body first and keeps the body as sent in raw (Poe: api_key)', () => {
    const never = parse({ api_key: 'sk-1', api_key_expires_in: null }, poeProvider);
    expect(never).toEqual({ accessToken: 'sk-1', tokenType: 'Bearer', raw: { api_key: 'sk-1', api_key_expires_in: null } });
    expect(parse({ api_key: 'sk-1', api_key_expires_in: 120 }, poeProvider).expiresAt).toBe(NOW + 120_000);
    expect(failure(() => parse({ api_key: 42 }, poeProvider)).code).toBe('invalid_response');
  });

  it('turns a mapping that throws or returns a non-object into invalid_response', () => {
    const throwing = { ...provider, quirks: { mapTokenResponse: (): Record<string, unknown> => { throw new RangeError('boom'); } } };
    expect(failure(() => parse({ a: 1 }, throwing)).code).toBe('invalid_response');
    const returningNull = { ...provider, quirks: { mapTokenResponse: () => null as unknown as Record<string, unknown> } };
    expect(failure(() => parse({ a: 1 }, returningNull)).code).toBe('invalid_response');
  });

  it("raises the server's own code for an error body sent with 200", () => {
    expect(failure(() => parse({ error: 'invalid_grant', error_description: 'used' }))).toMatchObject({ code: 'invalid_grant', description: 'used' });
  });
});

describe('readTokenResponse', () => {
  it('reads a JSON success', async () => {
    const tokens = await readTokenResponse(provider, jsonResponse({ access_token: 'at', token_type: 'bearer', expires_in: 10 }), clock);
    expect(tokens).toMatchObject({ accessToken: 'at', tokenType: 'Bearer', expiresAt: NOW + 10_000 });
  });

  it('maps an error status through the error response reader', async () => {
    const error = await rejection(readTokenResponse(provider, jsonResponse({ error: 'invalid_grant' }, { status: 400 }), clock));
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
  });

  it('rejects an HTML or text page as invalid_response with the status', async () => {
    for (const contentType of ['text/html', 'text/plain']) {
      const response = new Response('<html>hi</html>', { status: 200, headers: { 'content-type': contentType } });
      expect(await rejection(readTokenResponse(provider, response, clock))).toMatchObject({ code: 'invalid_response', status: 200 });
    }
    const gateway = new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    expect(await rejection(readTokenResponse(provider, gateway, clock))).toMatchObject({ code: 'invalid_response', status: 502, retryable: true });
  });

  it('rejects a JSON body larger than 1 MiB, by declared length and by streamed length', async () => {
    const big = JSON.stringify({ access_token: 'a'.repeat(1024 * 1024), token_type: 'Bearer' });
    const declared = new Response(big, { headers: { 'content-type': 'application/json', 'content-length': String(big.length) } });
    expect((await rejection(readTokenResponse(provider, declared, clock))).code).toBe('invalid_response');
    // Three MiB offered, the reader must stop soon after the first.
    const bytes = new TextEncoder().encode(JSON.stringify({ access_token: 'a'.repeat(3 * 1024 * 1024), token_type: 'Bearer' }));
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(offset, offset + 65_536));
        offset += 65_536;
      },
    });
    const streamed = new Response(stream, { headers: { 'content-type': 'application/json' } });
    const error = await rejection(readTokenResponse(provider, streamed, clock));
    expect(error.code).toBe('invalid_response');
    expect(offset).toBeLessThan(1024 * 1024 + 65_536 * 4);
  });

  it('rejects malformed JSON and invalid UTF-8 as invalid_response', async () => {
    expect((await rejection(readTokenResponse(provider, new Response('{', { headers: { 'content-type': 'application/json' } }), clock))).code).toBe('invalid_response');
    const latin1 = new Response(new Uint8Array([0x7b, 0xff, 0x7d]), { headers: { 'content-type': 'application/json' } });
    expect((await rejection(readTokenResponse(provider, latin1, clock))).code).toBe('invalid_response');
  });

  it('gives an invalid success body the HTTP status', async () => {
    const error = await rejection(readTokenResponse(provider, jsonResponse({ token_type: 'Bearer' }), clock));
    expect(error).toMatchObject({ code: 'invalid_response', status: 200 });
  });
});
