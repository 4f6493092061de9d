/**
 * The world a provider profile's quirk test runs in: the in-memory test
 * authorization server configured with that provider's quirks, the profile
 * pointed at it through its own base URL option, a manual clock shared by
 * client and server, and a `fetch` that remembers what the client sent.
 */
import { expect } from 'vitest';
import type { OAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { manualClock, memoryStorage, type ManualClock } from '../src/services/index.js';
import type { FetchLike, Services, StorageService } from '../src/services/types.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
export const START = Date.parse('2026-01-01T00:00:00Z');

/** One request as the client sent it. */
export interface SentRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

export interface ProfileWorld {
  server: TestAuthorizationServer;
  clock: ManualClock;
  storage: StorageService;
  services: Partial<Services> & { fetch: FetchLike };
  /** Every request the client sent, in order. */
  sent: SentRequest[];
}

export function profileWorld(options: TestAuthorizationServerOptions): ProfileWorld {
  const clock = manualClock(START);
  const server = createTestAuthorizationServer({ clock, deviceInterval: 1, ...options });
  const sent: SentRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: typeof init?.body === 'string' ? init.body : '' });
    return server.fetch(input, init);
  };
  const storage = memoryStorage();
  return { server, clock, storage, sent, services: { fetch, clock, storage, navigate: () => undefined } };
}

/** Logs an authorization-code client in through the test server and returns the tokens. */
export async function signIn(world: ProfileWorld, client: OAuthClient<'authorization_code'>) {
  const url = await client.login();
  return client.handleCallback(await world.server.authorize(url));
}

/** The `OAuthError` a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error('expected a rejection');
}

/** The token requests the server saw, optionally of one grant type. */
export function tokenRequestParams(world: ProfileWorld, grantType?: string): Record<string, string>[] {
  return world.server.tokenRequests(grantType).map((entry) => entry.params);
}
