/**
 * ID token claims validation (OIDC Core §3.1.3.7): every rule of
 * `checkIdTokenClaims`, the decoding of `decodeJwtPayload`, and the
 * properties that the checker is total and never accepts another nonce.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { checkIdTokenClaims, decodeJwtPayload, type IdTokenExpectation } from '../src/protocol/idToken.js';
import {
  exchangeAuthorizationCode,
  pollDeviceToken,
  refreshTokens,
  requestClientCredentials,
  requestPasswordToken,
} from '../src/protocol/operations.js';
import type { ClientConfig, ProviderConfig, TokenSet } from '../src/protocol/types.js';
import { jsonResponse, NOW as FIXTURE_NOW, recordingFetch, servicesWith } from './protocol.fixtures.js';

const ISSUER = 'https://id.example';
const CLIENT = 'app';
const NOW = 1_700_000_000_000;
const NOW_SEC = NOW / 1000;

function part(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A compact JWS with an arbitrary (unverified) signature part. */
function jwt(claims: unknown, header: unknown = { alg: 'RS256', typ: 'JWT' }): string {
  return `${part(header)}.${part(claims)}.c2lnbmF0dXJl`;
}

function validClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, sub: 'user-1', aud: CLIENT, iat: NOW_SEC - 10, exp: NOW_SEC + 300, nonce: 'n-0S6', ...overrides };
}

function without(name: string): Record<string, unknown> {
  const claims = validClaims();
  delete claims[name];
  return claims;
}

const expected: IdTokenExpectation = { issuer: ISSUER, clientId: CLIENT, nonce: 'n-0S6', now: NOW };

function failure(run: () => unknown): OAuthError {
  try {
    run();
  } catch (thrown) {
    if (thrown instanceof OAuthError) return thrown;
    throw new Error(`threw something other than OAuthError: ${String(thrown)}`);
  }
  throw new Error('did not throw');
}

function check(claims: unknown, overrides: Partial<IdTokenExpectation> = {}): ReturnType<typeof checkIdTokenClaims> {
  return checkIdTokenClaims(jwt(claims), { ...expected, ...overrides });
}

function rejection(claims: unknown, overrides: Partial<IdTokenExpectation> = {}): OAuthError {
  return failure(() => check(claims, overrides));
}

describe('decodeJwtPayload', () => {
  it('returns the payload of a compact JWS without looking at the signature', () => {
    expect(decodeJwtPayload(jwt({ sub: 'a', n: 1 }))).toEqual({ sub: 'a', n: 1 });
    expect(decodeJwtPayload(`${part({ alg: 'none' })}.${part({ sub: 'a' })}.`)).toEqual({ sub: 'a' });
  });

  it('decodes UTF-8 claims', () => {
    expect(decodeJwtPayload(jwt({ name: 'Zoë 東京' }))).toEqual({ name: 'Zoë 東京' });
  });

  it.each([
    ['an empty string', ''],
    ['two parts', `${part({ alg: 'none' })}.${part({ sub: 'a' })}`],
    ['four parts', `${part({ alg: 'none' })}.${part({ sub: 'a' })}.sig.extra`],
    ['a payload that is not base64url', `${part({ alg: 'none' })}.a+b/c.sig`],
    ['a payload of impossible length', `${part({ alg: 'none' })}.abcde.sig`],
    ['a payload that is not JSON', `${part({ alg: 'none' })}.${Buffer.from('not json').toString('base64url')}.sig`],
    ['a payload that is a JSON array', `${part({ alg: 'none' })}.${part(['sub'])}.sig`],
    ['a payload that is JSON null', `${part({ alg: 'none' })}.${part(null)}.sig`],
    ['a payload that is not UTF-8', `${part({ alg: 'none' })}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.sig`],
    ['a header that is not JSON', `${Buffer.from('{alg').toString('base64url')}.${part({ sub: 'a' })}.sig`],
    ['a header that is a string', `${part('RS256')}.${part({ sub: 'a' })}.sig`],
  ])('rejects %s with invalid_response', (_, token) => {
    const error = failure(() => decodeJwtPayload(token));
    expect(error.code).toBe('invalid_response');
    expect(error.retryable).toBe(false);
    expect(error.description).toMatch(/ID token/);
  });

  it('says that an encrypted (five-part JWE) ID token is not supported', () => {
    const error = failure(() => decodeJwtPayload('a.b.c.d.e'));
    expect(error.code).toBe('invalid_response');
    expect(error.description).toMatch(/encrypted/);
  });
});

