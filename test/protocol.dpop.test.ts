/**
 * The DPoP building blocks (RFC 9449): keys, thumbprints, proofs, the
 * algorithm a session signs with, nonces.
 */
import { EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { chooseDpopAlgorithm, createDpopProof, dpopKeyThumbprint, dpopNonceOf, dpopTargetUri, generateDpopKey, type DpopKey } from '../src/protocol/dpop.js';
import { webCrypto } from '../src/services/webCrypto.js';

const services = { crypto: webCrypto(), clock: { now: () => 1_800_000_000_000 } };

describe('DPoP keys and proofs', () => {
  it('computes the RFC 7638 §3.1 thumbprint of its example key', async () => {
    // RFC 7638 §3.1's RSA key; its SHA-256 thumbprint is given there.
    const jwk = {
      kty: 'RSA',
      e: 'AQAB',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    };
    const publicKey = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const key = { alg: 'RS256', publicKey, privateKey: publicKey } as DpopKey;
    expect(await dpopKeyThumbprint(services.crypto, key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('generates keys whose private half cannot be exported', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const key = await generateDpopKey(alg);
      expect(key.privateKey.extractable).toBe(false);
      await expect(crypto.subtle.exportKey('jwk', key.privateKey as CryptoKey)).rejects.toThrow();
      expect(key.publicKey.extractable).toBe(true);
    }
  });

  it('signs a proof with typ, alg, the public JWK, and jti, htm, htu (no query), iat, nonce and ath', async () => {
    const key = await generateDpopKey('ES256');
    const proof = await createDpopProof(services, key, {
      htm: 'post',
      htu: 'https://rs.example/api/items?page=2#top',
      nonce: 'n-1',
      accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
    });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(services.clock.now()) });
    expect(protectedHeader).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(protectedHeader.jwk).not.toHaveProperty('d');
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://rs.example/api/items', iat: 1_800_000_000, nonce: 'n-1' });
    // RFC 9449 §7.1's example access token and its ath.
    expect(payload['ath']).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    const again = await createDpopProof(services, key, { htm: 'POST', htu: 'https://rs.example/api/items' });
    expect((await jwtVerify(again, EmbeddedJWK)).payload.jti).not.toBe(payload.jti);
  });

  it('leaves the query and fragment out of htu', () => {
    expect(dpopTargetUri('https://as.example/token?x=1#f')).toBe('https://as.example/token');
  });
});

describe('the algorithm a session signs with', () => {
  it('is ES256 unless the server lists others, then the first it lists that the library signs with', () => {
    expect(chooseDpopAlgorithm({})).toBe('ES256');
    expect(chooseDpopAlgorithm({ dpopSigningAlgValuesSupported: ['RS256', 'ES256'] })).toBe('ES256');
    expect(chooseDpopAlgorithm({ dpopSigningAlgValuesSupported: ['HS256', 'PS256', 'EdDSA'] })).toBe('PS256');
  });

  it('refuses, as configuration_error, a configured algorithm the server does not list, or a list with none it signs with', () => {
    for (const attempt of [
      () => chooseDpopAlgorithm({ dpopSigningAlgValuesSupported: ['ES256'] }, 'PS256'),
      () => chooseDpopAlgorithm({ dpopSigningAlgValuesSupported: ['HS256', 'ES512'] }),
    ]) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OAuthError);
      expect(thrown).toMatchObject({ code: 'configuration_error', retryable: false });
    }
    expect(chooseDpopAlgorithm({ dpopSigningAlgValuesSupported: ['ES256', 'PS256'] }, 'PS256')).toBe('PS256');
  });
});

describe('DPoP-Nonce', () => {
  it('reads a well-formed nonce and ignores one outside 1*NQCHAR', () => {
    expect(dpopNonceOf(new Response(null, { headers: { 'dpop-nonce': 'eyJ7S_zG.eyJH0-Z.HX4w-7v' } }))).toBe('eyJ7S_zG.eyJH0-Z.HX4w-7v');
    expect(dpopNonceOf(new Response(null, { headers: { 'dpop-nonce': 'a"b' } }))).toBeUndefined();
    expect(dpopNonceOf(new Response(null))).toBeUndefined();
  });
});
