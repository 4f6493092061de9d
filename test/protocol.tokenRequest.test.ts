import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import type { ClientConfig, HttpRequest, ProviderConfig } from '../src/protocol/types.js';

const provider: ProviderConfig = { tokenEndpoint: 'https://as.example/token' };
const publicClient: ClientConfig = { clientId: 'app', redirectUri: 'http://127.0.0.1:5173/callback', scopes: ['read'] };
const verifier = 'v'.repeat(43);

const form = (request: HttpRequest): Record<string, string> => Object.fromEntries(new URLSearchParams(request.init.body));

describe('token requests per grant', () => {
  it('authorization_code sends code, verifier and the registered redirect URI', () => {
    const request = tokenRequest.authorizationCode(provider, publicClient, { code: 'c1', codeVerifier: verifier });
    expect(request.url).toBe('https://as.example/token');
    expect(request.init.method).toBe('POST');
    expect(form(request)).toEqual({
      grant_type: 'authorization_code',
      code: 'c1',
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:5173/callback',
      client_id: 'app',
    });
  });

  it('refresh_token sends the refresh token and a scope only when narrowing', () => {
    expect(form(tokenRequest.refreshToken(provider, publicClient, { refreshToken: 'r1' }))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'r1',
      client_id: 'app',
    });
    expect(form(tokenRequest.refreshToken(provider, publicClient, { refreshToken: 'r1', scopes: ['a', 'b'] }))['scope']).toBe('a b');
  });

  it('client_credentials sends the client scopes by default, a resource and extra parameters', () => {
    const confidential = { clientId: 'svc', clientSecret: 's', authMethod: 'client_secret_post' as const, scopes: ['x', 'y'] };
    expect(form(tokenRequest.clientCredentials(provider, confidential))).toEqual({
      grant_type: 'client_credentials',
      scope: 'x y',
      client_id: 'svc',
      client_secret: 's',
    });
    const withResource = tokenRequest.clientCredentials(provider, confidential, {
      scopes: ['z'],
      resource: 'https://api.example/',
      extraParams: { audience: 'api' },
    });
    expect(form(withResource)).toMatchObject({ scope: 'z', resource: 'https://api.example/', audience: 'api' });
  });

  it('client_credentials refuses extra parameters that replace its own', () => {
    for (const name of ['grant_type', 'client_id', 'client_secret', 'scope', 'resource']) {
      expect(() => tokenRequest.clientCredentials(provider, publicClient, { extraParams: { [name]: 'x' } })).toThrow(
        expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false }),
      );
    }
    expect(() => tokenRequest.clientCredentials(provider, publicClient, { resource: 'relative' })).toThrow(TypeError);
  });

  it('device_code uses the RFC 8628 grant type', () => {
    expect(form(tokenRequest.deviceCode(provider, publicClient, { deviceCode: 'd1' }))).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: 'd1',
      client_id: 'app',
    });
  });

  it('password sends username, password and scopes', () => {
    expect(form(tokenRequest.password(provider, publicClient, { username: 'u', password: 'p w' }))).toEqual({
      grant_type: 'password',
      username: 'u',
      password: 'p w',
      scope: 'read',
      client_id: 'app',
    });
  });

  it('throws TypeError for bad arguments before anything is sent', () => {
    expect(() => tokenRequest.authorizationCode(provider, publicClient, { code: '', codeVerifier: verifier })).toThrow(TypeError);
    expect(() => tokenRequest.authorizationCode(provider, publicClient, { code: 'c', codeVerifier: 'short' })).toThrow(TypeError);
    expect(() => tokenRequest.authorizationCode(provider, publicClient, { code: 'c', codeVerifier: `${'a'.repeat(42)}!` })).toThrow(TypeError);
    expect(() => tokenRequest.authorizationCode(provider, { clientId: '' }, { code: 'c', codeVerifier: verifier })).toThrow(TypeError);
    expect(() => tokenRequest.refreshToken(provider, publicClient, { refreshToken: '' })).toThrow(TypeError);
    expect(() => tokenRequest.deviceCode(provider, publicClient, { deviceCode: '' })).toThrow(TypeError);
    expect(() => tokenRequest.password(provider, publicClient, { username: '', password: 'p' })).toThrow(TypeError);
    expect(() => tokenRequest.deviceCode({ tokenEndpoint: 'token' }, publicClient, { deviceCode: 'd' })).toThrow(TypeError);
  });
});

