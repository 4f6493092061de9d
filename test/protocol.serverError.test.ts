/**
 * A server's error becomes an `OAuthError` only through RFC 6749's charsets
 * (§4.1.2.1, §5.2, Appendix A.7–A.8): a code outside NQSCHAR is
 * `invalid_response` (the raw value kept only in `cause`), a description
 * outside NQSCHAR or a URI outside the URI-reference characters is dropped.
 * The same rule holds wherever a server's error arrives.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { checkCallback, parseCallback } from '../src/protocol/callback.js';
import { readErrorResponse } from '../src/protocol/errorResponse.js';
import { OAuthError } from '../src/errors.js';
import { introspectToken, requestDeviceAuthorization, revokeToken, type OperationContext } from '../src/protocol/operations.js';
import { parseTokenResponseBody } from '../src/protocol/tokenResponse.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import { clock, jsonResponse, recordingFetch, servicesWith } from './protocol.fixtures.js';

const provider: ProviderConfig = {
  issuer: 'https://as.example',
  tokenEndpoint: 'https://as.example/token',
  revocationEndpoint: 'https://as.example/revoke',
  introspectionEndpoint: 'https://as.example/introspect',
  deviceAuthorizationEndpoint: 'https://as.example/device',
};

// RFC 6749 Appendix A.7 / A.8: error and error_description are 1*NQSCHAR; A.9: error_uri is a URI-reference.
const NQSCHAR = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const URI_CHARS = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const INJECTION = 'x\r\nSet-Cookie: a=b';

/** Every place a server's error arrives, each given `error`, `error_description` and `error_uri` as sent. */
const arrivals: Array<[string, (fields: Record<string, string>) => Promise<OAuthError>]> = [
  ['an error response (RFC 6749 §5.2)', (fields) => readErrorResponse(jsonResponse(fields, { status: 400 }), clock)],
  [
    'a 2xx token response carrying an error',
    async (fields) => {
      try {
        parseTokenResponseBody(provider, fields, clock);
      } catch (thrown) {
        if (thrown instanceof OAuthError) return thrown;
        throw thrown;
      }
      throw new Error('the token response was accepted');
    },
  ],
  [
    "the callback's error (RFC 6749 §4.1.2.1)",
    async (fields) => {
      const url = new URL('https://app.example/cb');
      for (const [name, value] of Object.entries({ ...fields, state: 's' })) url.searchParams.set(name, value);
      try {
        checkCallback(parseCallback(url), { state: 's', issRequired: false });
      } catch (thrown) {
        if (thrown instanceof OAuthError) return thrown;
        throw thrown;
      }
      throw new Error('the callback was accepted');
    },
  ],
  ...(
    [
      ['the device authorization error', (context: OperationContext) => requestDeviceAuthorization(context)],
      ['the revocation error', (context: OperationContext) => revokeToken({ ...context, token: 't' })],
      ['the introspection error', (context: OperationContext) => introspectToken({ ...context, token: 't' })],
    ] as const
  ).map(([name, operation]): [string, (fields: Record<string, string>) => Promise<OAuthError>] => [
    name,
    async (fields) => {
      const { fetch } = recordingFetch(() => jsonResponse(fields, { status: 400 }));
      const outcome = await operation({ provider, client: { clientId: 'app' }, services: servicesWith(fetch) }).then(
        () => new Error('the operation succeeded'),
        (thrown: unknown) => thrown,
      );
      if (outcome instanceof OAuthError) return outcome;
      throw outcome;
    },
  ]),
];

const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.constantFrom('a', '_', ' ', '!', '"', '\\', '\r', '\n', '\t', '\u0000', '\u007f', 'é', '=', ':') }),
);

describe.each(arrivals)('%s', (_name, arrive) => {
  it('refuses a code with CR LF as invalid_response, the raw code only in cause', async () => {
    const error = await arrive({ error: INJECTION, error_description: 'why' });
    expect(error.code).toBe('invalid_response');
    expect(error.message).not.toContain('Set-Cookie');
    expect(error.description ?? '').not.toContain('Set-Cookie');
    expect(JSON.stringify(error.toJSON())).not.toContain('Set-Cookie');
    expect(JSON.stringify(error.cause)).toContain('Set-Cookie');
  });

  it('keeps a legal code, description and uri as sent', async () => {
    const error = await arrive({ error: 'access_denied', error_description: 'The user said no!', error_uri: 'https://as.example/e?x=1' });
    expect(error).toMatchObject({ code: 'access_denied', description: 'The user said no!', uri: 'https://as.example/e?x=1' });
  });

  it('drops a description or uri outside their charsets, keeping the code', async () => {
    const error = await arrive({ error: 'access_denied', error_description: 'line\r\nSet-Cookie: a=b', error_uri: 'https://as.example/a b' });
    expect(error.code).toBe('access_denied');
    expect(error.description).toBeUndefined();
    expect(error.uri).toBeUndefined();
  });

  test.prop([anyString, anyString, anyString], { numRuns: 60 })(
    'for any strings, the code is the one sent only if it is 1*NQSCHAR, and a description or uri is kept only if legal',
    async (code, description, uri) => {
      fc.pre(code !== '');
      const error = await arrive({ error: code, error_description: description, error_uri: uri });
      expect(error).toBeInstanceOf(OAuthError);
      if (NQSCHAR.test(code)) expect(error.code).toBe(code);
      else expect(error.code).toBe('invalid_response');
      if (error.code === code) {
        expect(error.description).toBe(NQSCHAR.test(description) ? description : undefined);
        expect(error.uri).toBe(URI_CHARS.test(uri) ? uri : undefined);
      }
    },
  );
});

describe('the WWW-Authenticate error (RFC 6750 §3)', () => {
  it('takes the same rule: a description with an escaped quote is outside NQSCHAR and dropped', async () => {
    const response = new Response(null, {
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="The \\"old\\" token", error_uri="https://as.example/e"' },
    });
    const error = await readErrorResponse(response, clock);
    expect(error).toMatchObject({ code: 'invalid_token', uri: 'https://as.example/e' });
    expect(error.description).toBeUndefined();
  });

  it('refuses an error code outside NQSCHAR as invalid_response', async () => {
    const response = new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="a\\"b"' } });
    expect((await readErrorResponse(response, clock)).code).toBe('invalid_response');
  });
});
