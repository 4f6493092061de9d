/**
 * JWT client authentication (RFC 7523) in the protocol: the builders mark the
 * request, `signClientAssertion` signs a new single-use assertion into it,
 * `sendRequest` never sends one unsigned; the provider's metadata refuses a
 * method or an algorithm it does not accept before anything is sent.
 */
import { describe, expect, it } from 'vitest';
import { compactVerify, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { OAuthError } from '../src/errors.js';
import { CLIENT_ASSERTION_TYPE, privateKeyAlgorithm, signClientAssertion } from '../src/protocol/clientAssertion.js';
import { resolveClientAuthMethod } from '../src/protocol/clientAuth.js';
import { sendRequest } from '../src/protocol/providerRequest.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { webCrypto } from '../src/services/webCrypto.js';
import { manualClock } from '../src/services/clock.js';

const provider: ProviderConfig = { issuer: 'https://as.example', tokenEndpoint: 'https://as.example/token' };
const NOW = Date.parse('2026-01-01T00:00:00Z');

/** A WebCrypto P-256 pair, the private key non-extractable. */
async function keyPair(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

function services() {
  return { crypto: webCrypto(), clock: manualClock(NOW) };
}

describe('private_key_jwt', () => {
  it('builds a token request that waits for its assertion, and signs a new one for each send', async () => {
    const { privateKey, publicKey } = await keyPair();
    const client: ClientConfig = { clientId: 'app', authMethod: 'private_key_jwt', privateKey, keyId: 'k1' };
    const request = tokenRequest.clientCredentials(provider, client, {});
    expect(request.clientAssertion).toEqual({ audience: 'https://as.example' });
    expect(new URLSearchParams(request.init.body).get('client_id')).toBe('app');

    const first = await signClientAssertion({ provider, client, services: services() }, request);
    const second = await signClientAssertion({ provider, client, services: services() }, request);
    expect(first.clientAssertion).toBeUndefined();
    const body = new URLSearchParams(first.init.body);
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
    const assertion = body.get('client_assertion') ?? '';
    await compactVerify(assertion, publicKey);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k1' });
    expect(decodeJwt(assertion)).toEqual({
      iss: 'app',
      sub: 'app',
      aud: 'https://as.example',
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      iat: NOW / 1000,
      exp: NOW / 1000 + 60,
    });
    const again = new URLSearchParams(second.init.body).get('client_assertion') ?? '';
    expect(decodeJwt(again).jti).not.toBe(decodeJwt(assertion).jti);
  });

  it('signs JSON-encoded token requests too', async () => {
    const { privateKey } = await keyPair();
    const client: ClientConfig = { clientId: 'app', authMethod: 'private_key_jwt', privateKey };
    const json = { ...provider, quirks: { tokenRequestEncoding: 'json' as const } };
    const signed = await signClientAssertion({ provider, client, services: services() }, tokenRequest.clientCredentials(json, client, {}));
    expect(JSON.parse(signed.init.body ?? '')).toMatchObject({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE });
  });

  it('takes a private JWK, with its own kid and alg', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(pair.privateKey)), kid: 'ed-1' };
    const client: ClientConfig = { clientId: 'app', authMethod: 'private_key_jwt', privateKey: jwk };
    const signed = await signClientAssertion({ provider, client, services: services() }, tokenRequest.clientCredentials(provider, client, {}));
    const assertion = new URLSearchParams(signed.init.body).get('client_assertion') ?? '';
    await compactVerify(assertion, pair.publicKey);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'EdDSA', kid: 'ed-1' });
  });

  it('names the algorithm of each kind of key', async () => {
    const rsa = await crypto.subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-384' },
      false,
      ['sign', 'verify'],
    );
    expect(privateKeyAlgorithm(rsa.privateKey)).toBe('PS384');
    expect(privateKeyAlgorithm({ kty: 'EC', crv: 'P-384' })).toBe('ES384');
    expect(privateKeyAlgorithm({ kty: 'RSA' })).toBe('RS256');
    expect(privateKeyAlgorithm({ kty: 'EC', crv: 'P-256' }, 'ES256')).toBe('ES256');
    expect(() => privateKeyAlgorithm({ kty: 'oct' })).toThrow(TypeError);
  });

  it('is never sent without its assertion', async () => {
    const { privateKey } = await keyPair();
    const client: ClientConfig = { clientId: 'app', authMethod: 'private_key_jwt', privateKey };
    let sent = 0;
    const fetch = async () => {
      sent += 1;
      return new Response('{}');
    };
    await expect(sendRequest(fetch, tokenRequest.clientCredentials(provider, client, {}), undefined)).rejects.toThrow(/client assertion/);
    expect(sent).toBe(0);
  });
});

