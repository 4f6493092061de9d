import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { resolveEndpoint } from '../src/protocol/endpoints.js';
import { pkceMethodWireName } from '../src/protocol/pkce.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import { parseTokenResponseBody } from '../src/protocol/tokenResponse.js';
import { manualClock } from '../src/services/clock.js';
import {
  PATH_OF_EXILE_USER_AGENT_PATTERN,
  generic,
  jsonTokenEndpoint,
  mapPoeTokenResponse,
  pathOfExile,
  pathOfExileUserAgent,
  poe,
  skyMavis,
} from '../src/providers/index.js';

/** Any JSON value a server might send in a field. */
const jsonValue = fc.jsonValue();

describe('poe() token response mapping', () => {
  test.prop([fc.string({ minLength: 1 }), fc.oneof(fc.integer({ min: 0, max: 10 ** 9 }), fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constant(null))])(
    'maps any api_key / api_key_expires_in (number or null) to access_token, Bearer and expires_in (absent for null)',
    (apiKey, expiresIn) => {
      const body = { api_key: apiKey, api_key_expires_in: expiresIn };
      const mapped = mapPoeTokenResponse(body);
      expect(mapped['access_token']).toBe(apiKey);
      expect(mapped['token_type']).toBe('Bearer');
      if (expiresIn === null) expect('expires_in' in mapped).toBe(false);
      else expect(mapped['expires_in']).toBe(expiresIn);
      expect('api_key' in mapped).toBe(false);
      // Pure: the input is untouched.
      expect(body).toEqual({ api_key: apiKey, api_key_expires_in: expiresIn });
    },
  );

  test.prop([fc.dictionary(fc.string(), jsonValue), fc.string()])(
    'returns any standard body (with access_token) unchanged',
    (extras, accessToken) => {
      const body = { ...extras, access_token: accessToken };
      expect(mapPoeTokenResponse(body)).toBe(body);
    },
  );

  test.prop([fc.dictionary(fc.string(), jsonValue), fc.string({ minLength: 1 })])('returns any error body unchanged', (extras, error) => {
    const body = { ...extras, error };
    expect(mapPoeTokenResponse(body)).toBe(body);
  });

  it('keeps extra fields and passes a malformed expiry on for validation to reject', () => {
    expect(mapPoeTokenResponse({ api_key: 'k', api_key_expires_in: '3600', scope: 'apikey:create' })).toEqual({
      access_token: 'k',
      token_type: 'Bearer',
      expires_in: '3600',
      scope: 'apikey:create',
    });
  });

  it('is the mapping of the poe() profile, with its endpoints and public PKCE client', () => {
    const provider = poe();
    expect(provider.quirks?.mapTokenResponse).toBe(mapPoeTokenResponse);
    expect(resolveEndpoint(provider, 'authorization')).toBe('https://poe.com/oauth/authorize');
    expect(resolveEndpoint(provider, 'token')).toBe('https://api.poe.com/token');
    expect(provider.quirks?.pkceRequired).toBe(true);
    expect(provider.quirks?.clientAuthMethods).toEqual(['none']);
    expect(provider.scopesSupported).toEqual(['apikey:create']);
  });
});

