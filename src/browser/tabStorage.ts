/**
 * The storage the browser helper hands to the client: the chosen store, with
 * a Web-Locks `lock` so one tab refreshes at a time, and — for stores each tab
 * has its own copy of (`sessionStorage`, memory) — every write mirrored to
 * the other tabs, so a tab that waited for the lock re-reads the tokens the
 * previous holder stored instead of spending a rotated refresh token again.
 */

import { memoryStorage } from '../services/memoryStorage.js';
import { webLocks, type LockManagerLike } from '../services/webLocks.js';
import { webStorage } from '../services/webStorage.js';
import type { StorageService } from '../services/types.js';
import type { BrowserEnvironment } from './environment.js';
import type { BrowserStorageOption } from './options.js';
import type { TabChannel } from './tabSync.js';

/** The store behind the helper, and how it relates to other tabs. */
export interface ChosenStore {
  store: StorageService;
  /** `'shared'`: every tab reads the same values (`localStorage`, most custom stores); `'per-tab'`: each tab has its own. */
  scope: 'shared' | 'per-tab';
  /** `'local'` when the `storage` event can carry tab messages. */
  kind: 'session' | 'local' | 'memory' | 'custom';
}

/**
 * Picks the store for the option. Never throws: a Web Storage that is missing
 * or blocked becomes memory (see `webStorage`), which keeps one tab working.
 */
export function chooseStore(option: BrowserStorageOption | undefined, environment: BrowserEnvironment): ChosenStore {
  if (typeof option === 'object') return { store: option, scope: 'shared', kind: 'custom' };
  if (option === 'memory') return { store: memoryStorage(), scope: 'per-tab', kind: 'memory' };
  if (option === 'local') {
    const store = webStorage(environment.localStorage ?? null);
    return store.persistent ? { store, scope: 'shared', kind: 'local' } : { store, scope: 'per-tab', kind: 'memory' };
  }
  const store = webStorage(environment.sessionStorage ?? null);
  return { store, scope: 'per-tab', kind: store.persistent ? 'session' : 'memory' };
}

/** What tab sync does with a write another tab mirrored. */
export type MirroredWriteHandler = (key: string, value: string | null) => Promise<void>;

/**
 * The storage for the client: `store` plus a lock over `locks` (or this
 * tab's own lock when Web Locks is missing). For a per-tab store, writes go
 * to the other tabs through `channel`, and a granted lock first flushes the
 * channel. Returns the storage, and what to do with a write from another tab.
 */
export function tabStorage(
  chosen: ChosenStore,
  locks: LockManagerLike | undefined,
  channel: TabChannel,
): { storage: StorageService; applyMirroredWrite: MirroredWriteHandler } {
  const { store } = chosen;
  const applyMirroredWrite: MirroredWriteHandler = (key, value) => (value === null ? store.remove(key) : store.set(key, value));
  if (chosen.scope === 'shared') {
    return { storage: webLocks(store, locks), applyMirroredWrite: () => Promise.resolve() };
  }
  const mirrored: StorageService = {
    get: (key) => store.get(key),
    set: async (key, value) => {
      await store.set(key, value);
      channel.post({ type: 'write', key, value });
    },
    remove: async (key) => {
      await store.remove(key);
      channel.post({ type: 'write', key, value: null });
    },
  };
  const flushingLocks: LockManagerLike | undefined = locks && {
    request: (name, options, callback) =>
      locks.request(name, options, async () => {
        await channel.flush();
        return callback();
      }),
  };
  return { storage: webLocks(mirrored, flushingLocks), applyMirroredWrite };
}
