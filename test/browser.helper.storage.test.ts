import { describe, expect, it } from 'vitest';
import { chooseStore, tabStorage } from '../src/browser/tabStorage.js';
import type { TabChannel, TabMessage } from '../src/browser/tabSync.js';
import { memoryStorage } from '../src/services/memoryStorage.js';

function fakeStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

function recordingChannel(): TabChannel & { posted: TabMessage[]; flushes: number } {
  const channel = {
    transport: 'broadcast-channel' as const,
    posted: [] as TabMessage[],
    flushes: 0,
    post: (message: TabMessage) => void channel.posted.push(message),
    flush: () => {
      channel.flushes += 1;
      return Promise.resolve();
    },
    close: () => {},
  };
  return channel;
}

const blocked = {
  getItem: (): string | null => {
    throw new DOMException('blocked', 'SecurityError');
  },
  setItem: (): void => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  },
  removeItem: (): void => {
    throw new DOMException('blocked', 'SecurityError');
  },
};

describe('chooseStore', () => {
  it('picks sessionStorage by default, per tab', async () => {
    const sessionStorage = fakeStorage();
    const chosen = chooseStore(undefined, { sessionStorage, localStorage: fakeStorage() });
    expect(chosen).toMatchObject({ scope: 'per-tab', kind: 'session' });
    await chosen.store.set('k', 'v');
    expect(sessionStorage.items.get('k')).toBe('v');
  });

  it('picks localStorage for "local", shared by the tabs', async () => {
    const localStorage = fakeStorage();
    const chosen = chooseStore('local', { sessionStorage: fakeStorage(), localStorage });
    expect(chosen).toMatchObject({ scope: 'shared', kind: 'local' });
    await chosen.store.set('k', 'v');
    expect(localStorage.items.get('k')).toBe('v');
  });

  it('treats a custom StorageService as shared and uses it as given', () => {
    const custom = memoryStorage();
    expect(chooseStore(custom, {})).toEqual({ store: custom, scope: 'shared', kind: 'custom' });
  });

  it('falls back to memory for a Web Storage that is missing or throws on write, never throwing itself', async () => {
    for (const chosen of [chooseStore('session', { sessionStorage: blocked }), chooseStore('local', { localStorage: null }), chooseStore('session', {})]) {
      expect(chosen).toMatchObject({ scope: 'per-tab', kind: 'memory' });
      await chosen.store.set('k', 'v');
      expect(await chosen.store.get('k')).toBe('v');
    }
  });
});

describe('tabStorage', () => {
  const session = JSON.stringify({ version: 1, state: 'authenticated', tokens: { accessToken: 'a' } });
  const pending = JSON.stringify({ version: 1, state: 'awaitingCallback', pending: { state: 's' } });

  it('mirrors writes and removals of a per-tab store to the other tabs, but not a login under way', async () => {
    const channel = recordingChannel();
    const { storage } = tabStorage(chooseStore('session', { sessionStorage: fakeStorage() }), undefined, channel);
    await storage.set('oauth-machines', session);
    await storage.set('oauth-machines', pending);
    await storage.remove('oauth-machines');
    expect(channel.posted).toEqual([
      { type: 'write', key: 'oauth-machines', value: session },
      { type: 'write', key: 'oauth-machines', value: null },
    ]);
  });

  it('tells the other tabs of writes to a shared store, and never writes what another tab told of into it', async () => {
    const channel = recordingChannel();
    const localStorage = fakeStorage();
    const { storage, applyMirroredWrite } = tabStorage(chooseStore('local', { localStorage }), undefined, channel, { now: () => 7 });
    await storage.set('oauth-machines', session);
    await applyMirroredWrite('oauth-machines', null, 8);
    expect(channel.posted).toEqual([{ type: 'write', key: 'oauth-machines', value: session, at: 7 }]);
    expect(localStorage.items.get('oauth-machines')).toBe(session);
  });

  it('applies a mirrored write to the per-tab store without mirroring it back', async () => {
    const channel = recordingChannel();
    const sessionStorage = fakeStorage();
    const { applyMirroredWrite } = tabStorage(chooseStore('session', { sessionStorage }), undefined, channel);
    await applyMirroredWrite('oauth-machines', session);
    expect(sessionStorage.items.get('oauth-machines')).toBe(session);
    await applyMirroredWrite('oauth-machines', null);
    expect(sessionStorage.items.has('oauth-machines')).toBe(false);
    expect(channel.posted).toEqual([]);
  });

  it('always has a lock; a granted Web Lock settles the channel first and flushes it before release, for a per-tab store and a shared one', async () => {
    const channel = recordingChannel();
    const names: string[] = [];
    const locks = {
      request<T>(name: string, _options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T> {
        names.push(name);
        return callback();
      },
    };
    const { storage } = tabStorage(chooseStore('session', { sessionStorage: fakeStorage() }), locks, channel);
    const order: string[] = [];
    const settled = tabStorage(chooseStore('session', { sessionStorage: fakeStorage() }), locks, channel, {
      settle: async () => void order.push('settle'),
    });
    expect(await storage.lock?.('oauth-machines:refresh', () => Promise.resolve('ran'))).toBe('ran');
    // One flush on the grant, one before the release.
    expect(channel.flushes).toBe(2);
    await settled.storage.lock?.('oauth-machines:refresh', async () => {
      order.push(`critical section (flushes: ${channel.flushes})`);
    });
    expect(order).toEqual(['settle', 'critical section (flushes: 2)']);
    expect(channel.flushes).toBe(3);
    expect(names).toEqual(['oauth-machines:refresh', 'oauth-machines:refresh']);

    const shared = tabStorage(chooseStore('local', { localStorage: fakeStorage() }), locks, channel);
    await shared.storage.lock?.('oauth-machines:refresh', () => Promise.resolve());
    expect(channel.flushes).toBe(5);
    // A holder that fails still flushes what it posted (a removal after invalid_grant) before the release.
    await expect(shared.storage.lock?.('oauth-machines:refresh', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(channel.flushes).toBe(7);

    const alone = tabStorage(chooseStore('local', { localStorage: fakeStorage() }), undefined, channel);
    expect(typeof alone.storage.lock).toBe('function');
  });
});
