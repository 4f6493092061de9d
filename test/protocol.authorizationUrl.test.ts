import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildAuthorizationUrl, type AuthorizationUrlOptions } from '../src/protocol/authorizationUrl.js';
import { resolveEndpoint } from '../src/protocol/endpoints.js';
import { OAuthError } from '../src/errors.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';

const provider: ProviderConfig = {
  issuer: 'https://as.example',
  authorizationEndpoint: 'https://as.example/authorize',
  tokenEndpoint: 'https://as.example/token',
};
const client: ClientConfig = { clientId: 'app', redirectUri: 'http://127.0.0.1:5173/callback', scopes: ['openid', 'profile'] };
const base: AuthorizationUrlOptions = { state: 'st', codeChallenge: 'ch', codeChallengeMethod: 'S256' };

function params(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}

const SCOPE = fc.string({ unit: fc.constantFrom(...'abcXYZ019:*!#[]~./'), minLength: 1, maxLength: 12 });
const RESERVED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce'];

describe('authorization URL properties', () => {
  test.prop([
    fc.string({ minLength: 1 }),
    fc.string({ minLength: 1 }),
    fc.string({ minLength: 1 }),
    fc.string({ minLength: 1 }),
    fc.array(SCOPE, { maxLength: 5 }),
    fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !RESERVED.includes(k)), fc.string(), { maxKeys: 4 }),
  ])('build-then-parse returns the same parameters for arbitrary strings', (clientId, state, challenge, nonce, scopes, extra) => {
    const url = buildAuthorizationUrl(provider, { clientId }, {
      state,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce,
      scopes,
      redirectUri: 'https://app.example/cb?x=1',
      extraParams: extra,
    });
    const parsed = new URL(url).searchParams;
    for (const name of parsed.keys()) expect(parsed.getAll(name)).toHaveLength(1);
    expect(parsed.get('response_type')).toBe('code');
    expect(parsed.get('client_id')).toBe(clientId);
    expect(parsed.get('state')).toBe(state);
    expect(parsed.get('code_challenge')).toBe(challenge);
    expect(parsed.get('code_challenge_method')).toBe('S256');
    expect(parsed.get('nonce')).toBe(nonce);
    expect(parsed.get('redirect_uri')).toBe('https://app.example/cb?x=1');
    expect(parsed.get('scope')).toBe(scopes.length === 0 ? null : scopes.join(' '));
    for (const [name, value] of Object.entries(extra)) expect(parsed.get(name)).toBe(value);
  });
});