describe('checkIdTokenClaims', () => {
  it('returns the claims of a valid ID token, extra claims included', () => {
    const claims = validClaims({ email: 'u@example.com', auth_time: NOW_SEC - 20 });
    expect(check(claims)).toEqual(claims);
  });

  describe('iss (item 2)', () => {
    it('rejects an issuer that differs from the expected one', () => {
      expect(rejection(validClaims({ iss: 'https://evil.example' })).code).toBe('invalid_id_token');
    });

    it('compares the issuer exactly: a trailing slash is another issuer', () => {
      expect(rejection(validClaims({ iss: `${ISSUER}/` })).code).toBe('invalid_id_token');
    });

    it('rejects an ID token without iss, or with a non-string iss', () => {
      expect(rejection(without('iss')).code).toBe('invalid_id_token');
      expect(rejection(validClaims({ iss: 42 })).code).toBe('invalid_id_token');
    });

    it('does not compare iss when no issuer is configured, but still requires one', () => {
      expect(check(validClaims({ iss: 'https://anyone.example' }), { issuer: undefined }).iss).toBe('https://anyone.example');
      expect(rejection(without('iss'), { issuer: undefined }).code).toBe('invalid_id_token');
    });
  });

  it('rejects an ID token without a sub (OIDC Core §2)', () => {
    expect(rejection(without('sub')).code).toBe('invalid_id_token');
    expect(rejection(validClaims({ sub: '' })).code).toBe('invalid_id_token');
  });

  describe('aud and azp (items 3–5)', () => {
    it('rejects an ID token for another client', () => {
      expect(rejection(validClaims({ aud: 'other' })).code).toBe('invalid_id_token');
    });

    it('accepts an audience array containing the client with azp set to the client', () => {
      expect(check(validClaims({ aud: ['other', CLIENT], azp: CLIENT })).aud).toEqual(['other', CLIENT]);
    });

    it('accepts a one-element audience array without azp', () => {
      expect(check(validClaims({ aud: [CLIENT] })).aud).toEqual([CLIENT]);
    });

    it('rejects several audiences without azp', () => {
      expect(rejection(validClaims({ aud: [CLIENT, 'other'] })).description).toMatch(/azp/);
    });

    it('rejects an azp naming another party, with one audience or several', () => {
      expect(rejection(validClaims({ aud: [CLIENT, 'other'], azp: 'other' })).code).toBe('invalid_id_token');
      expect(rejection(validClaims({ azp: 'other' })).code).toBe('invalid_id_token');
    });

    it('rejects an audience array without the client', () => {
      expect(rejection(validClaims({ aud: ['other', 'third'], azp: CLIENT })).code).toBe('invalid_id_token');
    });

    it.each([
      ['missing', undefined],
      ['an empty array', []],
      ['an array with a number', [CLIENT, 7]],
      ['a number', 7],
      ['an object', { aud: CLIENT }],
    ])('rejects an aud that is %s', (_, aud) => {
      expect(rejection(aud === undefined ? without('aud') : validClaims({ aud })).code).toBe('invalid_id_token');
    });

    it('rejects an azp that is not a string', () => {
      expect(rejection(validClaims({ azp: [CLIENT] })).code).toBe('invalid_id_token');
    });
  });

  describe('exp, iat, nbf (items 9–10)', () => {
    it('rejects an expired ID token, beyond the clock tolerance', () => {
      expect(rejection(validClaims({ exp: NOW_SEC - 61 })).description).toMatch(/expired/);
    });

    it('accepts an ID token that expired within the clock tolerance (60 s by default)', () => {
      expect(check(validClaims({ exp: NOW_SEC - 59 })).exp).toBe(NOW_SEC - 59);
    });

    it('rejects at the exact end of the tolerance: now must be before exp + tolerance', () => {
      expect(rejection(validClaims({ exp: NOW_SEC }), { clockToleranceSec: 0 }).code).toBe('invalid_id_token');
      expect(check(validClaims({ exp: NOW_SEC + 1 }), { clockToleranceSec: 0 }).exp).toBe(NOW_SEC + 1);
    });

    it('honours a custom clock tolerance', () => {
      expect(rejection(validClaims({ exp: NOW_SEC - 5 }), { clockToleranceSec: 1 }).code).toBe('invalid_id_token');
      expect(check(validClaims({ exp: NOW_SEC - 500 }), { clockToleranceSec: 600 }).sub).toBe('user-1');
    });

    it('rejects an ID token without a numeric exp', () => {
      expect(rejection(without('exp')).code).toBe('invalid_id_token');
      expect(rejection(validClaims({ exp: String(NOW_SEC + 300) })).code).toBe('invalid_id_token');
    });

    it('rejects an ID token without a numeric iat', () => {
      expect(rejection(without('iat')).description).toMatch(/iat/);
      expect(rejection(validClaims({ iat: 'yesterday' })).description).toMatch(/iat/);
    });

    it('rejects an ID token not valid before a time beyond the tolerance (nbf)', () => {
      expect(rejection(validClaims({ nbf: NOW_SEC + 120 })).description).toMatch(/nbf/);
      expect(check(validClaims({ nbf: NOW_SEC + 30 })).sub).toBe('user-1');
      expect(rejection(validClaims({ nbf: 'soon' })).code).toBe('invalid_id_token');
    });
  });

  describe('nonce (item 11)', () => {
    it('rejects a nonce that differs from the one sent with nonce_mismatch', () => {
      const error = rejection(validClaims({ nonce: 'another' }));
      expect(error.code).toBe('nonce_mismatch');
      expect(error.retryable).toBe(false);
    });

    it('rejects an ID token without a nonce when one was sent', () => {
      expect(rejection(without('nonce')).code).toBe('nonce_mismatch');
    });

    it('rejects a nonce of another type than string when one was sent', () => {
      expect(rejection(validClaims({ nonce: 12345 })).code).toBe('nonce_mismatch');
    });

    it('accepts an ID token with or without a nonce when none was sent (a refreshed ID token)', () => {
      expect(check(validClaims(), { nonce: undefined }).nonce).toBe('n-0S6');
      expect(check(without('nonce'), { nonce: undefined }).nonce).toBeUndefined();
    });
  });

  describe('auth_time and max_age (item 12)', () => {
    it('requires auth_time when max_age was sent', () => {
      expect(rejection(validClaims(), { maxAgeSec: 300 }).description).toMatch(/auth_time/);
    });

    it('rejects an authentication older than max_age, beyond the tolerance', () => {
      expect(rejection(validClaims({ auth_time: NOW_SEC - 400 }), { maxAgeSec: 300 }).description).toMatch(/max_age/);
    });

    it('accepts an authentication within max_age', () => {
      expect(check(validClaims({ auth_time: NOW_SEC - 200 }), { maxAgeSec: 300 }).auth_time).toBe(NOW_SEC - 200);
    });

    it('rejects an auth_time that is not a number', () => {
      expect(rejection(validClaims({ auth_time: 'today' })).code).toBe('invalid_id_token');
    });
  });

  it('reports a token that does not decode as invalid_response, not invalid_id_token', () => {
    expect(failure(() => checkIdTokenClaims('not-a-jwt', expected)).code).toBe('invalid_response');
  });
});

const claimValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(ISSUER, CLIENT, 'n-0S6', NOW_SEC, NOW_SEC + 300, [CLIENT], [CLIENT, 'other']),
);
const claimsObject = fc.dictionary(
  fc.oneof(fc.constantFrom('iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'auth_time'), fc.string()),
  claimValue,
);

const RESERVED = new Set(['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'auth_time']);
const extraClaims = fc.dictionary(fc.string().filter((name) => !RESERVED.has(name)), fc.jsonValue());

describe('properties', () => {
  test.prop([fc.oneof(claimsObject, fc.jsonValue()), fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined })])(
    'for any claims object the checker returns the claims or throws OAuthError, nothing else',
    (claims, maxAgeSec) => {
      try {
        const result = checkIdTokenClaims(jwt(claims), { ...expected, maxAgeSec });
        expect(result).toEqual(claims);
      } catch (thrown) {
        expect(thrown).toBeInstanceOf(OAuthError);
      }
    },
  );

  test.prop([fc.string()])('for any string decodeJwtPayload returns an object or throws invalid_response', (text) => {
    try {
      const payload = decodeJwtPayload(text);
      expect(typeof payload).toBe('object');
    } catch (thrown) {
      expect(thrown).toBeInstanceOf(OAuthError);
      expect((thrown as OAuthError).code).toBe('invalid_response');
    }
  });

  test.prop([fc.string({ minLength: 1 }), fc.option(fc.jsonValue(), { nil: undefined }), extraClaims])(
    'a token whose nonce differs from the expected one is always rejected',
    (sent, received, extra) => {
      fc.pre(received !== sent);
      const claims: Record<string, unknown> = { ...extra, ...validClaims() };
      if (received === undefined) delete claims.nonce;
      else claims.nonce = received;
      // Every other claim is valid, so the nonce alone decides: always nonce_mismatch.
      expect(rejection(claims, { nonce: sent }).code).toBe('nonce_mismatch');
    },
  );
});

describe('the token operations with an ID token check', () => {
  const provider: ProviderConfig = { issuer: ISSUER, tokenEndpoint: 'https://id.example/token' };
  const client: ClientConfig = { clientId: CLIENT, redirectUri: 'https://app.example/cb' };
  const nowSec = Math.floor(FIXTURE_NOW / 1000);
  const fresh = (overrides: Record<string, unknown> = {}): string =>
    jwt({ iss: ISSUER, sub: 'user-1', aud: CLIENT, iat: nowSec, exp: nowSec + 300, ...overrides });

  function withIdToken(idToken: string) {
    const { fetch } = recordingFetch(() => jsonResponse({ access_token: 'at', token_type: 'Bearer', id_token: idToken }));
    return { provider, client, services: servicesWith(fetch) };
  }

  const exchange = { code: 'c', codeVerifier: 'v'.repeat(43) };

  it('exchangeAuthorizationCode checks the nonce that was sent', async () => {
    const token = fresh({ nonce: 'sent' });
    await expect(exchangeAuthorizationCode({ ...withIdToken(token), ...exchange, idToken: { nonce: 'other' } })).rejects.toMatchObject({
      code: 'nonce_mismatch',
    });
    await expect(exchangeAuthorizationCode({ ...withIdToken(token), ...exchange, idToken: { nonce: 'sent' } })).resolves.toMatchObject({
      idToken: token,
    });
  });

  const grants: Array<[string, (context: ReturnType<typeof withIdToken>) => Promise<TokenSet>]> = [
    ['exchangeAuthorizationCode without an idToken check', (context) => exchangeAuthorizationCode({ ...context, ...exchange })],
    ['refreshTokens without an idToken check', (context) => refreshTokens({ ...context, refreshToken: 'rt' })],
    ['pollDeviceToken', (context) => pollDeviceToken({ ...context, deviceCode: 'dc' })],
    ['requestClientCredentials', (context) => requestClientCredentials(context)],
    ['requestPasswordToken', (context) => requestPasswordToken({ ...context, username: 'u', password: 'p' })],
  ];

  describe.each(grants)('%s', (_name, grant) => {
    it.each([
      ['another issuer', { iss: 'https://attacker.example' }],
      ['another audience', { aud: 'someone-else' }],
      ['an authorized party that is not this client', { aud: [CLIENT, 'other'], azp: 'other' }],
      ['an expiry in the past', { exp: nowSec - 3600 }],
    ])('refuses an ID token with %s as invalid_id_token', async (_what, forged) => {
      await expect(grant(withIdToken(fresh(forged)))).rejects.toMatchObject({ code: 'invalid_id_token', retryable: false });
    });

    it('refuses an id_token that is no compact JWS as invalid_response', async () => {
      await expect(grant(withIdToken('opaque'))).rejects.toMatchObject({ code: 'invalid_response' });
    });

    it('accepts a valid ID token without a nonce, none having been sent', async () => {
      const token = fresh();
      await expect(grant(withIdToken(token))).resolves.toMatchObject({ idToken: token });
    });
  });

  it('exchangeAuthorizationCode takes the issuer of the check over the provider issuer', async () => {
    const token = fresh({ iss: 'https://tenant.id.example' });
    await expect(exchangeAuthorizationCode({ ...withIdToken(token), ...exchange, idToken: {} })).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
    await expect(
      exchangeAuthorizationCode({ ...withIdToken(token), ...exchange, idToken: { issuer: 'https://tenant.id.example' } }),
    ).resolves.toMatchObject({ idToken: token });
  });

  it('refreshTokens refuses a refreshed ID token about another subject than the one it replaces', async () => {
    const previous = fresh({ sub: 'user-1', nonce: 'original' });
    await expect(
      refreshTokens({ ...withIdToken(fresh({ sub: 'user-2' })), refreshToken: 'rt', idToken: { previous } }),
    ).rejects.toMatchObject({ code: 'invalid_id_token' });
    // No nonce is expected of a refreshed ID token (OIDC Core §12.2).
    await expect(refreshTokens({ ...withIdToken(fresh()), refreshToken: 'rt', idToken: { previous } })).resolves.toMatchObject({
      refreshToken: 'rt',
    });
  });

  it('refreshTokens does not compare subjects when the previous ID token does not decode, but still checks the new one', async () => {
    await expect(refreshTokens({ ...withIdToken(fresh()), refreshToken: 'rt', idToken: { previous: 'opaque' } })).resolves.toBeDefined();
    await expect(
      refreshTokens({ ...withIdToken(fresh({ aud: 'other' })), refreshToken: 'rt', idToken: { previous: 'opaque' } }),
    ).rejects.toMatchObject({ code: 'invalid_id_token' });
  });
});
