/**
 * The device authorization response (RFC 8628 §3.2) as the app will use it:
 * the verification URIs are web addresses a user may be sent to, and the
 * polling interval is at least a second.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { readDeviceAuthorizationResponse } from '../src/protocol/deviceAuthorization.js';
import { OAuthError } from '../src/errors.js';
import { clock, jsonResponse } from './protocol.fixtures.js';

const BASE = { device_code: 'dc', user_code: 'WDJB-MJHT', verification_uri: 'https://as.example/device', expires_in: 600 };

function read(body: Record<string, unknown>) {
  return readDeviceAuthorizationResponse(jsonResponse(body), clock);
}

async function rejection(body: Record<string, unknown>): Promise<OAuthError> {
  const outcome = await read(body).then(
    () => new Error('the response was accepted'),
    (thrown: unknown) => thrown,
  );
  if (outcome instanceof OAuthError) return outcome;
  throw outcome;
}

const UNSAFE = [
  'javascript:alert(document.cookie)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'ftp://as.example/device',
  'http://as.example/device',
  'http://127.0.0.1.attacker.example/device',
  '/device',
  'as.example/device',
];

describe('verification URIs', () => {
  it.each(UNSAFE)('refuses a verification_uri of %j as invalid_response', async (uri) => {
    expect(await rejection({ ...BASE, verification_uri: uri })).toMatchObject({ code: 'invalid_response', status: 200 });
  });

  it.each(UNSAFE)('refuses a verification_uri_complete of %j as invalid_response', async (uri) => {
    expect((await rejection({ ...BASE, verification_uri_complete: uri })).code).toBe('invalid_response');
  });

  it('refuses an unsafe verification_url (the spelling some providers use) too', async () => {
    const { verification_uri: _uri, ...withoutUri } = BASE;
    expect((await rejection({ ...withoutUri, verification_url: 'javascript:alert(1)' })).code).toBe('invalid_response');
  });

  it.each([
    'https://as.example/device',
    'https://as.example/device?user_code=WDJB-MJHT',
    'http://127.0.0.1:8080/device',
    'http://127.1.2.3/device',
    'http://localhost:3000/device',
    'http://[::1]:3000/device',
  ])('accepts %s', async (uri) => {
    const authorization = await read({ ...BASE, verification_uri: uri, verification_uri_complete: uri });
    expect(authorization).toMatchObject({ verificationUri: uri, verificationUriComplete: uri });
  });
});

describe('the polling interval', () => {
  it.each([
    ['missing', 5, undefined],
    ['null', 5, null],
    ['0', 5, 0],
    ['half a second', 5, 0.5],
    ['"0"', 5, '0'],
    ['negative', 5, -3],
    ['1', 1, 1],
    ['"7"', 7, '7'],
  ])('takes an interval that is %s as %i seconds (RFC 8628 §3.2: below one, or none, is the default 5)', async (_name, expected, interval) => {
    const body: Record<string, unknown> = { ...BASE };
    if (interval !== undefined) body['interval'] = interval;
    expect((await read(body)).interval).toBe(expected);
  });

  test.prop([fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer(), fc.stringMatching(/^\d{1,9}$/), fc.constant(null))])(
    'for any interval a server sends, the parsed interval is at least one second',
    async (interval) => {
      try {
        expect((await read({ ...BASE, interval })).interval).toBeGreaterThanOrEqual(1);
      } catch (thrown) {
        expect(thrown).toBeInstanceOf(OAuthError);
      }
    },
  );
});
