/**
 * The world a fault test runs in: the test authorization server on a manual
 * clock shared with the clients, a storage that can fail, a network that
 * records and can fail — in memory, or over a faulty loopback socket when the
 * fault needs one — and the library's public faces on top: createOAuthClient,
 * createClientCredentialsCache.
 */
import { createOAuthClient, type OAuthClient, type OAuthClientOptions } from '../../src/client.js';
import { discover } from '../../src/protocol/discovery.js';
import type { ProviderConfig } from '../../src/protocol/types.js';
import { createClientCredentialsCache, type ClientCredentialsCache } from '../../src/server/tokenCache.js';
import { fetchWithTimeout, manualClock, memoryStorage, type ManualClock } from '../../src/services/index.js';
import type { Services } from '../../src/services/types.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../../src/testing/index.js';
import { faultyNetwork, type FaultyNetwork } from './faultyNetwork.js';
import { startFaultyServer, startRecordingServer, type FaultyServer, type RecordingServer } from './faultyServer.js';
import { faultyStorage, type FaultyStorage } from './faultyStorage.js';

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
export const SERVICE_SECRET = 'service-secret-that-is-long-enough';
/** Access tokens live an hour (the test server's default). */
export const ACCESS_TOKEN_TTL_MS = 3_600_000;
/** The socket transport gives up on a request after this long. */
export const SOCKET_TIMEOUT_MS = 200;
/**
 * Short backoff, so a retry costs little clock time. Every timer of the machines (the expiry timer,
 * the backoff between attempts, the device poll) runs on the world's manual clock.
 */
export const GRANT_OPTIONS = { retryBaseMs: 20, maxRefreshAttempts: 2 } as const;
/** While a cell's callers run, the manual clock moves this much every real millisecond (see {@link FaultWorld.driveClock}). */
export const CLOCK_MS_PER_TICK = 50;
/** Longer than any hold-back after a failure (a backoff, or a Retry-After capped at 10 min): move the clock by it to let it pass. */
export const BACKOFF_PASSES_MS = 11 * 60_000;

const START = Date.parse('2026-01-01T00:00:00Z');

export type Transport = 'memory' | 'socket';

export interface FaultWorld {
  transport: Transport;
  clock: ManualClock;
  server: TestAuthorizationServer;
  provider: ProviderConfig;
  storage: FaultyStorage;
  network: FaultyNetwork;
  /** Socket transport: the faulty loopback server in front of the test server, and the other origin. */
  proxy: FaultyServer | undefined;
  other: RecordingServer | undefined;
  services: Partial<Services>;
  /** An authorization-code client (public client `spa`, `openid offline_access`). */
  codeClient(overrides?: Partial<OAuthClientOptions<'authorization_code'>>): OAuthClient<'authorization_code'>;
  /** A client-credentials client (confidential client `service`). */
  credentialsClient(): OAuthClient<'client_credentials'>;
  /** A device-code client (public client `tv`, `read offline_access`). */
  deviceClient(): OAuthClient<'device_code'>;
  /** An authorization-code client that discovers the provider from the issuer. */
  discoveringClient(): OAuthClient<'authorization_code'>;
  cache(): ClientCredentialsCache;
  /**
   * Moves the manual clock {@link CLOCK_MS_PER_TICK} every real millisecond until the returned function
   * is called (or the world closes): a device poll or a backoff passes in milliseconds, and nothing
   * waits on real time.
   */
  driveClock(): () => void;
  /** Logs a code client in: login, the server's redirect, the callback. */
  signIn(client: OAuthClient<'authorization_code'>): Promise<void>;
  close(): Promise<void>;
}

export interface FaultWorldOptions {
  /** The crypto service of the clients (a seeded one keeps a property run's backoff jitter repeatable). */
  crypto?: Services['crypto'];
}

export async function createFaultWorld(transport: Transport, options: FaultWorldOptions = {}): Promise<FaultWorld> {
  const clock = manualClock(START);
  const other = transport === 'socket' ? await startRecordingServer() : undefined;
  const proxy = other === undefined ? undefined : await startFaultyServer(other);
  const server = createTestAuthorizationServer({
    ...(proxy === undefined ? {} : { issuer: proxy.url }),
    clock,
    // The device machine waits the interval on the clock, at least 1 s (5 s more after a failed poll).
    deviceInterval: 1,
    logSecrets: true,
    clients: [
      {
        clientId: 'spa',
        authMethod: 'none',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'offline_access'],
      },
      {
        clientId: 'service',
        clientSecret: SERVICE_SECRET,
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: ['read'],
      },
      {
        clientId: 'tv',
        authMethod: 'none',
        redirectUris: [],
        grants: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        scopes: ['read', 'offline_access'],
      },
    ],
  });
  proxy?.forwardTo(server.fetch);
  const provider = await discover(server.issuer, { fetch: server.fetch });
  const transportFetch = proxy === undefined ? server.fetch : fetchWithTimeout(globalThis.fetch, { timeoutMs: SOCKET_TIMEOUT_MS });
  const network = faultyNetwork(transportFetch, server);
  const storage = faultyStorage(memoryStorage());
  const services: Partial<Services> = {
    fetch: network.fetch,
    clock,
    storage,
    navigate: () => undefined,
    ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
  };
  const stoppable: { stop(): void }[] = [];
  const driveClock = (): (() => void) => {
    const ticker = setInterval(() => clock.advance(CLOCK_MS_PER_TICK), 1);
    const stop = { stop: () => clearInterval(ticker) };
    stoppable.push(stop);
    return stop.stop;
  };
  const track = <T extends { stop(): void }>(client: T): T => {
    stoppable.push(client);
    return client;
  };

  return {
    transport,
    clock,
    server,
    provider,
    storage,
    network,
    proxy,
    other,
    services,
    codeClient: (overrides = {}) =>
      track(
        createOAuthClient({
          grant: 'authorization_code',
          provider,
          client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
          services,
          options: GRANT_OPTIONS,
          ...overrides,
        }),
      ),
    credentialsClient: () =>
      track(
        createOAuthClient({
          grant: 'client_credentials',
          provider,
          client: { clientId: 'service', clientSecret: SERVICE_SECRET, scopes: ['read'] },
          services,
          options: GRANT_OPTIONS,
        }),
      ),
    deviceClient: () =>
      track(
        createOAuthClient({
          grant: 'device_code',
          provider,
          client: { clientId: 'tv', scopes: ['read', 'offline_access'] },
          services,
          options: GRANT_OPTIONS,
        }),
      ),
    discoveringClient: () =>
      track(
        createOAuthClient({
          grant: 'authorization_code',
          provider: { issuer: server.issuer },
          client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
          services,
          options: GRANT_OPTIONS,
        }),
      ),
    cache: () => {
      const cache = createClientCredentialsCache({
        provider,
        client: { clientId: 'service', clientSecret: SERVICE_SECRET, scopes: ['read'] },
        services: { fetch: network.fetch, clock, storage },
        options: GRANT_OPTIONS,
      });
      stoppable.push({ stop: () => cache.clear() });
      return cache;
    },
    driveClock,
    async signIn(client) {
      const url = await client.login();
      await client.handleCallback(await server.authorize(url));
    },
    async close() {
      for (const client of stoppable) client.stop();
      proxy?.disarm();
      await proxy?.close();
      await other?.close();
    },
  };
}