describe('pathOfExile()', () => {
  const pattern = new RegExp(PATH_OF_EXILE_USER_AGENT_PATTERN);

  it('has the PoE endpoints, client_secret_post only, required PKCE and service scopes reserved to client credentials', () => {
    const provider = pathOfExile();
    expect(resolveEndpoint(provider, 'authorization')).toBe('https://www.pathofexile.com/oauth/authorize');
    expect(resolveEndpoint(provider, 'token')).toBe('https://www.pathofexile.com/oauth/token');
    expect(resolveEndpoint(provider, 'revocation')).toBe('https://www.pathofexile.com/oauth/token/revoke');
    expect(resolveEndpoint(provider, 'introspection')).toBe('https://www.pathofexile.com/oauth/token/introspect');
    expect(provider.quirks?.clientAuthMethods).toEqual(['client_secret_post']);
    expect(provider.quirks?.pkceRequired).toBe(true);
    expect(provider.quirks?.scopeGrants).toEqual({ 'service:*': ['client_credentials'] });
    expect(provider.quirks?.userAgentPattern).toBe(PATH_OF_EXILE_USER_AGENT_PATTERN);
  });

  it.each([
    'OAuth myapp/1.0.0 (contact: dev@example.com)',
    'OAuth myapp/1.0.0 (contact: dev@example.com) StashTabViewer',
    'OAuth my-app_2/2024.11.3-beta (contact: first.last+poe@mail.example.org) extra info here',
  ])('accepts the documented User-Agent form %s', (userAgent) => {
    expect(pattern.test(userAgent)).toBe(true);
  });

  it.each([
    'Mozilla/5.0 (X11; Linux x86_64)',
    'OAuth myapp/1.0.0',
    'OAuth myapp (contact: dev@example.com)',
    'OAuth my app/1.0.0 (contact: dev@example.com)',
    'OAuth myapp/1.0.0 (contact: not-an-email)',
    'OAuth myapp/1.0.0 (dev@example.com)',
    'oauth myapp/1.0.0 (contact: dev@example.com)',
    'OAuth myapp/1.0.0 (contact: dev@example.com)trailing',
    'xOAuth myapp/1.0.0 (contact: dev@example.com)',
  ])('rejects the User-Agent %s', (userAgent) => {
    expect(pattern.test(userAgent)).toBe(false);
  });

  test.prop([
    fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
    fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$/),
    fc.emailAddress(),
    fc.option(fc.stringMatching(/^[A-Za-z0-9]{1,10}( [A-Za-z0-9]{1,10}){0,3}$/), { nil: undefined }),
  ])('pathOfExileUserAgent builds, for any client id, version and e-mail, a value the pattern accepts', (clientId, version, contact, info) => {
    const userAgent = pathOfExileUserAgent(info === undefined ? { clientId, version, contact } : { clientId, version, contact, info });
    expect(userAgent.startsWith(`OAuth ${clientId}/${version} (contact: ${contact})`)).toBe(true);
    expect(pattern.test(userAgent)).toBe(true);
  });

  it('pathOfExileUserAgent refuses parts that break the format', () => {
    expect(() => pathOfExileUserAgent({ clientId: 'my app', version: '1', contact: 'a@b.c' })).toThrow(TypeError);
    expect(() => pathOfExileUserAgent({ clientId: 'app', version: '1', contact: 'nobody' })).toThrow(TypeError);
  });
});

describe('skyMavis()', () => {
  it('resolves /oauth2/auth and /oauth2/token against the server base URL', () => {
    const provider = skyMavis({ server: 'https://athena.skymavis.com/' });
    expect(provider.baseUrl).toBe('https://athena.skymavis.com/');
    expect(provider.authorizationEndpoint).toBe('/oauth2/auth');
    expect(resolveEndpoint(provider, 'authorization')).toBe('https://athena.skymavis.com/oauth2/auth');
    expect(resolveEndpoint(provider, 'token')).toBe('https://athena.skymavis.com/oauth2/token');
  });

  it('takes overridden endpoints, relative or absolute', () => {
    const provider = skyMavis({ server: 'https://sso.example', tokenEndpoint: '/v2/token', authorizationEndpoint: 'https://login.example/authorize' });
    expect(resolveEndpoint(provider, 'token')).toBe('https://sso.example/v2/token');
    expect(resolveEndpoint(provider, 'authorization')).toBe('https://login.example/authorize');
  });

  it('refuses a server that is not an absolute URL', () => {
    expect(() => skyMavis({ server: 'my-auth-server' })).toThrow(TypeError);
  });
});

describe('jsonTokenEndpoint()', () => {
  it('sends JSON token requests, names S256 SHA-256 on the wire and authenticates the browser client with none', () => {
    const provider = jsonTokenEndpoint({ server: 'https://auth.server.com' });
    expect(resolveEndpoint(provider, 'authorization')).toBe('https://auth.server.com/oauth2/authorize');
    expect(resolveEndpoint(provider, 'token')).toBe('https://auth.server.com/oauth2/token');
    expect(provider.quirks?.tokenRequestEncoding).toBe('json');
    expect(pkceMethodWireName(provider, 'S256')).toBe('SHA-256');
    expect(provider.quirks?.clientAuthMethods).toEqual(['none']);
  });

  it('allows a plain-http server only when asked to', () => {
    expect(() => resolveEndpoint(jsonTokenEndpoint({ server: 'http://auth.server.com' }), 'token')).toThrow(TypeError);
    const allowed = jsonTokenEndpoint({ server: 'http://auth.server.com', allowInsecureRequests: true });
    expect(resolveEndpoint(allowed, 'token')).toBe('http://auth.server.com/oauth2/token');
  });
});

