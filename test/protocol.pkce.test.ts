import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../src/protocol/base64url.js';
import { createCodeChallenge, createCodeVerifier, createPkce, pkceMethodWireName } from '../src/protocol/pkce.js';
import { createNonce, createState, randomToken } from '../src/protocol/random.js';
import { countingCrypto, fixedCrypto } from './protocol.fixtures.js';

const LEGAL_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const verifierArbitrary = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'),
  minLength: 43,
  maxLength: 128,
});

describe('PKCE properties', () => {
  test.prop([fc.integer({ min: 43, max: 128 }), fc.uint8Array({ minLength: 1, maxLength: 64 })])(
    'every generated verifier has a legal length and alphabet (RFC 7636 §4.1)',
    (length, bytes) => {
      const verifier = createCodeVerifier(fixedCrypto(bytes), length);
      expect(verifier).toHaveLength(length);
      expect(verifier).toMatch(LEGAL_VERIFIER);
    },
  );

  test.prop([verifierArbitrary])(
    'the S256 challenge equals base64url(SHA-256(verifier)) computed independently by node:crypto',
    async (verifier) => {
      const expected = createHash('sha256').update(verifier, 'ascii').digest('base64url');
      expect(await createCodeChallenge(countingCrypto(), verifier, 'S256')).toBe(expected);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 300 })])('base64url decode inverts encode, and encode agrees with node', (bytes) => {
    const text = base64urlEncode(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64url'));
    expect(Array.from(base64urlDecode(text))).toEqual(Array.from(bytes));
  });
});

describe('PKCE', () => {
  it('makes a 43-character verifier from 32 random bytes by default', () => {
    const requested: number[] = [];
    const crypto = countingCrypto();
    const verifier = createCodeVerifier({ ...crypto, randomBytes: (n) => (requested.push(n), crypto.randomBytes(n)) });
    expect(verifier).toHaveLength(43);
    expect(requested).toEqual([32]);
  });

  it('creates S256 unless plain is asked for explicitly', async () => {
    const pkce = await createPkce(countingCrypto());
    expect(pkce.method).toBe('S256');
    expect(pkce.challenge).not.toBe(pkce.verifier);
    const plain = await createPkce(countingCrypto(), { method: 'plain' });
    expect(plain.method).toBe('plain');
    expect(plain.challenge).toBe(plain.verifier);
  });

  it('rejects verifiers of the wrong length or alphabet with a TypeError', async () => {
    const crypto = countingCrypto();
    await expect(createCodeChallenge(crypto, 'a'.repeat(42))).rejects.toThrow(TypeError);
    await expect(createCodeChallenge(crypto, 'a'.repeat(129))).rejects.toThrow(TypeError);
    await expect(createCodeChallenge(crypto, `${'a'.repeat(42)}+`)).rejects.toThrow(TypeError);
    await expect(createCodeChallenge(crypto, `${'a'.repeat(42)}é`)).rejects.toThrow(TypeError);
    await expect(createCodeChallenge(crypto, 'a'.repeat(43), 'S512' as never)).rejects.toThrow(TypeError);
    expect(() => createCodeVerifier(crypto, 42)).toThrow(TypeError);
    expect(() => createCodeVerifier(crypto, 129)).toThrow(TypeError);
  });

  it('refuses a crypto service that returns fewer bytes than asked', () => {
    expect(() => createCodeVerifier({ ...countingCrypto(), randomBytes: () => new Uint8Array(3) })).toThrow(TypeError);
  });

  it('accepts random bytes from another realm and refuses anything that is not bytes', () => {
    const otherRealm = { ...countingCrypto(), randomBytes: (n: number) => runInNewContext(`new Uint8Array(${n}).fill(7)`) as Uint8Array };
    expect(createCodeVerifier(otherRealm)).toBe('BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc');
    const notBytes = { ...countingCrypto(), randomBytes: (n: number) => Array.from({ length: n }, () => 7) as unknown as Uint8Array };
    expect(() => createCodeVerifier(notBytes)).toThrow(TypeError);
  });

  it('names the method on the wire as the provider does', () => {
    const provider = { tokenEndpoint: 'https://as.example/token', quirks: { pkceMethodNames: { S256: 'SHA-256' } } };
    expect(pkceMethodWireName(provider, 'S256')).toBe('SHA-256');
    expect(pkceMethodWireName(provider, 'plain')).toBe('plain');
    expect(pkceMethodWireName({ tokenEndpoint: 'https://as.example/token' }, 'S256')).toBe('S256');
  });
});

describe('state and nonce', () => {
  it('carry at least 128 bits of randomness as base64url', () => {
    const requested: number[] = [];
    const crypto = countingCrypto();
    const counting = { ...crypto, randomBytes: (n: number) => (requested.push(n), crypto.randomBytes(n)) };
    const state = createState(counting);
    const nonce = createNonce(counting);
    expect(requested.every((n) => n >= 16)).toBe(true);
    expect(state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(state).not.toBe(nonce);
  });

  it('refuses a token of fewer than 128 bits', () => {
    expect(() => randomToken(countingCrypto(), 15)).toThrow(TypeError);
    expect(randomToken(countingCrypto(), 16)).toHaveLength(22);
  });

  it('rejects text that is not base64url', () => {
    expect(() => base64urlDecode('ab+c')).toThrow(TypeError);
    expect(() => base64urlDecode('abcde')).toThrow(TypeError);
    expect(() => base64urlDecode('YQ==')).toThrow(TypeError);
  });
});
