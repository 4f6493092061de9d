/**
 * The default storage of `createOAuthClient`: `sessionStorage` when the
 * runtime has one that works (so a redirect login survives the page it
 * leaves), memory otherwise. happy-dom is not installed: a stub stands in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOAuthClient, defaultClientStorage } from '../src/client/index.js';
import { createWorld, REDIRECT_URI } from './client.fixtures.js';

class StubStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const globals = globalThis as { sessionStorage?: unknown };
afterEach(() => {
  delete globals.sessionStorage;
});

describe('createOAuthClient default storage', () => {
  it('uses sessionStorage in a browser: the pending login survives into a fresh client on the callback page', async () => {
    const stub = new StubStorage();
    globals.sessionStorage = stub;
    const world = await createWorld();
    const { storage: _storage, ...services } = world.services;
    const options = {
      grant: 'authorization_code' as const,
      provider: world.provider,
      client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
      services,
    };
    const loginPage = createOAuthClient(options);
    const url = await loginPage.login();
    expect([...stub.items.keys()]).toEqual(['oauth-machines:pending']);
    loginPage.stop();

    const callbackPage = createOAuthClient(options);
    const tokens = await callbackPage.handleCallback(await world.server.authorize(url));
    expect(tokens.accessToken).toEqual(expect.any(String));
    callbackPage.stop();
  });

  it('uses memory without sessionStorage (Node), or with one that refuses access', async () => {
    expect('sessionStorage' in globalThis).toBe(false);
    const memory = defaultClientStorage();
    await memory.set('k', 'v');
    expect(await memory.get('k')).toBe('v');

    Object.defineProperty(globalThis, 'sessionStorage', {
      configurable: true,
      get() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    const fallback = defaultClientStorage();
    await fallback.set('k', 'v');
    expect(await fallback.get('k')).toBe('v');
  });

  it('an explicit services.storage wins over sessionStorage', async () => {
    const stub = new StubStorage();
    globals.sessionStorage = stub;
    const world = await createWorld();
    const client = world.client('authorization_code');
    await client.login();
    expect(stub.items.size).toBe(0);
    expect(await world.storage.get('oauth-machines:pending')).not.toBeNull();
    client.stop();
  });
});
