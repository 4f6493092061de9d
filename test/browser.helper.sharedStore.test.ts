/**
 * localStorage as Chromium hands it to tabs: each tab (renderer process)
 * reads its own copy, which takes another tab's writes only some time later,
 * while a Web Lock's release and grant travel on another channel. A tab
 * granted the refresh lock right after another tab refreshed can so read the
 * old session from its copy. These fakes make that lag deterministic: a
 * tab's copy takes the other tabs' writes only when told to catch up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBrowserAuth, type BrowserAuth } from '../src/browser/index.js';
import { openTabChannel, type TabChannel } from '../src/browser/tabSync.js';
import { chooseStore, tabStorage } from '../src/browser/tabStorage.js';
import type { StorageService } from '../src/services/types.js';
import type { LockManagerLike } from '../src/services/webLocks.js';
import type { WebStorageLike } from '../src/services/webStorage.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT_URI = 'https://app.test/callback';

/** One origin's localStorage, one copy per tab; a write reaches the other copies at their next `catchUp`. */
function laggingLocalStorage() {
  const copies: { items: Map<string, string>; behind: (() => void)[] }[] = [];
  return {
    /** A tab's view: reads and writes its own copy at once. */
    tab(): WebStorageLike & { items: Map<string, string>; catchUp(): void } {
      const self = { items: new Map<string, string>(), behind: [] as (() => void)[] };
      // A tab opened now starts from the newest state the origin has (its copy is loaded on first use).
      const newest = copies.at(-1);
      if (newest) for (const [key, value] of newest.items) self.items.set(key, value);
      copies.push(self);
      const write = (key: string, value: string | null): void => {
        for (const copy of copies) {
          const apply = (): void => void (value === null ? copy.items.delete(key) : copy.items.set(key, value));
          if (copy === self) apply();
          else copy.behind.push(apply);
        }
      };
      return {
        items: self.items,
        getItem: (key) => self.items.get(key) ?? null,
        setItem: (key, value) => write(key, value),
        removeItem: (key) => write(key, null),
        catchUp: () => {
          for (const apply of self.behind.splice(0)) apply();
        },
      };
    },
  };
}

/** Web Locks within one process: each name's callbacks run one after another, in request order. */
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

let origins = 0;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('two tabs on storage: "local" whose localStorage copies lag behind each other', () => {
  function createOrigin() {
    const server = createTestAuthorizationServer({
      clients: [
        { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
      ],
    });
    const metadata = server.metadata();
    const localStorage = laggingLocalStorage();
    const locks = fakeLocks();
    origins += 1;
    const storageKey = `oauth-machines-shared-${process.pid}-${origins}`;
    const open = (): { auth: BrowserAuth; storage: ReturnType<typeof localStorage.tab> } => {
      const storage = localStorage.tab();
      const auth = createBrowserAuth({
        provider: {
          issuer: server.issuer,
          authorizationEndpoint: String(metadata['authorization_endpoint']),
          tokenEndpoint: String(metadata['token_endpoint']),
          revocationEndpoint: String(metadata['revocation_endpoint']),
        },
        client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
        services: { storage: 'local', fetch: server.fetch, clock: server.clock, navigate: () => {} },
        environment: { location: { href: 'https://app.test/' }, history: null, localStorage: storage, sessionStorage: null, locks, BroadcastChannel },
        options: { storageKey },
      });
      cleanups.push(() => auth.stop());
      return { auth, storage };
    };
    return { server, storageKey, open };
  }

  it('a tab granted the refresh lock after the other tab refreshed adopts its tokens though its copy still holds the old session', async () => {
    const { server, storageKey, open } = createOrigin();
    const first = open();
    await first.auth.ready;
    await first.auth.handleCallback(await server.authorize(await first.auth.login()));
    const second = open();
    await second.auth.ready;
    const before = await second.auth.getTokens();
    expect(before?.accessToken).toBe((await first.auth.getTokens())?.accessToken);

    // Past expiry, both tabs are asked for a token at once: one refreshes, the other waits for the lock.
    server.clock.set((before?.expiresAt ?? 0) + 1_000);
    const [fromFirst, fromSecond] = await Promise.all([first.auth.getAccessToken(), second.auth.getAccessToken()]);

    // The second tab's copy never caught up: it still holds the session from before the refresh.
    expect(JSON.parse(second.storage.items.get(storageKey) ?? 'null')).toMatchObject({ tokens: { accessToken: before?.accessToken } });
    const refreshes = server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'refresh_token');
    expect(refreshes.map((entry) => entry.status)).toEqual([200]);
    expect(fromSecond).toBe(fromFirst);
    expect(fromFirst).not.toBe(before?.accessToken);
    expect(server.isActive(fromFirst)).toBe(true);
  });
});

