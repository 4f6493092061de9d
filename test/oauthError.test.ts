import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { OAuthError, isOAuthError, isRetryable } from '../src/errors.js';

describe('OAuthError', () => {
  it('carries code, description, uri, status and cause', () => {
    const cause = { body: '<html>' };
    const error = new OAuthError('invalid_grant', {
      description: 'code expired',
      uri: 'https://id.example/errors/invalid_grant',
      status: 400,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('OAuthError');
    expect(error.code).toBe('invalid_grant');
    expect(error.message).toBe('invalid_grant: code expired');
    expect(error.description).toBe('code expired');
    expect(error.uri).toBe('https://id.example/errors/invalid_grant');
    expect(error.status).toBe(400);
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(false);
  });

  it.each([
    ['server_error', undefined, true],
    ['temporarily_unavailable', undefined, true],
    ['network_error', undefined, true],
    ['timeout', undefined, true],
    ['invalid_response', 503, true],
    ['invalid_response', 429, true],
    ['invalid_response', 500, true],
    ['invalid_grant', 400, false],
    ['invalid_client', 401, false],
    ['access_denied', undefined, false],
    ['state_mismatch', undefined, false],
    ['invalid_response', 200, false],
  ] as const)('%s with status %s is retryable: %s', (code, status, expected) => {
    expect(isRetryable(code, status)).toBe(expected);
    expect(new OAuthError(code, { status }).retryable).toBe(expected);
  });

  it('lets the caller decide retryable explicitly', () => {
    expect(new OAuthError('server_error', { retryable: false }).retryable).toBe(false);
  });

  it('serialises to plain data without cause or stack', () => {
    const error = new OAuthError('invalid_token', {
      status: 401,
      wwwAuthenticate: 'Bearer error="invalid_token"',
      cause: new Error('secret body'),
    });
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'OAuthError',
      code: 'invalid_token',
      status: 401,
      retryable: false,
      wwwAuthenticate: 'Bearer error="invalid_token"',
    });
    expect(OAuthError.fromJSON(error.toJSON()).toJSON()).toEqual(error.toJSON());
  });

  it('carries retryAfterMs through toJSON and fromJSON', () => {
    const error = new OAuthError('temporarily_unavailable', { status: 503, retryAfterMs: 120_000 });
    expect(error.retryAfterMs).toBe(120_000);
    expect(error.toJSON()).toEqual({ name: 'OAuthError', code: 'temporarily_unavailable', status: 503, retryable: true, retryAfterMs: 120_000 });
    expect(OAuthError.fromJSON(error.toJSON()).retryAfterMs).toBe(120_000);
    expect(new OAuthError('server_error').toJSON()).not.toHaveProperty('retryAfterMs');
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('does not keep a retryAfterMs of %s, which is no delay', (retryAfterMs) => {
    const error = new OAuthError('server_error', { retryAfterMs });
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.toJSON()).not.toHaveProperty('retryAfterMs');
  });

  test.prop([
    fc.string({ minLength: 1 }),
    fc.option(fc.string(), { nil: undefined }),
    fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
    fc.option(fc.nat(), { nil: undefined }),
  ])('toJSON then fromJSON is the identity on the plain data', (code, description, status, retryAfterMs) => {
    const error = new OAuthError(code, { description, status, retryAfterMs });
    const again = OAuthError.fromJSON(JSON.parse(JSON.stringify(error.toJSON())));
    expect(again.toJSON()).toEqual(error.toJSON());
  });

  it('maps thrown values: OAuthError passes, timeouts and aborts keep their meaning', () => {
    const original = new OAuthError('invalid_grant');
    expect(OAuthError.from(original)).toBe(original);
    const timeout = OAuthError.from(new DOMException('timed out', 'TimeoutError'));
    expect(timeout.code).toBe('timeout');
    expect(timeout.retryable).toBe(true);
    const aborted = OAuthError.from(new DOMException('stop', 'AbortError'));
    expect(aborted.code).toBe('aborted');
    expect(aborted.retryable).toBe(false);
    const network = OAuthError.from(new TypeError('fetch failed'));
    expect(network.code).toBe('network_error');
    expect(network.retryable).toBe(true);
    expect(network.cause).toBeInstanceOf(TypeError);
    expect(OAuthError.from('boom', 'storage_error').code).toBe('storage_error');
  });

  it('recognises OAuthErrors by class and by shape', () => {
    expect(isOAuthError(new OAuthError('x'))).toBe(true);
    const foreign = Object.assign(new Error('x'), { name: 'OAuthError', code: 'invalid_grant' });
    expect(isOAuthError(foreign)).toBe(true);
    expect(isOAuthError(new Error('x'))).toBe(false);
    expect(isOAuthError({ name: 'OAuthError', code: 'x' })).toBe(false);
  });
});