describe('client_secret_jwt', () => {
  it('signs with an HMAC of the secret, and names no key', async () => {
    const secret = 'a-shared-secret-of-32-bytes-or-more!';
    const client: ClientConfig = { clientId: 'app', clientSecret: secret, authMethod: 'client_secret_jwt' };
    const signed = await signClientAssertion({ provider, client, services: services() }, tokenRequest.clientCredentials(provider, client, {}));
    const body = new URLSearchParams(signed.init.body);
    expect(body.get('client_secret')).toBeNull();
    const assertion = body.get('client_assertion') ?? '';
    await compactVerify(assertion, new TextEncoder().encode(secret));
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });
});

describe('what the provider accepts', () => {
  const codeOf = (run: () => unknown): string | undefined => {
    try {
      run();
    } catch (error) {
      return error instanceof OAuthError ? error.code : `TypeError: ${(error as Error).message}`;
    }
    return undefined;
  };

  it('refuses a method the metadata does not list, before anything is sent', () => {
    const listed = { ...provider, tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'private_key_jwt'] };
    expect(codeOf(() => resolveClientAuthMethod(listed, { clientId: 'app', clientSecret: 's', authMethod: 'client_secret_jwt' }))).toBe('configuration_error');
    expect(codeOf(() => resolveClientAuthMethod(listed, { clientId: 'app', clientSecret: 's', authMethod: 'client_secret_post' }))).toBe('configuration_error');
    expect(resolveClientAuthMethod(listed, { clientId: 'app', clientSecret: 's' })).toBe('client_secret_basic');
    // A public client does not authenticate: the list does not apply to it (RFC 6749 §2.1).
    expect(resolveClientAuthMethod(listed, { clientId: 'app' })).toBe('none');
  });

  it('picks the secret method the metadata lists when the client names none', () => {
    expect(resolveClientAuthMethod({ ...provider, tokenEndpointAuthMethodsSupported: ['client_secret_post'] }, { clientId: 'app', clientSecret: 's' })).toBe(
      'client_secret_post',
    );
  });

  it('refuses an assertion algorithm outside token_endpoint_auth_signing_alg_values_supported, before anything is sent', async () => {
    const { privateKey } = await keyPair();
    const listed = { ...provider, tokenEndpointAuthSigningAlgValuesSupported: ['RS256'] };
    for (const client of [
      { clientId: 'app', authMethod: 'private_key_jwt', privateKey },
      { clientId: 'app', clientSecret: 's', authMethod: 'client_secret_jwt' },
    ] satisfies ClientConfig[]) {
      const refused = await signClientAssertion({ provider: listed, client, services: services() }, tokenRequest.clientCredentials(listed, client, {})).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(OAuthError);
      expect((refused as OAuthError).code).toBe('configuration_error');
    }
  });

  it('needs a private key for private_key_jwt', () => {
    expect(codeOf(() => resolveClientAuthMethod(provider, { clientId: 'app', authMethod: 'private_key_jwt' }))).toMatch(/needs client.privateKey/);
  });
});
