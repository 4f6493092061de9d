import { afterEach, describe, expect, it } from 'vitest';
import { openTabChannel, readTabMessage, type StorageEventSource, type TabChannel, type TabMessage } from '../src/browser/tabSync.js';
import type { TokenSet } from '../src/protocol/types.js';

const tokens: TokenSet = { accessToken: 'at-1', tokenType: 'Bearer', expiresAt: 1_000, refreshToken: 'rt-1', raw: { access_token: 'at-1' } };

/** Resolves with the next message `channel` receives (bounded: fails after 2 s of nothing). */
function inbox(): { receive: (message: TabMessage) => void; next: () => Promise<TabMessage> } {
  const queue: TabMessage[] = [];
  const waiters: ((message: TabMessage) => void)[] = [];
  return {
    receive: (message) => {
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    },
    next: () =>
      new Promise((resolve, reject) => {
        const queued = queue.shift();
        if (queued) return resolve(queued);
        const timer = setTimeout(() => reject(new Error('no message arrived')), 2_000);
        waiters.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      }),
  };
}

/** A window-like origin: one localStorage shared by its tabs, `storage` events fired in every other tab. */
function fakeOrigin() {
  const items = new Map<string, string>();
  const tabs: { listeners: Set<(event: StorageEvent) => void> }[] = [];
  const tab = (): StorageEventSource => {
    const self = { listeners: new Set<(event: StorageEvent) => void>() };
    tabs.push(self);
    const write = (key: string, newValue: string | null) => {
      const oldValue = items.get(key) ?? null;
      if (newValue === null) items.delete(key);
      else items.set(key, newValue);
      for (const other of tabs) {
        if (other === self) continue;
        for (const listener of other.listeners) listener({ key, oldValue, newValue } as StorageEvent);
      }
    };
    return {
      localStorage: { setItem: (key, value) => write(key, value), removeItem: (key) => write(key, null) },
      addEventListener: (_type, listener) => void self.listeners.add(listener),
      removeEventListener: (_type, listener) => void self.listeners.delete(listener),
    };
  };
  return { items, tab };
}

const open: TabChannel[] = [];
afterEach(() => {
  for (const channel of open.splice(0)) channel.close();
});

describe('openTabChannel', () => {
  it('carries a session change to another tab over BroadcastChannel, and not back to the sender', async () => {
    const a = inbox();
    const b = inbox();
    const tabA = openTabChannel('oauth-machines:test-1', { BroadcastChannel }, a.receive);
    const tabB = openTabChannel('oauth-machines:test-1', { BroadcastChannel }, b.receive);
    open.push(tabA, tabB);
    expect(tabA.transport).toBe('broadcast-channel');
    tabA.post({ type: 'session', tokens });
    expect(await b.next()).toEqual({ type: 'session', tokens });
    tabB.post({ type: 'session' });
    expect(await a.next()).toEqual({ type: 'session' });
  });

  it('does not mix channels of different storage keys', async () => {
    const b = inbox();
    const c = inbox();
    const tabA = openTabChannel('oauth-machines:one', { BroadcastChannel }, () => {});
    const tabB = openTabChannel('oauth-machines:one', { BroadcastChannel }, b.receive);
    const tabC = openTabChannel('oauth-machines:two', { BroadcastChannel }, c.receive);
    open.push(tabA, tabB, tabC);
    tabA.post({ type: 'write', key: 'k', value: 'v' });
    expect(await b.next()).toEqual({ type: 'write', key: 'k', value: 'v' });
    tabC.post({ type: 'session' });
    // C's own message never reaches C; the only message C could have had is A's, on another channel.
    await expect(Promise.race([c.next(), new Promise((resolve) => setTimeout(() => resolve('nothing'), 50))])).resolves.toBe('nothing');
  });

  it('falls back to the storage event when BroadcastChannel is missing, leaving nothing in localStorage', async () => {
    const origin = fakeOrigin();
    const b = inbox();
    const tabA = openTabChannel('oauth-machines', { storageEvents: origin.tab() }, () => {});
    const tabB = openTabChannel('oauth-machines', { storageEvents: origin.tab() }, b.receive);
    open.push(tabA, tabB);
    expect(tabA.transport).toBe('storage-event');
    tabA.post({ type: 'session', tokens });
    tabA.post({ type: 'session', tokens });
    expect(await b.next()).toEqual({ type: 'session', tokens });
    expect(await b.next()).toEqual({ type: 'session', tokens });
    expect(origin.items.size).toBe(0);
  });

  it('falls back when the BroadcastChannel constructor throws, and to nobody when nothing is there', () => {
    const Throwing = class {
      constructor() {
        throw new DOMException('opaque origin', 'SecurityError');
      }
    } as unknown as typeof BroadcastChannel;
    const alone = openTabChannel('oauth-machines', { BroadcastChannel: Throwing }, () => {});
    expect(alone.transport).toBe('none');
    expect(() => alone.post({ type: 'session' })).not.toThrow();
    const viaStorage = openTabChannel('oauth-machines', { BroadcastChannel: Throwing, storageEvents: fakeOrigin().tab() }, () => {});
    open.push(viaStorage);
    expect(viaStorage.transport).toBe('storage-event');
  });

  it('flush resolves only after the messages other tabs posted before it were received', async () => {
    const received: TabMessage[] = [];
    const tabA = openTabChannel('oauth-machines:flush', { BroadcastChannel }, () => {});
    const tabB = openTabChannel('oauth-machines:flush', { BroadcastChannel }, (message) => void received.push(message));
    open.push(tabA, tabB);
    for (let index = 0; index < 5; index++) tabA.post({ type: 'write', key: `k${index}`, value: String(index) });
    expect(received).toEqual([]);
    await tabB.flush();
    expect(received.map((message) => (message.type === 'write' ? message.key : ''))).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  });

  it('flush never reaches the application as a message, in this tab or another', async () => {
    const a: TabMessage[] = [];
    const b: TabMessage[] = [];
    const tabA = openTabChannel('oauth-machines:barrier', { BroadcastChannel }, (message) => void a.push(message));
    const tabB = openTabChannel('oauth-machines:barrier', { BroadcastChannel }, (message) => void b.push(message));
    open.push(tabA, tabB);
    await tabA.flush();
    await tabB.flush();
    expect([...a, ...b]).toEqual([]);
  });

  it('stops delivering after close', async () => {
    const b = inbox();
    const tabA = openTabChannel('oauth-machines:close', { BroadcastChannel }, () => {});
    const tabB = openTabChannel('oauth-machines:close', { BroadcastChannel }, b.receive);
    open.push(tabA);
    tabB.close();
    tabA.post({ type: 'session' });
    await expect(Promise.race([b.next(), new Promise((resolve) => setTimeout(() => resolve('nothing'), 50))])).resolves.toBe('nothing');
  });
});

