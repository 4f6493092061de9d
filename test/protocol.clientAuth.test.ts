import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { applyClientAuth, basicCredentials, resolveClientAuthMethod } from '../src/protocol/clientAuth.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';

const provider: ProviderConfig = { tokenEndpoint: 'https://as.example/token' };

/** Decodes Basic credentials without the library: base64 → UTF-8 → split at ':' → form-decode each half. */
function decodeBasic(header: string): [string, string] {
  expect(header.startsWith('Basic ')).toBe(true);
  const pair = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  const formDecode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return [formDecode(pair.slice(0, colon)), formDecode(pair.slice(colon + 1))];
}

function apply(client: ClientConfig, on: ProviderConfig = provider): { params: Record<string, string>; headers: Record<string, string> } {
  const params: Record<string, string> = { grant_type: 'client_credentials' };
  const headers: Record<string, string> = {};
  applyClientAuth(on, client, params, headers);
  return { params, headers };
}

describe('Basic credentials properties', () => {
  test.prop([fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' })])(
    'Basic credentials round-trip for arbitrary Unicode ids and secrets (decoded independently)',
    (id, secret) => {
      const header = basicCredentials(id, secret);
      expect(decodeBasic(header)).toEqual([id, secret]);
      // RFC 6749 §2.3.1: the encoded halves leave only the form-safe characters unescaped.
      const pair = Buffer.from(header.slice(6), 'base64').toString('latin1');
      expect(pair).toMatch(/^[A-Za-z0-9*\-._+%]*:[A-Za-z0-9*\-._+%]*$/);
    },
  );
});

describe('basicCredentials', () => {
  it('form-encodes before base64, unlike encodeURIComponent (space, !\'()*)', () => {
    const header = basicCredentials("a b!'()*", 'x:y~');
    const pair = Buffer.from(header.slice(6), 'base64').toString('latin1');
    expect(pair).toBe('a+b%21%27%28%29*:x%3Ay%7E');
  });
});

describe('client authentication methods', () => {
  it('none puts client_id in the body and no Authorization header', () => {
    expect(apply({ clientId: 'app' })).toEqual({ params: { grant_type: 'client_credentials', client_id: 'app' }, headers: {} });
  });

  it('client_secret_post puts id and secret in the body', () => {
    expect(apply({ clientId: 'app', clientSecret: 's3', authMethod: 'client_secret_post' })).toEqual({
      params: { grant_type: 'client_credentials', client_id: 'app', client_secret: 's3' },
      headers: {},
    });
  });

  it('client_secret_basic sends an Authorization header and no secret in the body', () => {
    const { params, headers } = apply({ clientId: 'app', clientSecret: 's3', authMethod: 'client_secret_basic' });
    expect(params).toEqual({ grant_type: 'client_credentials' });
    expect(decodeBasic(headers['Authorization'] ?? '')).toEqual(['app', 's3']);
  });

  it('defaults to client_secret_basic with a secret, none without', () => {
    expect(resolveClientAuthMethod(provider, { clientId: 'a', clientSecret: 's' })).toBe('client_secret_basic');
    expect(resolveClientAuthMethod(provider, { clientId: 'a' })).toBe('none');
  });

  it("defaults to the provider's only allowed method (Path of Exile: client_secret_post)", () => {
    const poe = { ...provider, quirks: { clientAuthMethods: ['client_secret_post' as const] } };
    expect(resolveClientAuthMethod(poe, { clientId: 'a', clientSecret: 's' })).toBe('client_secret_post');
    expect(apply({ clientId: 'a', clientSecret: 's' }, poe).params).toMatchObject({ client_id: 'a', client_secret: 's' });
  });

  it('still serves a public PKCE client when the provider lists only secret methods', () => {
    const poe = { ...provider, quirks: { clientAuthMethods: ['client_secret_post' as const] } };
    expect(resolveClientAuthMethod(poe, { clientId: 'a' })).toBe('none');
  });

  it('refuses a method the provider forbids with configuration_error (no status: the server never saw it)', () => {
    const poe = { ...provider, quirks: { clientAuthMethods: ['client_secret_post' as const] } };
    const refused = expect.objectContaining({ name: 'OAuthError', code: 'configuration_error', status: undefined, retryable: false });
    expect(() => apply({ clientId: 'a', clientSecret: 's', authMethod: 'client_secret_basic' }, poe)).toThrow(refused);
    expect(() => apply({ clientId: 'a', clientSecret: 's', authMethod: 'none' }, poe)).toThrow(refused);
  });

  it('refuses secret methods without a secret, unknown methods and an empty client id', () => {
    expect(() => apply({ clientId: 'a', authMethod: 'client_secret_post' })).toThrow(TypeError);
    expect(() => apply({ clientId: 'a', authMethod: 'client_secret_basic' })).toThrow(TypeError);
    expect(() => apply({ clientId: 'a', clientSecret: 's', authMethod: 'private_key_jwt' as never })).toThrow(TypeError);
    expect(() => apply({ clientId: '' })).toThrow(TypeError);
  });
});
