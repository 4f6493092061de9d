import { describe, expect, it } from 'vitest';
import { createOAuthClient, type OAuthClientOptions } from '../src/client.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import { memoryStorage } from '../src/services/index.js';

const provider: ProviderConfig = {
  issuer: 'https://id.example',
  authorizationEndpoint: 'https://id.example/authorize',
  tokenEndpoint: 'https://id.example/token',
};
const services = { storage: memoryStorage(), fetch: () => Promise.reject(new TypeError('offline')) };
const valid: OAuthClientOptions = {
  grant: 'authorization_code',
  provider,
  clientId: 'app',
  redirectUri: 'https://app.example/callback',
  services,
};

/** Options as a JavaScript caller could pass them, beyond what the types allow. */
function create(overrides: Record<string, unknown>): void {
  const client = createOAuthClient({ ...valid, ...overrides } as OAuthClientOptions);
  client.stop();
}

describe('createOAuthClient options', () => {
  it.each([
    ['an unknown grant', { grant: 'password' }, /unknown grant "password"/],
    ['an empty clientId', { clientId: '' }, /clientId must be a non-empty string/],
    ['a blank clientId', { clientId: '   ' }, /clientId must be a non-empty string/],
    ['authorization_code without redirectUri', { redirectUri: undefined }, /needs a redirectUri/],
    ['a relative redirectUri', { redirectUri: '/callback' }, /redirectUri must be an absolute URL/],
    ['a scope with a space', { scopes: ['openid profile'] }, /invalid scope/],
    ['an empty scope', { scopes: [''] }, /invalid scope/],
    ['an unknown pkceMethod', { pkceMethod: 'S512' }, /unknown pkceMethod/],
    ['an unknown authMethod', { authMethod: 'private_key_jwt' }, /unknown authMethod/],
    ["authMethod 'none' with a secret", { authMethod: 'none', clientSecret: 's3cret' }, /cannot be used with a clientSecret/],
    ['a secret auth method without a secret', { authMethod: 'client_secret_post' }, /needs a clientSecret/],
    ['no provider', { provider: undefined }, /provider is required/],
    ['a provider with neither tokenEndpoint nor issuer', { provider: {} }, /tokenEndpoint, or an absolute issuer/],
    [
      'authorization_code with a provider that has no authorization endpoint',
      { provider: { tokenEndpoint: 'https://id.example/token' } },
      /needs provider.authorizationEndpoint/,
    ],
    ['device_code with no device endpoint', { grant: 'device_code' }, /needs provider.deviceAuthorizationEndpoint/],
    ['client_credentials without a secret', { grant: 'client_credentials' }, /needs a clientSecret/],
    ['machine options that would misbehave', { options: { maxRefreshAttempts: 0 } }, /maxRefreshAttempts/],
    ['an empty storageKey', { storageKey: '' }, /storageKey must be a non-empty string/],
    ['a navigate that is not a function', { services: { navigate: 'https://x' } }, /navigate must be a function/],
  ])('throws a TypeError for %s', (_name, overrides, message) => {
    expect(() => create(overrides)).toThrow(TypeError);
    expect(() => create(overrides)).toThrow(message);
  });

  it('accepts a valid configuration for each grant', () => {
    expect(() => create({})).not.toThrow();
    expect(() => create({ grant: 'client_credentials', clientSecret: 'secret', redirectUri: undefined })).not.toThrow();
    expect(() =>
      create({
        grant: 'device_code',
        redirectUri: undefined,
        provider: { ...provider, deviceAuthorizationEndpoint: 'https://id.example/device' },
      }),
    ).not.toThrow();
  });

  it('accepts { issuer } alone for discovery and exposes the actor only once ready', () => {
    const client = createOAuthClient({ ...valid, provider: { issuer: 'https://id.example' } });
    expect(() => client.actor).toThrow(/await client.ready/);
    client.stop();
  });

  it('creates the actor at once with a full provider configuration', () => {
    const client = createOAuthClient(valid);
    expect(client.actor.getSnapshot().status).toBe('active');
    client.stop();
  });
});