describe('generic()', () => {
  it('keeps the endpoints, the token-info endpoint and the client_secret_post default', () => {
    const provider = generic({
      authorizationEndpoint: 'https://app.example.com/oauth/authorize',
      tokenEndpoint: 'https://app.example.com/oauth/token',
      revocationEndpoint: 'https://app.example.com/oauth/revoke',
      tokenInfoEndpoint: 'https://api.example.com/v1/oauth/token/info',
      scopesSupported: ['tasks:read', 'tasks:write'],
    });
    expect(resolveEndpoint(provider, 'token')).toBe('https://app.example.com/oauth/token');
    expect(resolveEndpoint(provider, 'revocation')).toBe('https://app.example.com/oauth/revoke');
    expect(resolveEndpoint(provider, 'tokenInfo')).toBe('https://api.example.com/v1/oauth/token/info');
    expect(provider.quirks?.clientAuthMethods).toEqual(['client_secret_post']);
    expect(provider.scopesSupported).toEqual(['tasks:read', 'tasks:write']);
    expect('userinfoEndpoint' in provider).toBe(false);
  });

  it('refuses a relative endpoint', () => {
    expect(() => generic({ authorizationEndpoint: '/oauth/authorize', tokenEndpoint: 'https://app.example.com/oauth/token' })).toThrow(TypeError);
  });
});

describe('profiles', () => {
  it('return a fresh object each call, so one caller cannot change another’s profile', () => {
    const first = pathOfExile();
    first.quirks?.clientAuthMethods?.push('client_secret_basic');
    expect(pathOfExile().quirks?.clientAuthMethods).toEqual(['client_secret_post']);
  });
});

describe('profiles through the protocol functions', () => {
  const verifier = 'a'.repeat(43);
  const clock = manualClock(1_700_000_000_000);

  it('Poe: a never-expiring api_key becomes a token set without expiry, a numeric one expires after that many seconds', () => {
    const forever = parseTokenResponseBody(poe(), { api_key: 'sk-poe', api_key_expires_in: null }, clock);
    expect(forever.accessToken).toBe('sk-poe');
    expect(forever.tokenType).toBe('Bearer');
    expect(forever.expiresAt).toBeUndefined();
    expect(forever.raw).toEqual({ api_key: 'sk-poe', api_key_expires_in: null });
    const hour = parseTokenResponseBody(poe(), { api_key: 'sk-poe', api_key_expires_in: 3600 }, clock);
    expect(hour.expiresAt).toBe(clock.now() + 3_600_000);
  });

  it('Poe: an error body keeps its own code', () => {
    expect(() => parseTokenResponseBody(poe(), { error: 'invalid_grant', error_description: 'PKCE verification failed' }, clock)).toThrow(
      expect.objectContaining({ code: 'invalid_grant' }),
    );
  });

  it('Path of Exile: the secret goes in the body with the required User-Agent, and a bad User-Agent is refused before sending', () => {
    const userAgent = pathOfExileUserAgent({ clientId: 'myapp', version: '1.0.0', contact: 'dev@example.com' });
    const client = { clientId: 'myapp', clientSecret: 's3cret', userAgent };
    const request = tokenRequest.clientCredentials(pathOfExile(), client, { scopes: ['service:leagues'] });
    const body = new URLSearchParams(request.init.body);
    expect(body.get('client_secret')).toBe('s3cret');
    expect(request.init.headers['authorization'] ?? request.init.headers['Authorization']).toBeUndefined();
    expect(Object.entries(request.init.headers).find(([name]) => name.toLowerCase() === 'user-agent')?.[1]).toBe(userAgent);
    expect(() => tokenRequest.clientCredentials(pathOfExile(), { ...client, userAgent: 'curl/8.0' }, { scopes: ['service:leagues'] })).toThrow(
      expect.objectContaining({ code: 'configuration_error', status: undefined }),
    );
  });

  it('Path of Exile: service:* scopes are refused in the user login flow', () => {
    expect(() =>
      buildAuthorizationUrl(pathOfExile(), { clientId: 'myapp', redirectUri: 'http://127.0.0.1:8080/callback' }, {
        state: 'state',
        codeChallenge: 'c'.repeat(43),
        codeChallengeMethod: 'S256',
        scopes: ['account:profile', 'service:leagues'],
      }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error', status: undefined }));
  });

  it('JSON token endpoint: the code exchange is a JSON body and the authorization URL says SHA-256', () => {
    const provider = jsonTokenEndpoint({ server: 'https://auth.server.com' });
    const client = { clientId: 'c02d5bf5', redirectUri: 'https://client.server.com/callback' };
    const request = tokenRequest.authorizationCode(provider, client, { code: 'AUTH_CODE', codeVerifier: verifier });
    const contentType = Object.entries(request.init.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
    expect(contentType).toMatch(/^application\/json/);
    expect(JSON.parse(request.init.body ?? '')).toMatchObject({ grant_type: 'authorization_code', code: 'AUTH_CODE', client_id: 'c02d5bf5', code_verifier: verifier });
    const url = new URL(buildAuthorizationUrl(provider, client, { state: 's', codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256' }));
    expect(url.searchParams.get('code_challenge_method')).toBe('SHA-256');
  });
});
