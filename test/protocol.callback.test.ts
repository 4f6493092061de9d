import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { checkCallback, parseCallback, type CallbackResult } from '../src/protocol/callback.js';
import { OAuthError } from '../src/errors.js';

const REDIRECT = 'https://app.example/callback';
const codeOf = (result: CallbackResult): string | undefined => (result.type === 'success' ? result.code : undefined);

function thrown(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

describe('callback properties', () => {
  test.prop([fc.string({ minLength: 1 }), fc.string(), fc.string(), fc.boolean()])(
    'build-then-parse of a callback returns the same parameters for arbitrary strings (query or fragment)',
    (code, state, iss, inFragment) => {
      const search = new URLSearchParams({ code, state, iss }).toString();
      const url = inFragment ? `${REDIRECT}?app=1#${search}` : `${REDIRECT}?${search}`;
      const result = parseCallback(url);
      expect(result).toMatchObject({ type: 'success', code, state, iss });
    },
  );

  test.prop([fc.string({ minLength: 1 }), fc.string(), fc.string(), fc.string()])(
    'build-then-parse of an error callback returns the same parameters for arbitrary strings',
    (error, description, uri, state) => {
      const url = `${REDIRECT}?${new URLSearchParams({ error, error_description: description, error_uri: uri, state })}`;
      expect(parseCallback(url)).toMatchObject({ type: 'error', error, errorDescription: description, errorUri: uri, state });
    },
  );

  test.prop([fc.string({ minLength: 1 }), fc.string({ minLength: 1 })])(
    'checkCallback accepts exactly the matching state',
    (sent, received) => {
      const result = parseCallback(`${REDIRECT}?${new URLSearchParams({ code: 'c', state: received })}`);
      if (sent === received) expect(checkCallback(result, { state: sent, issRequired: false })).toEqual({ code: 'c' });
      else expect(thrown(() => checkCallback(result, { state: sent, issRequired: false })).code).toBe('state_mismatch');
    },
  );
});

describe('parseCallback', () => {
  it('reads the query when it has a code, ignoring the fragment', () => {
    expect(codeOf(parseCallback(`${REDIRECT}?code=q&state=s#code=f`))).toBe('q');
  });

  it('reads the fragment when the query has neither code nor error', () => {
    const result = parseCallback(`${REDIRECT}?page=2#code=f&state=s`);
    expect(result).toMatchObject({ type: 'success', code: 'f', state: 's', params: { code: 'f', state: 's' } });
  });

  it('reads an error response with its description and uri', () => {
    expect(parseCallback(`${REDIRECT}?error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fx&state=s`)).toEqual({
      type: 'error',
      error: 'access_denied',
      errorDescription: 'User said no',
      errorUri: 'https://x',
      state: 's',
      params: { error: 'access_denied', error_description: 'User said no', error_uri: 'https://x', state: 's' },
    });
  });

  it.each(['code', 'state', 'iss', 'error', 'error_description'])('rejects a duplicated %s parameter (RFC 6749 §3.1)', (name) => {
    const base = new URLSearchParams(name === 'error' || name === 'error_description' ? { error: 'e' } : { code: 'c' });
    base.append(name, 'a');
    if (name !== 'code' && name !== 'error') base.append(name, 'b');
    expect(thrown(() => parseCallback(`${REDIRECT}?${base}`)).code).toBe('invalid_callback');
  });

  it('rejects a callback with neither code nor error, with both, or with empty ones', () => {
    for (const query of ['?state=s', '?code=c&error=e', '?code=&state=s', '?error=&state=s', '']) {
      expect(thrown(() => parseCallback(`${REDIRECT}${query}`)).code).toBe('invalid_callback');
    }
    expect(thrown(() => parseCallback('not a url')).code).toBe('invalid_callback');
  });
});

describe('checkCallback', () => {
  const success = parseCallback(`${REDIRECT}?code=c&state=s&iss=https%3A%2F%2Fas.example`);
  const withoutIss = parseCallback(`${REDIRECT}?code=c&state=s`);

  it('returns the code of a matching callback', () => {
    expect(checkCallback(success, { state: 's', issuer: 'https://as.example', issRequired: true })).toEqual({ code: 'c' });
    expect(checkCallback(withoutIss, { state: 's', issuer: 'https://as.example', issRequired: false })).toEqual({ code: 'c' });
  });

  it('rejects a callback whose state does not match or is missing', () => {
    expect(thrown(() => checkCallback(success, { state: 'other', issRequired: false })).code).toBe('state_mismatch');
    expect(thrown(() => checkCallback(success, { state: 's2', issRequired: false })).code).toBe('state_mismatch');
    const noState = parseCallback(`${REDIRECT}?code=c`);
    expect(thrown(() => checkCallback(noState, { state: 's', issRequired: false })).code).toBe('state_mismatch');
  });

  it('rejects a missing iss when the server sends one (RFC 9207 §2.4)', () => {
    const error = thrown(() => checkCallback(withoutIss, { state: 's', issuer: 'https://as.example', issRequired: true }));
    expect(error.code).toBe('iss_mismatch');
  });

  it('rejects an iss that is present but different, even when not required', () => {
    const error = thrown(() => checkCallback(success, { state: 's', issuer: 'https://evil.example', issRequired: false }));
    expect(error.code).toBe('iss_mismatch');
  });

  it("throws the error callback's own code after checking state and iss", () => {
    const denied = parseCallback(`${REDIRECT}?error=access_denied&error_description=no&state=s&iss=https%3A%2F%2Fas.example`);
    const error = thrown(() => checkCallback(denied, { state: 's', issuer: 'https://as.example', issRequired: true }));
    expect(error).toMatchObject({ code: 'access_denied', description: 'no', retryable: false });
    expect(thrown(() => checkCallback(denied, { state: 'x', issRequired: false })).code).toBe('state_mismatch');
    expect(thrown(() => checkCallback(denied, { state: 's', issuer: 'https://evil', issRequired: false })).code).toBe('iss_mismatch');
  });

  it('refuses an expectation it cannot check', () => {
    expect(() => checkCallback(success, { state: '', issRequired: false })).toThrow(TypeError);
    expect(() => checkCallback(success, { state: 's', issRequired: true })).toThrow(TypeError);
  });
});
