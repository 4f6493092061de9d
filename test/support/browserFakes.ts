/**
 * The smallest fakes that behave like the browser's own (`location`,
 * `history`, Web Storage, `navigator.locks`), and the test server an SPA
 * signs in against, for the tests of the browser helper and of the React
 * entry in Node.
 */
import type { ProviderConfig } from '../../src/protocol/types.js';
import type { LockManagerLike } from '../../src/services/webLocks.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../../src/testing/index.js';

export const SPA_REDIRECT_URI = 'https://app.test/callback';
export const SPA_CLIENT_ID = 'spa';

/** `location`: `assign` records the navigation (the page would be gone); `href` is what the address bar shows. */
export function fakeLocation(href: string) {
  const assigned: string[] = [];
  return { href, assigned, assign: (url: string) => void assigned.push(url) };
}

/** `history.replaceState` changes the address bar, as the real one does. */
export function fakeHistory(location: { href: string }) {
  return {
    state: { router: 'kept' } as unknown,
    replaceState(data: unknown, _unused: string, url?: string | URL | null) {
      this.state = data;
      if (url !== undefined && url !== null) location.href = new URL(String(url), location.href).href;
    },
  };
}

/** A Web Storage over a Map (the part of `Storage` the library uses). */
export function fakeStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, String(value)),
    removeItem: (key: string) => void items.delete(key),
  };
}

/** `navigator.locks` with exclusive semantics: callbacks of one name run one at a time, in request order. */
export function fakeLocks(): LockManagerLike & { granted: string[] } {
  const tails = new Map<string, Promise<unknown>>();
  const granted: string[] = [];
  return {
    granted,
    request<T>(name: string, _options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(() => {
        granted.push(name);
        return callback();
      });
      tails.set(name, result.catch(() => undefined));
      return result;
    },
  };
}

/** The test server with the public SPA client registered (code + refresh, `openid profile offline_access`). */
export function spaServer(): TestAuthorizationServer {
  return createTestAuthorizationServer({
    clients: [
      {
        clientId: SPA_CLIENT_ID,
        authMethod: 'none',
        redirectUris: [SPA_REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'offline_access'],
      },
    ],
  });
}

/** `testServer`'s endpoints written out (no discovery), `iss` in callbacks. */
export function providerOf(testServer: TestAuthorizationServer): ProviderConfig {
  const metadata = testServer.metadata();
  const endpoint = (name: string): string => {
    const value = metadata[name];
    if (typeof value !== 'string') throw new Error(`the test server has no ${name}`);
    return value;
  };
  return {
    issuer: testServer.issuer,
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    revocationEndpoint: endpoint('revocation_endpoint'),
    authorizationResponseIssParameterSupported: true,
  };
}
