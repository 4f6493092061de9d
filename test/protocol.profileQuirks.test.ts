/**
 * The protocol's reading of the quirks profiles declare: form-encoded token
 * answers, comma-separated scopes, and an issuer that differs per ID token.
 */
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { exchangeAuthorizationCode } from '../src/protocol/operations.js';
import { joinScopes } from '../src/protocol/scopeGrants.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import { entraIdTokenIssuer } from '../src/providers/index.js';
import { manualClock, memoryStorage, webCrypto } from '../src/services/index.js';

const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
const provider: ProviderConfig = { tokenEndpoint: 'https://id.example/token' };
const form = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('formEncodedTokenResponses', () => {
  const quirky: ProviderConfig = { ...provider, quirks: { formEncodedTokenResponses: true } };

  it('reads a form-encoded success as its fields (expires_in as text included)', async () => {
    const tokens = await readTokenResponse(quirky, form('access_token=gho_abc&token_type=bearer&expires_in=28800&scope=repo'), clock);
    expect(tokens).toMatchObject({ accessToken: 'gho_abc', tokenType: 'Bearer', expiresAt: clock.now() + 28_800_000, scope: ['repo'] });
  });

  it('reads a form-encoded error answered with 200 as the server’s error', async () => {
    const error = await failure(readTokenResponse(quirky, form('error=bad_verification_code&error_description=The+code+passed+is+incorrect'), clock));
    expect(error.code).toBe('bad_verification_code');
  });

  it('reads a form-encoded body labelled application/json (as GitHub has sent one)', async () => {
    const mislabelled = new Response('access_token=gho_abc&token_type=bearer&scope=repo%2Cgist', { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(await readTokenResponse(quirky, mislabelled, clock)).toMatchObject({ accessToken: 'gho_abc', scope: ['repo,gist'] });
    const plain = new Response('access_token=gho_abc&token_type=bearer', { headers: { 'content-type': 'application/json' } });
    expect((await failure(readTokenResponse(provider, plain, clock))).code).toBe('invalid_response');
  });

  it('refuses a form-encoded answer without the quirk, and any other media type with it', async () => {
    expect((await failure(readTokenResponse(provider, form('access_token=a&token_type=bearer'), clock))).code).toBe('invalid_response');
    const text = new Response('access_token=a&token_type=bearer', { headers: { 'content-type': 'text/plain' } });
    expect((await failure(readTokenResponse(quirky, text, clock))).code).toBe('invalid_response');
  });
});

describe('scopeDelimiter', () => {
  it('joins scopes with commas when the provider says so, and refuses a scope that contains one', () => {
    const comma: ProviderConfig = { ...provider, quirks: { scopeDelimiter: ',' } };
    expect(joinScopes(provider, ['a', 'b'])).toBe('a b');
    expect(joinScopes(comma, ['a', 'b'])).toBe('a,b');
    expect(() => joinScopes(comma, ['a,b'])).toThrow(TypeError);
    const request = tokenRequest.clientCredentials(comma, { clientId: 'c', clientSecret: 's' }, { scopes: ['x:read', 'y:write'] });
    expect(new URLSearchParams(request.init.body).get('scope')).toBe('x:read,y:write');
  });
});

describe('idTokenIssuer (Microsoft Entra ID’s tenant template)', () => {
  const template = 'https://login.example/{tenantid}/v2.0';
  const tenantProvider: ProviderConfig = { ...provider, issuer: template, quirks: { idTokenIssuer: entraIdTokenIssuer } };
  const idToken = (claims: Record<string, unknown>) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  const now = Math.floor(clock.now() / 1000);
  const exchange = (claims: Record<string, unknown>) =>
    exchangeAuthorizationCode({
      provider: tenantProvider,
      client: { clientId: 'app' },
      services: {
        fetch: async () => Response.json({ access_token: 'at', token_type: 'Bearer', id_token: idToken(claims) }),
        clock,
        crypto: webCrypto(),
        storage: memoryStorage(),
      },
      code: 'code',
      codeVerifier: 'v'.repeat(43),
    });
  const base = { sub: 'u', aud: 'app', iat: now, exp: now + 3600 };

  it('checks the ID token against the template filled with its own tid', async () => {
    await expect(exchange({ ...base, iss: 'https://login.example/t-1/v2.0', tid: 't-1' })).resolves.toMatchObject({ accessToken: 'at' });
    expect((await failure(exchange({ ...base, iss: 'https://login.example/t-1/v2.0', tid: 't-2' }))).code).toBe('invalid_id_token');
  });

  it('refuses an ID token without a usable tid', async () => {
    expect((await failure(exchange({ ...base, iss: 'https://login.example/t-1/v2.0' }))).code).toBe('invalid_id_token');
    expect((await failure(exchange({ ...base, iss: 'https://login.example/a/b/v2.0', tid: 'a/b' }))).code).toBe('invalid_id_token');
  });
});
