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
const valid: OAuthClientOptions<'authorization_code'> = {
  grant: 'authorization_code',
  provider,
  client: { clientId: 'app', redirectUri: 'https://app.example/callback' },
  services,
};

/** Options as a JavaScript caller could pass them, beyond what the types allow; `client` keys are merged into the valid client. */
function create(overrides: Record<string, unknown>): void {
  const { client, ...rest } = overrides as { client?: Record<string, unknown> };
  const client_ = createOAuthClient({ ...valid, ...rest, client: { ...valid.client, ...client } } as OAuthClientOptions);
  client_.stop();
}

describe('createOAuthClient options', () => {
  it.each([
    ['an unknown grant', { grant: 'password' }, /unknown grant "password"/],
    ['an empty clientId', { client: { clientId: '' } }, /clientId must be a non-empty string/],
    ['a blank clientId', { client: { clientId: '   ' } }, /clientId must be a non-empty string/],
    ['authorization_code without redirectUri', { client: { redirectUri: undefined } }, /needs a redirectUri/],
    ['a relative redirectUri', { client: { redirectUri: '/callback' } }, /redirectUri must be an absolute URL/],
    ['a scope with a space', { client: { scopes: ['openid profile'] } }, /invalid scope/],
    ['an empty scope', { client: { scopes: [''] } }, /invalid scope/],
    ['an unknown pkceMethod', { client: { pkceMethod: 'S512' } }, /unknown client.pkceMethod/],
    ['an unknown authMethod', { client: { authMethod: 'tls_client_auth' } }, /unknown client.authMethod/],
    ['private_key_jwt without a privateKey', { client: { authMethod: 'private_key_jwt' } }, /'private_key_jwt' needs a privateKey/],
    [
      'private_key_jwt with a secret',
      { client: { authMethod: 'private_key_jwt', privateKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }, clientSecret: 's3cret' } },
      /takes a privateKey, not a clientSecret/,
    ],
    ['a public JWK as privateKey', { client: { authMethod: 'private_key_jwt', privateKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } } }, /private JWK/],
    ['a privateKey without private_key_jwt', { client: { clientSecret: 's3cret', privateKey: { kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd' } } }, /are for client.authMethod 'private_key_jwt'/],
    ['an unsigned client assertion', { client: { authMethod: 'client_secret_jwt', clientSecret: 's3cret', signingAlg: 'none' } }, /cannot be none/],
    ["authMethod 'none' with a secret", { client: { authMethod: 'none', clientSecret: 's3cret' } }, /cannot be used with a clientSecret/],
    ['a secret auth method without a secret', { client: { authMethod: 'client_secret_post' } }, /needs a clientSecret/],
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
    ['an empty storageKey', { options: { storageKey: '' } }, /storageKey must be a non-empty string/],
    ['a navigate that is not a function', { services: { navigate: 'https://x' } }, /navigate must be a function/],
  ])('throws a TypeError for %s', (_name, overrides, message) => {
    expect(() => create(overrides)).toThrow(TypeError);
    expect(() => create(overrides)).toThrow(message);
  });

  it.each([
    ['a misplaced auth method', { clientAuthMethod: 'client_secret_post' }, 'unknown option clientAuthMethod; did you mean client.authMethod?'],
    ['the old flat clientId', { clientId: 'app' }, 'unknown option clientId; did you mean client.clientId?'],
    ['the old flat storageKey', { storageKey: 'k' }, 'unknown option storageKey; did you mean options.storageKey?'],
    ['a snake_case secret', { client: { client_secret: 's' } }, 'unknown option client.client_secret; did you mean client.clientSecret?'],
    ['a typo in options', { options: { refreshSkew: 1 } }, 'unknown option options.refreshSkew; did you mean options.refreshSkewMs?'],
    ['a typo in provider', { provider: { ...provider, tokenEndpont: 'x' } }, 'unknown option provider.tokenEndpont; did you mean provider.tokenEndpoint?'],
    ['an unknown service', { services: { ...services, logger: {} } }, 'unknown option services.logger'],
  ])('refuses an unknown key, naming it and the known one it is close to: %s', (_name, overrides, message) => {
    expect(() => create(overrides)).toThrow(TypeError);
    expect(() => create(overrides)).toThrow(`createOAuthClient: ${message}`);
  });

  it('refuses clientAuthMethod instead of silently sending Basic', () => {
    expect(() =>
      createOAuthClient({
        grant: 'client_credentials',
        provider,
        client: { clientId: 'svc', clientSecret: 'secret' },
        // @ts-expect-error not an option: client.authMethod is
        clientAuthMethod: 'client_secret_post',
      }),
    ).toThrow(/did you mean client\.authMethod\?/);
  });

  it('accepts a valid configuration for each grant', () => {
    expect(() => create({})).not.toThrow();
    expect(() => create({ grant: 'client_credentials', client: { clientSecret: 'secret', redirectUri: undefined } })).not.toThrow();
    expect(() =>
      create({
        grant: 'device_code',
        client: { redirectUri: undefined },
        provider: { ...provider, deviceAuthorizationEndpoint: 'https://id.example/device' },
      }),
    ).not.toThrow();
  });

  it('accepts { issuer } alone for discovery, and has its actor at once, discovering', () => {
    const client = createOAuthClient({ ...valid, provider: { issuer: 'https://id.example' } });
    expect(client.actor.getSnapshot().hasTag('busy')).toBe(true);
    client.stop();
  });

  it('refuses an issuer that is not https at construction (http only on loopback or by opt-in)', () => {
    expect(() => createOAuthClient({ ...valid, provider: { issuer: 'http://id.example' } })).toThrow(TypeError);
    expect(() => createOAuthClient({ ...valid, provider: { issuer: 'https://id.example/?tenant=1' } })).toThrow(/query or fragment/);
  });

  it('creates the actor at once with a full provider configuration', () => {
    const client = createOAuthClient(valid);
    expect(client.actor.getSnapshot().status).toBe('active');
    client.stop();
  });
});

describe('createOAuthClient option types', () => {
  it('make a missing redirectUri or client secret a compile-time error', () => {
    const attempts = [
      () =>
        createOAuthClient({
          grant: 'authorization_code',
          provider,
          // @ts-expect-error the authorization code grant needs client.redirectUri
          client: { clientId: 'app' },
        }),
      () =>
        createOAuthClient({
          grant: 'client_credentials',
          provider,
          // @ts-expect-error the client credentials grant needs client.clientSecret
          client: { clientId: 'svc' },
        }),
      () =>
        createOAuthClient({
          grant: 'client_credentials',
          provider,
          // @ts-expect-error a secret-based auth method needs client.clientSecret
          client: { clientId: 'svc', authMethod: 'client_secret_post' },
        }),
      () =>
        createOAuthClient({
          grant: 'device_code',
          provider,
          // @ts-expect-error a secret-based auth method needs client.clientSecret
          client: { clientId: 'tv', authMethod: 'client_secret_basic' },
        }),
      () =>
        createOAuthClient({
          grant: 'authorization_code',
          provider,
          // @ts-expect-error 'none' takes no secret
          client: { clientId: 'app', redirectUri: 'https://app.example/cb', authMethod: 'none', clientSecret: 's' },
        }),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
  });
});