describe('tabStorage over a shared store whose copies lag', () => {
  const blob = (accessToken: string, savedAt: number): string =>
    JSON.stringify({ version: 1, machine: 'authorizationCode', state: 'authenticated', tokens: { accessToken }, savedAt });
  const key = 'oauth-machines';
  let channels = 0;

  /** Two tabs of one origin: real tab channels (BroadcastChannel) and locks, copies that lag. */
  function twoTabs(start = 1_000) {
    const origin = laggingLocalStorage();
    const locks = fakeLocks();
    channels += 1;
    const name = `oauth-machines-shared-store-${process.pid}-${channels}`;
    let time = start;
    const now = (): number => time;
    const tab = () => {
      const local = origin.tab();
      const chosen = chooseStore('local', { localStorage: local });
      let handler: (key: string, value: string | null, at?: number) => Promise<void> = () => Promise.resolve();
      const channel: TabChannel = openTabChannel(name, { BroadcastChannel }, (message) => {
        if (message.type === 'write') void handler(message.key, message.value, message.at);
      });
      cleanups.push(() => channel.close());
      const { storage, applyMirroredWrite } = tabStorage(chosen, locks, channel, { now });
      handler = applyMirroredWrite;
      return { storage, applyMirroredWrite, local };
    };
    return { a: tab(), b: tab(), tick: (ms: number) => void (time += ms) };
  }

  /** What `storage` reads under the refresh lock, as the machine's renew does. */
  const readUnderLock = (storage: StorageService): Promise<string | null> => {
    const lock = storage.lock;
    if (lock === undefined) throw new Error('the storage has no lock');
    return lock('oauth-machines:refresh', () => storage.get(key));
  };

  it('reads the newest session under the lock: another tab\'s write its copy has not taken yet', async () => {
    const { a, b, tick } = twoTabs();
    await a.storage.set(key, blob('at-1', 1_000));
    b.local.catchUp();
    tick(10);
    await a.storage.lock?.('oauth-machines:refresh', () => a.storage.set(key, blob('at-2', 1_010)));
    expect(b.local.getItem(key)).toBe(blob('at-1', 1_000));
    expect(await readUnderLock(b.storage)).toBe(blob('at-2', 1_010));
  });

  it('reads a logout in another tab as no session, though its copy still holds the session', async () => {
    const { a, b, tick } = twoTabs();
    await a.storage.set(key, blob('at-1', 1_000));
    b.local.catchUp();
    tick(10);
    await a.storage.remove(key);
    expect(b.local.getItem(key)).toBe(blob('at-1', 1_000));
    expect(await readUnderLock(b.storage)).toBeNull();
    // Once its copy caught up, the copy is what it reads again: a later login elsewhere shows.
    b.local.catchUp();
    tick(10);
    await a.storage.set(key, blob('at-3', 1_020));
    b.local.catchUp();
    expect(await readUnderLock(b.storage)).toBe(blob('at-3', 1_020));
  });

  it('reads its copy once the copy holds a newer session than the last message', async () => {
    const { a, b } = twoTabs();
    await a.applyMirroredWrite(key, blob('at-1', 1_000));
    a.local.setItem(key, blob('at-2', 2_000));
    expect(await a.storage.get(key)).toBe(blob('at-2', 2_000));
    // A removal stamped before that session does not hide it either.
    await b.applyMirroredWrite(key, null, 1_500);
    b.local.setItem(key, blob('at-2', 2_000));
    expect(await b.storage.get(key)).toBe(blob('at-2', 2_000));
  });

  it('lets no late message replace a newer one, and writes none of them into the store', async () => {
    const { a } = twoTabs();
    await a.applyMirroredWrite(key, blob('at-2', 2_000));
    await a.applyMirroredWrite(key, blob('at-1', 1_000));
    await a.applyMirroredWrite(key, null, 1_500);
    expect(await a.storage.get(key)).toBe(blob('at-2', 2_000));
    expect(a.local.items.has(key)).toBe(false);
  });

  it('posts its writes and removals with their time, but not a login under way', async () => {
    const posted: unknown[] = [];
    const channel: TabChannel = { transport: 'broadcast-channel', post: (message) => void posted.push(message), flush: () => Promise.resolve(), close() {} };
    const { storage } = tabStorage(chooseStore('local', { localStorage: laggingLocalStorage().tab() }), undefined, channel, { now: () => 5_000 });
    const pending = JSON.stringify({ version: 1, state: 'awaitingCallback', pending: { state: 's' }, savedAt: 4_000 });
    await storage.set(key, blob('at-1', 3_000));
    await storage.set(key, pending);
    await storage.remove(key);
    expect(posted).toEqual([
      { type: 'write', key, value: blob('at-1', 3_000), at: 3_000 },
      { type: 'write', key, value: null, at: 5_000 },
    ]);
  });

  it('a login under way written in this tab is what this tab reads, whatever another tab posted before', async () => {
    const { a } = twoTabs();
    await a.applyMirroredWrite(key, blob('at-1', 2_000));
    const pending = JSON.stringify({ version: 1, state: 'awaitingCallback', pending: { state: 's' }, savedAt: 1_000 });
    await a.storage.set(key, pending);
    expect(await a.storage.get(key)).toBe(pending);
  });
});
