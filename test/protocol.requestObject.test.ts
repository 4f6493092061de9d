/**
 * Signed authorization requests (JAR, RFC 9101) in the protocol, and the
 * metadata that refuses them (or an ID-token algorithm) before the user leaves.
 */
import { describe, expect, it } from 'vitest';
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { OAuthError } from '../src/errors.js';
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { signAuthorizationRequest } from '../src/protocol/requestObject.js';
import { usesRequestObject } from '../src/protocol/providerRules.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { manualClock } from '../src/services/clock.js';
import { webCrypto } from '../src/services/webCrypto.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const provider: ProviderConfig = {
  issuer: 'https://as.example',
  authorizationEndpoint: 'https://as.example/authorize?tenant=acme',
  tokenEndpoint: 'https://as.example/token',
};
const services = { crypto: webCrypto(), clock: manualClock(NOW) };
const urlOptions = { state: 's1', codeChallenge: 'c'.repeat(43), codeChallengeMethod: 'S256' as const, nonce: 'n1', scopes: ['openid'] };

async function failure(run: () => Promise<unknown> | unknown): Promise<OAuthError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError');
}

describe('signAuthorizationRequest', () => {
  it('moves every parameter into a signed request object, keeping the endpoint\'s own query', async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const client: ClientConfig = { clientId: 'app', redirectUri: 'https://app.example/cb', privateKey: pair.privateKey, keyId: 'k1', requestObject: true };
    const signed = new URL(await signAuthorizationRequest({ provider, client, services }, buildAuthorizationUrl(provider, client, urlOptions)));
    expect([...signed.searchParams.keys()]).toEqual(['tenant', 'client_id', 'response_type', 'scope', 'request']);
    const request = signed.searchParams.get('request') ?? '';
    await compactVerify(request, pair.publicKey);
    expect(decodeProtectedHeader(request)).toEqual({ alg: 'ES256', typ: 'oauth-authz-req+jwt', kid: 'k1' });
    const claims = decodeJwt(request);
    expect(claims).toEqual({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'https://app.example/cb',
      scope: 'openid',
      state: 's1',
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      nonce: 'n1',
      iss: 'app',
      aud: 'https://as.example',
      iat: NOW / 1000,
      nbf: NOW / 1000,
      exp: NOW / 1000 + 300,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });

  it('is used when the client asks or the provider requires it', () => {
    expect(usesRequestObject(provider, { clientId: 'app' })).toBe(false);
    expect(usesRequestObject(provider, { clientId: 'app', requestObject: true })).toBe(true);
    expect(usesRequestObject({ ...provider, requireSignedRequestObject: true }, { clientId: 'app' })).toBe(true);
  });

  it('refuses what the provider cannot take, before anything is sent', async () => {
    const client: ClientConfig = { clientId: 'app', clientSecret: 'a-secret-of-more-than-32-bytes-long!', requestObject: true };
    const url = buildAuthorizationUrl(provider, client, urlOptions);
    expect((await failure(() => signAuthorizationRequest({ provider: { ...provider, requestParameterSupported: false }, client, services }, url))).code).toBe(
      'configuration_error',
    );
    const rsOnly = { ...provider, requestObjectSigningAlgValuesSupported: ['RS256'] };
    expect((await failure(() => signAuthorizationRequest({ provider: rsOnly, client, services }, url))).description).toMatch(/HS256/);
    const publicClient: ClientConfig = { clientId: 'app', requestObject: true };
    expect((await failure(() => signAuthorizationRequest({ provider, client: publicClient, services }, url))).description).toMatch(/needs client.privateKey/);
  });
});

describe('the ID-token algorithm the client registered', () => {
  const client: ClientConfig = { clientId: 'app', redirectUri: 'https://app.example/cb' };
  it('is refused when the provider does not sign with it, when it is none, or an HMAC without a secret', async () => {
    const listed = { ...provider, idTokenSigningAlgValuesSupported: ['RS256'] };
    expect((await failure(() => buildAuthorizationUrl(listed, { ...client, idTokenSigningAlg: 'ES256' }, urlOptions))).code).toBe('configuration_error');
    expect((await failure(() => buildAuthorizationUrl(provider, { ...client, idTokenSigningAlg: 'none' }, urlOptions))).code).toBe('configuration_error');
    expect((await failure(() => buildAuthorizationUrl(provider, { ...client, idTokenSigningAlg: 'HS256' }, urlOptions))).code).toBe('configuration_error');
    expect(buildAuthorizationUrl(listed, { ...client, idTokenSigningAlg: 'RS256' }, urlOptions)).toMatch(/^https:\/\/as\.example\/authorize/);
    // Without openid no ID token is asked for: nothing to check.
    expect(buildAuthorizationUrl(listed, { ...client, idTokenSigningAlg: 'ES256' }, { ...urlOptions, scopes: ['api'] })).toEqual(expect.any(String));
  });
});
