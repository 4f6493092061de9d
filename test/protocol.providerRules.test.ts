/**
 * What a provider's profile forbids or bends, at the protocol level: the
 * User-Agent rule only where a runtime can set the header, the PKCE opt-out
 * sentinel, the challenge's encoding, token info, and error answers without
 * an RFC 6749 §5.2 body.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { readErrorResponse } from '../src/protocol/errorResponse.js';
import { createCodeChallenge, nopkce } from '../src/protocol/pkce.js';
import { runtimeSetsUserAgent } from '../src/protocol/providerRules.js';
import { readTokenInfoResponse } from '../src/protocol/tokenInfo.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import { pathOfExile, poe } from '../src/providers/profiles.js';
import { manualClock } from '../src/services/clock.js';
import { webCrypto } from '../src/services/webCrypto.js';

const provider = { authorizationEndpoint: 'https://id.example/authorize', tokenEndpoint: 'https://id.example/token' };
const client = { clientId: 'app', redirectUri: 'https://app.example/cb' };
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const clock = manualClock(Date.parse('2025-10-14T10:30:00Z'));

describe('the User-Agent rule (Path of Exile) applies only where the runtime can set the header', () => {
  const scope = globalThis as { document?: unknown };
  afterEach(() => {
    delete scope.document;
  });

  it('knows a browser page and a browser worker from a server runtime', () => {
    expect(runtimeSetsUserAgent({})).toBe(true);
    expect(runtimeSetsUserAgent({ document: {} })).toBe(false);
    expect(runtimeSetsUserAgent({ importScripts: () => undefined })).toBe(false);
  });

  it('in a browser, a Path of Exile token request without userAgent is built, with no User-Agent header', () => {
    scope.document = {};
    const request = tokenRequest.authorizationCode(pathOfExile(), client, { code: 'c', codeVerifier: VERIFIER });
    expect(Object.keys(request.init.headers).map((name) => name.toLowerCase())).not.toContain('user-agent');
  });

  it('on a server the rule still refuses a missing User-Agent with configuration_error', () => {
    expect(() => tokenRequest.authorizationCode(pathOfExile(), client, { code: 'c', codeVerifier: VERIFIER })).toThrow(
      expect.objectContaining({ code: 'configuration_error', status: undefined }),
    );
  });
});

describe('nopkce: the explicit opt-out, never a fake challenge', () => {
  it('an authorization URL with nopkce has neither code_challenge nor code_challenge_method', () => {
    const url = new URL(buildAuthorizationUrl(provider, client, { state: 's', codeChallenge: nopkce, codeChallengeMethod: 'S256' }));
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
  });

  it('a code exchange with nopkce sends no code_verifier; a verifier is still checked', () => {
    const body = new URLSearchParams(tokenRequest.authorizationCode(provider, client, { code: 'c', codeVerifier: nopkce }).init.body);
    expect(body.has('code_verifier')).toBe(false);
    expect(() => tokenRequest.authorizationCode(provider, client, { code: 'c', codeVerifier: '' })).toThrow(TypeError);
  });
});

describe('the challenge encoding', () => {
  it('base64 is btoa(sha256(verifier)), padded standard base64; base64url stays RFC 7636 §4.2 (appendix B)', async () => {
    const digest = createHash('sha256').update(VERIFIER).digest();
    expect(await createCodeChallenge(webCrypto(), VERIFIER, 'S256', 'base64')).toBe(digest.toString('base64'));
    expect(await createCodeChallenge(webCrypto(), VERIFIER)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
});

describe('profile limits (Poe)', () => {
  it('an authorization URL for plain or another scope is refused; S256 with apikey:create is built', () => {
    const base = { state: 's', codeChallenge: VERIFIER, codeChallengeMethod: 'S256' as const, scopes: ['apikey:create'] };
    expect(() => buildAuthorizationUrl(poe(), client, { ...base, codeChallengeMethod: 'plain' })).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    expect(() => buildAuthorizationUrl(poe(), client, { ...base, scopes: ['apikey:create', 'x'] })).toThrow(expect.objectContaining({ code: 'configuration_error' }));
    expect(() => buildAuthorizationUrl(poe(), client, base)).not.toThrow();
  });

  it('a discovered list of scopes is a hint: without onlyListedScopes nothing is refused', () => {
    const listed = { ...provider, scopesSupported: ['openid'] };
    expect(() => buildAuthorizationUrl(listed, client, { state: 's', codeChallenge: VERIFIER, codeChallengeMethod: 'S256', scopes: ['other'] })).not.toThrow();
  });
});

describe('token info', () => {
  const answer = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('reads the documented shape, expires_at (ISO 8601) in epoch ms', async () => {
    const info = await readTokenInfoResponse(
      answer({ client_id: 'YOUR_CLIENT_ID', user_id: 'user_123', scopes: ['tasks:read', 'tasks:write'], expires_at: '2025-10-14T11:30:00Z' }),
    );
    expect(info).toEqual({
      clientId: 'YOUR_CLIENT_ID',
      userId: 'user_123',
      scopes: ['tasks:read', 'tasks:write'],
      expiresAt: Date.parse('2025-10-14T11:30:00Z'),
      raw: { client_id: 'YOUR_CLIENT_ID', user_id: 'user_123', scopes: ['tasks:read', 'tasks:write'], expires_at: '2025-10-14T11:30:00Z' },
    });
  });

  it('takes epoch seconds and a space-separated scope string, and null as "does not expire"', async () => {
    expect(await readTokenInfoResponse(answer({ expires_at: 1_760_441_400, scopes: 'a b' }))).toMatchObject({ expiresAt: 1_760_441_400_000, scopes: ['a', 'b'] });
    expect(await readTokenInfoResponse(answer({ expires_at: null }))).not.toHaveProperty('expiresAt');
  });

  it('refuses a body that does not fit with invalid_response, and keeps the server’s error on a 401', async () => {
    await expect(readTokenInfoResponse(answer({ expires_at: 'tomorrow' }))).rejects.toMatchObject({ code: 'invalid_response' });
    await expect(readTokenInfoResponse(answer(['no']))).rejects.toMatchObject({ code: 'invalid_response' });
    const refused = new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    await expect(readTokenInfoResponse(refused)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });
});

describe('error answers without an RFC 6749 §5.2 body', () => {
  const empty = (status: number) => new Response(null, { status });

  it('an empty 400 from the token endpoint is invalid_grant; one with text (a gateway page) stays invalid_response', async () => {
    await expect(readTokenResponse(provider, empty(400), clock)).rejects.toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
    const page = new Response('<html><body>Bad Request</body></html>', { status: 400, headers: { 'content-type': 'text/html' } });
    await expect(readTokenResponse(provider, page, clock)).rejects.toMatchObject({ code: 'invalid_response', status: 400 });
  });

  it('an empty 401 or 403 is invalid_client only when the client authenticated', async () => {
    await expect(readTokenResponse(provider, empty(401), clock, { clientAuthenticated: true })).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
    await expect(readTokenResponse(provider, empty(403), clock, { clientAuthenticated: true })).rejects.toMatchObject({ code: 'invalid_client', status: 403 });
    await expect(readTokenResponse(provider, empty(401), clock)).rejects.toMatchObject({ code: 'invalid_response', status: 401 });
  });

  it('without where it came from, readErrorResponse keeps its old reading', async () => {
    expect(await readErrorResponse(empty(400))).toMatchObject({ code: 'invalid_response', status: 400 });
  });

  it('an empty 5xx stays a retryable failure', async () => {
    await expect(readTokenResponse(provider, empty(502), clock, { clientAuthenticated: true })).rejects.toMatchObject({ code: 'invalid_response', retryable: true });
  });
});
