/**
 * Model-based property: whatever the tabs of one origin do, one after the
 * other — log in, refresh, log out, reload — they end up holding the same
 * session, and the server never sees a refresh token spent twice.
 */
import { fc } from '@fast-check/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBrowserAuth, type BrowserAuth } from '../src/browser/index.js';
import type { LockManagerLike } from '../src/services/webLocks.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT_URI = 'https://app.test/callback';

function fakeStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

function fakeLocks(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, _options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T> {
      const result = (tails.get(name) ?? Promise.resolve()).then(callback);
      tails.set(name, result.catch(() => undefined));
      return result;
    },
  };
}

type Command = { kind: 'login' | 'refresh' | 'logout' | 'reload'; tab: number };

interface Origin {
  server: TestAuthorizationServer;
  tabs: BrowserAuth[];
  open(index: number): BrowserAuth;
}

let channelCount = 0;
const stopped: BrowserAuth[] = [];
afterEach(() => {
  for (const auth of stopped.splice(0)) auth.stop();
});

function createOrigin(storage: 'local' | 'session', tabCount: number): Origin {
  const server = createTestAuthorizationServer({
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
    ],
  });
  const metadata = server.metadata();
  const localStorage = fakeStorage();
  const sessionStorages = Array.from({ length: tabCount }, () => fakeStorage());
  const locks = fakeLocks();
  channelCount += 1;
  const storageKey = `oauth-machines-tabs-${process.pid}-${channelCount}`;
  const origin: Origin = {
    server,
    tabs: [],
    open(index) {
      const auth = createBrowserAuth({
        provider: {
          issuer: server.issuer,
          authorizationEndpoint: String(metadata['authorization_endpoint']),
          tokenEndpoint: String(metadata['token_endpoint']),
          revocationEndpoint: String(metadata['revocation_endpoint']),
        },
        client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
        services: { storage, fetch: server.fetch, clock: server.clock, navigate: () => {} },
        environment: {
          location: { href: 'https://app.test/' },
          history: null,
          localStorage,
          sessionStorage: sessionStorages[index] ?? null,
          locks,
          BroadcastChannel,
        },
        options: { storageKey },
      });
      stopped.push(auth);
      origin.tabs[index] = auth;
      return auth;
    },
  };
  for (let index = 0; index < tabCount; index++) origin.open(index);
  return origin;
}

const fingerprintOf = async (auth: BrowserAuth): Promise<string> => (await auth.getTokens())?.accessToken ?? 'signed out';

/** Waits (bounded) until every tab holds the same session; returns what each holds. */
async function settle(origin: Origin): Promise<string[]> {
  let held: string[] = [];
  for (let round = 0; round < 200; round++) {
    held = await Promise.all(origin.tabs.map(fingerprintOf));
    if (held.every((value) => value === held[0])) return held;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return held;
}

async function runCommand(origin: Origin, command: Command): Promise<void> {
  const auth = origin.tabs[command.tab];
  if (auth === undefined) throw new Error('no such tab');
  const tokens = await auth.getTokens();
  switch (command.kind) {
    case 'login': {
      if (tokens !== undefined) return;
      const url = await auth.login();
      await auth.handleCallback(await origin.server.authorize(url));
      return;
    }
    case 'refresh':
      if (tokens?.expiresAt === undefined) return;
      origin.server.clock.set(tokens.expiresAt - 10_000);
      // The held token is still valid, so it is served at once and the refresh goes on behind: wait for it.
      await auth.getAccessToken();
      await vi.waitFor(() => expect(auth.actor.getSnapshot().hasTag('busy')).toBe(false));
      return;
    case 'logout':
      await auth.logout();
      return;
    case 'reload':
      auth.stop();
      await origin.open(command.tab).ready;
      return;
  }
}

describe('tabs of one origin', () => {
  for (const storage of ['local', 'session'] as const) {
    it(`converge on one session and never spend a refresh token twice, whatever they do one after another (storage: ${storage})`, async () => {
      const command = fc.record({
        kind: fc.constantFrom<Command['kind']>('login', 'refresh', 'logout', 'reload'),
        tab: fc.integer({ min: 0, max: 2 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 8 }), async (commands) => {
          const origin = createOrigin(storage, 3);
          try {
            await Promise.all(origin.tabs.map((tab) => tab.ready));
            for (const step of commands) {
              await runCommand(origin, step);
              const held = await settle(origin);
              expect(new Set(held).size, `after ${step.kind} in tab ${step.tab}: ${held.join(', ')}`).toBe(1);
            }
            const failures = origin.server.log.filter((entry) => entry.endpoint === 'token' && entry.status !== 200);
            expect(failures).toEqual([]);
            const held = await settle(origin);
            if (held[0] !== 'signed out') expect(origin.server.isActive(held[0] ?? '')).toBe(true);
          } finally {
            for (const tab of origin.tabs) tab.stop();
          }
        }),
        { numRuns: 25 },
      );
    });
  }
});