describe('readTabMessage', () => {
  it('ignores anything that is not one of its messages', () => {
    expect(readTabMessage('session')).toBeUndefined();
    expect(readTabMessage({ type: 'session', tokens: { accessToken: 1 } })).toBeUndefined();
    expect(readTabMessage({ type: 'write', key: 'k', value: 3 })).toBeUndefined();
    expect(readTabMessage({ type: 'other' })).toBeUndefined();
    expect(readTabMessage({ type: 'hello' })).toBeUndefined();
    expect(readTabMessage({ type: 'welcome', id: 'h1', tokens, key: 'k' })).toBeUndefined();
    expect(readTabMessage({ type: 'write', key: 'k', value: null })).toEqual({ type: 'write', key: 'k', value: null });
    expect(readTabMessage({ type: 'hello', id: 'h1' })).toEqual({ type: 'hello', id: 'h1' });
    expect(readTabMessage({ type: 'welcome', id: 'h1', tokens, key: 'k', value: 'v' })).toEqual({ type: 'welcome', id: 'h1', tokens, key: 'k', value: 'v' });
  });

  it('refuses tokens the TokenSet schema refuses, as a stored session would be', () => {
    expect(readTabMessage({ type: 'session', tokens: { ...tokens, accessToken: '' } })).toBeUndefined();
    expect(readTabMessage({ type: 'session', tokens: { ...tokens, scope: 'read' } })).toBeUndefined();
    expect(readTabMessage({ type: 'session', tokens: { ...tokens, idToken: 7 } })).toBeUndefined();
    expect(readTabMessage({ type: 'session', tokens: { ...tokens, expiresAt: Number.NaN } })).toBeUndefined();
    expect(readTabMessage({ type: 'session', tokens })).toEqual({ type: 'session', tokens });
  });

  it('keeps the time of a write when it is a finite number, and drops any other', () => {
    expect(readTabMessage({ type: 'write', key: 'k', value: null, at: 1_500 })).toEqual({ type: 'write', key: 'k', value: null, at: 1_500 });
    for (const at of ['1500', Number.NaN, Number.POSITIVE_INFINITY, null]) {
      expect(readTabMessage({ type: 'write', key: 'k', value: 'v', at })).toEqual({ type: 'write', key: 'k', value: 'v' });
    }
  });
});
