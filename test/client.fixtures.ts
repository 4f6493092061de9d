/**
 * The world the client tests run in: the in-memory test authorization server
 * as the `fetch` service, one manual clock shared by client and server (so
 * expiry moves only when a test says so), a shared memory storage, and a
 * "browser" that records where it was sent.
 */
import { createOAuthClient, type OAuthClient, type OAuthClientOptions, type OAuthGrant } from '../src/client.js';
import { discover } from '../src/protocol/discovery.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import { manualClock, memoryStorage, type ManualClock } from '../src/services/index.js';
import type { Services, StorageService } from '../src/services/types.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
export const SERVICE_SECRET = 'service-secret-that-is-long-enough';

export type TestServer = ReturnType<typeof createTestAuthorizationServer>;

/** What a test changes of a world's client: any option, and keys of `client` (merged into the registered one). */
export type ClientOverrides<G extends OAuthGrant> = Partial<Omit<OAuthClientOptions<G>, 'client'>> & { client?: Record<string, unknown> };

export interface World {
  server: TestServer;
  clock: ManualClock;
  storage: StorageService;
  provider: ProviderConfig;
  /** Every URL the client asked the "browser" to open. */
  navigations: string[];
  services: Partial<Services>;
  /** A client of `grant` for the client registered for it, with the world's services; `overrides.client` adds to its `client`. */
  client<G extends OAuthGrant>(grant: G, overrides?: ClientOverrides<G>): OAuthClient<G>;
}

const START = Date.parse('2026-01-01T00:00:00Z');

/** A fresh world; `serverOptions` adds to the default registration. */
export async function createWorld(serverOptions: TestAuthorizationServerOptions = {}): Promise<World> {
  const clock = manualClock(START);
  const server = createTestAuthorizationServer({
    clock,
    deviceInterval: 1,
    clients: [
      {
        clientId: 'spa',
        authMethod: 'none',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'offline_access', 'read'],
      },
      {
        clientId: 'service',
        clientSecret: SERVICE_SECRET,
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: ['read', 'write'],
      },
      {
        clientId: 'tv',
        authMethod: 'none',
        redirectUris: [],
        grants: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        scopes: ['read', 'offline_access'],
      },
    ],
    ...serverOptions,
  });
  const provider = await discover(server.issuer, { fetch: server.fetch });
  const storage = memoryStorage();
  const navigations: string[] = [];
  const services: Partial<Services> = {
    fetch: server.fetch,
    clock,
    storage,
    navigate: (url) => {
      navigations.push(url);
    },
  };
  const clientOptionsFor = (grant: OAuthGrant): OAuthClientOptions => {
    switch (grant) {
      case 'authorization_code':
        return { grant, provider, services, client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] } };
      case 'client_credentials':
        return { grant, provider, services, client: { clientId: 'service', clientSecret: SERVICE_SECRET, scopes: ['read'] } };
      case 'device_code':
        return { grant, provider, services, client: { clientId: 'tv', scopes: ['read', 'offline_access'] } };
    }
  };
  return {
    server,
    clock,
    storage,
    provider,
    navigations,
    services,
    client: <G extends OAuthGrant>(grant: G, overrides: ClientOverrides<G> = {}) => {
      const base = clientOptionsFor(grant) as OAuthClientOptions<G>;
      return createOAuthClient({ ...base, ...overrides, client: { ...base.client, ...overrides.client } } as OAuthClientOptions<G>);
    },
  };
}

/** Logs an authorization-code client in: login, the server's redirect, the callback. */
export async function signIn(world: World, client: OAuthClient<'authorization_code'>): Promise<void> {
  const url = await client.login();
  await client.handleCallback(await world.server.authorize(url));
}

/** Token requests of one grant type, from the server's log. */
export function tokenRequests(world: World, grantType: string): number {
  return world.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === grantType).length;
}