describe('buildAuthorizationUrl', () => {
  it('sends every security parameter', () => {
    expect(params(buildAuthorizationUrl(provider, client, { ...base, nonce: 'n' }))).toEqual({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'http://127.0.0.1:5173/callback',
      scope: 'openid profile',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
      nonce: 'n',
    });
  });

  it('keeps the query the endpoint already has', () => {
    const url = buildAuthorizationUrl({ ...provider, authorizationEndpoint: 'https://as.example/authorize?tenant=a&p=b' }, client, base);
    expect(params(url)).toMatchObject({ tenant: 'a', p: 'b', state: 'st' });
  });

  it('resolves an endpoint relative to the provider base URL (as SkyMavis SSO endpoints are)', () => {
    const url = buildAuthorizationUrl(
      { baseUrl: 'https://my-auth-server/', authorizationEndpoint: '/oauth2/auth', tokenEndpoint: '/oauth2/token' },
      client,
      base,
    );
    expect(url.startsWith('https://my-auth-server/oauth2/auth?')).toBe(true);
  });

  it('sends the provider name of the PKCE method (a jsonTokenEndpoint() server: SHA-256)', () => {
    const url = buildAuthorizationUrl({ ...provider, quirks: { pkceMethodNames: { S256: 'SHA-256' } } }, client, base);
    expect(params(url)['code_challenge_method']).toBe('SHA-256');
  });

  it('does not let extra parameters override the security parameters', () => {
    for (const name of RESERVED) {
      expect(() => buildAuthorizationUrl(provider, client, { ...base, extraParams: { [name]: 'x' } })).toThrow(
        expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false }),
      );
    }
    expect(params(buildAuthorizationUrl(provider, client, { ...base, extraParams: { prompt: 'login' } }))['prompt']).toBe('login');
  });

  it('refuses a scope reserved to another grant with configuration_error, never a server code (Path of Exile: service:* scopes)', () => {
    const poe = { ...provider, quirks: { scopeGrants: { 'service:*': ['client_credentials' as const] } } };
    expect(() => buildAuthorizationUrl(poe, client, { ...base, scopes: ['account:profile', 'service:leagues'] })).toThrow(
      expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false }),
    );
    expect(() => buildAuthorizationUrl(poe, client, { ...base, scopes: ['account:profile'] })).not.toThrow();
  });

  it('throws a TypeError for bad arguments', () => {
    expect(() => buildAuthorizationUrl(provider, { clientId: '' }, base)).toThrow(TypeError);
    expect(() => buildAuthorizationUrl(provider, client, { ...base, state: '' })).toThrow(TypeError);
    expect(() => buildAuthorizationUrl(provider, client, { ...base, codeChallenge: '' })).toThrow(TypeError);
    expect(() => buildAuthorizationUrl(provider, client, { ...base, codeChallengeMethod: 'S512' as never })).toThrow(TypeError);
    expect(() => buildAuthorizationUrl(provider, client, { ...base, redirectUri: '/relative' })).toThrow(TypeError);
    expect(() => buildAuthorizationUrl(provider, client, { ...base, scopes: ['two words'] })).toThrow(TypeError);
    expect(() => buildAuthorizationUrl({ tokenEndpoint: 'https://as.example/token' }, client, base)).toThrow(TypeError);
  });
});

describe('resolveEndpoint', () => {
  const at = (endpoint: string, extra: Partial<ProviderConfig> = {}): string =>
    resolveEndpoint({ tokenEndpoint: endpoint, ...extra }, 'token');

  it('refuses plain http outside loopback', () => {
    expect(() => at('http://as.example/token')).toThrow(TypeError);
    expect(() => at('http://10.0.0.1/token')).toThrow(TypeError);
    expect(() => at('http://localhost.evil.example/token')).toThrow(TypeError);
  });

  it('allows http on loopback, and anywhere with allowInsecureRequests', () => {
    expect(at('http://127.0.0.1:8080/token')).toBe('http://127.0.0.1:8080/token');
    expect(at('http://127.45.0.3/token')).toBe('http://127.45.0.3/token');
    expect(at('http://[::1]:9000/token')).toBe('http://[::1]:9000/token');
    expect(at('http://localhost/token')).toBe('http://localhost/token');
    expect(at('http://as.example/token', { allowInsecureRequests: true })).toBe('http://as.example/token');
  });

  it('refuses non-URLs, other schemes and fragments', () => {
    expect(() => at('not a url')).toThrow(TypeError);
    expect(() => at('/token')).toThrow(/baseUrl/);
    expect(() => at('ftp://as.example/token', { allowInsecureRequests: true })).toThrow(TypeError);
    expect(() => at('https://as.example/token#x')).toThrow(TypeError);
  });

  it('resolves relative endpoints against baseUrl and checks the result', () => {
    expect(at('/oauth2/token', { baseUrl: 'https://my-auth-server/' })).toBe('https://my-auth-server/oauth2/token');
    expect(at('oauth2/token', { baseUrl: 'https://h.example/api/' })).toBe('https://h.example/api/oauth2/token');
    expect(at('https://other.example/t', { baseUrl: 'https://my-auth-server/' })).toBe('https://other.example/t');
    expect(() => at('/oauth2/token', { baseUrl: 'http://my-auth-server/' })).toThrow(TypeError);
  });

  it('names the missing endpoint', () => {
    expect(() => resolveEndpoint({ tokenEndpoint: 'https://as.example/t' }, 'revocation')).toThrow(/revocationEndpoint/);
  });

  it('is a configuration error, not an OAuthError', () => {
    expect(() => at('http://as.example/token')).not.toThrow(OAuthError);
  });
});
