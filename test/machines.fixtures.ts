/**
 * Shared set-up of the machine tests: the in-memory test authorization
 * server as the `fetch` service, its manual clock as the `clock` service,
 * memory storage, and a few helpers to drive an actor to a settled state.
 */
import { createActor, waitFor, type Actor, type AnyMachineSnapshot, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { vi } from 'vitest';
import type { GrantInput, GrantOptions } from '../machines/types.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { xstateClock } from '../src/services/clock.js';
import type { Services, StorageService } from '../src/services/types.js';
import { webCrypto } from '../src/services/webCrypto.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import type { TestAuthorizationServerOptions, TestClient } from '../src/testing/index.js';

export const REDIRECT_URI = 'https://app.test/callback';

export const publicClient: TestClient = {
  clientId: 'app',
  authMethod: 'none',
  redirectUris: [REDIRECT_URI],
  grants: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  scopes: ['openid', 'offline_access', 'profile'],
};

export const confidentialClient: TestClient = {
  clientId: 'service',
  clientSecret: 'service-secret',
  authMethod: 'client_secret_basic',
  redirectUris: [],
  grants: ['client_credentials', 'password', 'refresh_token'],
  scopes: ['read', 'write', 'offline_access'],
};

export interface HarnessOptions {
  server?: Partial<TestAuthorizationServerOptions>;
  grant?: GrantOptions;
  provider?: Partial<ProviderConfig>;
  client?: Partial<ClientConfig>;
  storage?: StorageService;
}

export type Harness = ReturnType<typeof createHarness>;

/** A test server, the services around it, and an input for a grant machine. */
export function createHarness(options: HarnessOptions = {}) {
  const server = createTestAuthorizationServer({
    clients: [publicClient, confidentialClient],
    refreshTokens: 'offline_access',
    ...options.server,
  });
  const storage = options.storage ?? memoryStorage();
  const services: Services = { fetch: server.fetch, crypto: webCrypto(), storage, clock: server.clock };
  const metadata = server.metadata();
  const provider: ProviderConfig = {
    issuer: server.issuer,
    authorizationEndpoint: String(metadata.authorization_endpoint),
    tokenEndpoint: String(metadata.token_endpoint),
    revocationEndpoint: String(metadata.revocation_endpoint),
    deviceAuthorizationEndpoint: String(metadata.device_authorization_endpoint),
    authorizationResponseIssParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
    ...options.provider,
  };
  const client: ClientConfig = {
    clientId: 'app',
    redirectUri: REDIRECT_URI,
    scopes: ['openid', 'offline_access'],
    ...options.client,
  };
  const input: GrantInput = { provider, client, services, options: { ...options.grant } };
  const actorErrors: unknown[] = [];

  /** Starts an actor of `machine` on this harness; errors of the actor are collected in `actorErrors`. */
  function start<M extends AnyStateMachine>(machine: M, overrides: Partial<GrantInput> = {}): Actor<M> {
    const generic: AnyStateMachine = machine;
    // Like the library: the actor's delays run on the clock service.
    const actor = createActor(generic, { input: { ...input, ...overrides }, clock: xstateClock(services.clock) }) as Actor<M>;
    actor.subscribe({ error: (error) => actorErrors.push(error) });
    actor.start();
    return actor;
  }

  /** Moves the server clock and the fake timers forward together. */
  async function advance(ms: number): Promise<void> {
    server.clock.advance(ms);
    await vi.advanceTimersByTimeAsync(ms);
  }

  return { server, storage, services, provider, client, input, actorErrors, start, advance };
}

/** Waits until the actor is not busy (restoring over, no request under way). */
export function settled<M extends AnyStateMachine>(actor: Actor<M>): Promise<SnapshotFrom<M>> {
  return waitFor(actor, (snapshot) => {
    const machineSnapshot: AnyMachineSnapshot = snapshot;
    return machineSnapshot.hasTag('ready') && !machineSnapshot.hasTag('busy');
  });
}

/** The top-level state's name (`refreshing` for any of its substates). */
export function stateOf(actor: { getSnapshot(): { value: unknown } }): string {
  const { value } = actor.getSnapshot();
  return typeof value === 'object' && value !== null ? (Object.keys(value)[0] ?? '') : String(value);
}

/** The stored session blob, parsed. */
export async function storedSession(storage: StorageService, key = 'oauth-machines'): Promise<Record<string, unknown> | null> {
  const text = await storage.get(key);
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}