describe('body encodings and headers', () => {
  it('sends form encoding with Accept: application/json by default', () => {
    const request = tokenRequest.deviceCode(provider, publicClient, { deviceCode: 'd1' });
    expect(request.init.headers).toEqual({ Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' });
  });

  it('sends JSON with the JSON content type when the provider takes JSON (a jsonTokenEndpoint() server)', () => {
    const jsonProvider = { ...provider, quirks: { tokenRequestEncoding: 'json' as const } };
    const request = tokenRequest.authorizationCode(jsonProvider, publicClient, { code: 'c1', codeVerifier: verifier });
    expect(request.init.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(request.init.body ?? '')).toEqual({
      grant_type: 'authorization_code',
      code: 'c1',
      code_verifier: verifier,
      redirect_uri: 'http://127.0.0.1:5173/callback',
      client_id: 'app',
    });
  });

  it('sends the client User-Agent when set', () => {
    const request = tokenRequest.refreshToken(provider, { ...publicClient, userAgent: 'app/1.0' }, { refreshToken: 'r' });
    expect(request.init.headers['User-Agent']).toBe('app/1.0');
  });

  it('refuses a missing or non-matching User-Agent when the provider requires a format (Path of Exile)', () => {
    const poe = { ...provider, quirks: { userAgentPattern: '^OAuth [^/\\s]+/\\S+ \\(contact: [^)]+\\)' } };
    const refused = expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false });
    expect(() => tokenRequest.refreshToken(poe, publicClient, { refreshToken: 'r' })).toThrow(refused);
    expect(() => tokenRequest.refreshToken(poe, { ...publicClient, userAgent: 'curl/8' }, { refreshToken: 'r' })).toThrow(refused);
    const ok = tokenRequest.refreshToken(poe, { ...publicClient, userAgent: 'OAuth app/1.0.0 (contact: dev@example.com)' }, { refreshToken: 'r' });
    expect(ok.init.headers['User-Agent']).toBe('OAuth app/1.0.0 (contact: dev@example.com)');
  });

  it('refuses a User-Agent with a line break', () => {
    expect(() => tokenRequest.refreshToken(provider, { ...publicClient, userAgent: 'a\r\nX-Evil: 1' }, { refreshToken: 'r' })).toThrow(TypeError);
  });
});

describe('scopes reserved to other grants (Path of Exile)', () => {
  const poe: ProviderConfig = {
    ...provider,
    quirks: { scopeGrants: { 'service:*': ['client_credentials'], 'admin': ['password'] } },
  };

  it('allows service:* scopes through client credentials', () => {
    const request = tokenRequest.clientCredentials(poe, { clientId: 'svc', clientSecret: 's' }, { scopes: ['service:leagues', 'service:leagues:ladder'] });
    expect(form(request)['scope']).toBe('service:leagues service:leagues:ladder');
  });

  it('refuses them through other grants with configuration_error before sending', () => {
    expect(() => tokenRequest.refreshToken(poe, publicClient, { refreshToken: 'r', scopes: ['service:leagues'] })).toThrow(
      expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false }),
    );
    expect(() => tokenRequest.password(poe, publicClient, { username: 'u', password: 'p', scopes: ['service:x'] })).toThrow(OAuthError);
    expect(() => tokenRequest.clientCredentials(poe, publicClient, { scopes: ['admin'] })).toThrow(OAuthError);
  });

  it('matches exact patterns exactly and prefix patterns by prefix', () => {
    expect(() => tokenRequest.password(poe, publicClient, { username: 'u', password: 'p', scopes: ['admin'] })).not.toThrow();
    expect(() => tokenRequest.clientCredentials(poe, publicClient, { scopes: ['administrator', 'servicex'] })).not.toThrow();
  });
});
