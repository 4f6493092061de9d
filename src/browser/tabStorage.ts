/**
 * The storage the browser helper hands to the client: the chosen store, with
 * a Web-Locks `lock` so one tab refreshes at a time, and — for stores each tab
 * has its own copy of (`sessionStorage`, memory) — every write mirrored to
 * the other tabs, so a tab that waited for the lock re-reads the tokens the
 * previous holder stored instead of spending a rotated refresh token again.
 */

import { memoryStorage } from '../services/memoryStorage.js';
import { processLock } from '../services/processLock.js';
import { webLocks, type LockManagerLike } from '../services/webLocks.js';
import { webStorage, type WebStorageLike } from '../services/webStorage.js';
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
 * The storage, when a write to it works. Some browsers hand out a Web Storage
 * that throws on every write (Safari's old private mode: a quota of 0;
 * blocked site data): that is no storage at all, and memory serves better.
 */
function usable(storage: WebStorageLike | null | undefined): WebStorageLike | null {
  if (!storage) return null;
  const probe = 'oauth-machines:probe';
  try {
    storage.setItem(probe, '1');
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}

/**
 * Picks the store for the option. Never throws: a Web Storage that is missing
 * or blocked becomes memory (see `webStorage`), which keeps one tab working.
 */
export function chooseStore(option: BrowserStorageOption | undefined, environment: BrowserEnvironment): ChosenStore {
  if (typeof option === 'object') return { store: option, scope: 'shared', kind: 'custom' };
  if (option === 'memory') return { store: memoryStorage(), scope: 'per-tab', kind: 'memory' };
  if (option === 'local') {
    const store = webStorage(usable(environment.localStorage));
    return store.persistent ? { store, scope: 'shared', kind: 'local' } : { store, scope: 'per-tab', kind: 'memory' };
  }
  const store = webStorage(usable(environment.sessionStorage));
  return { store, scope: 'per-tab', kind: store.persistent ? 'session' : 'memory' };
}

/**
 * A login under way belongs to the tab that started it (its callback comes
 * back there): its pending authorization is not copied to the other tabs,
 * which would otherwise restore into `awaitingCallback` on their next load.
 */
function isPendingAuthorization(value: string): boolean {
  try {
    const blob: unknown = JSON.parse(value);
    return typeof blob === 'object' && blob !== null && (blob as { state?: unknown }).state === 'awaitingCallback';
  } catch {
    return false;
  }
}

/** What tab sync does with a write another tab mirrored. */
export type MirroredWriteHandler = (key: string, value: string | null) => Promise<void>;

/**
 * The storage for the client: `store` plus a lock over `locks` (or this
 * tab's own lock when Web Locks is missing). For a per-tab store, writes go
 * to the other tabs through `channel`, and a granted lock first waits for
 * `settle` (by default: the channel's flush). Returns the storage, and what
 * to do with a write another tab mirrored.
 */
export function tabStorage(
  chosen: ChosenStore,
  locks: LockManagerLike | undefined,
  channel: TabChannel,
  settle: () => Promise<void> = () => channel.flush(),
): { storage: StorageService; applyMirroredWrite: MirroredWriteHandler } {
  const { store } = chosen;
  // Without Web Locks, single flight within this tab only; never `webLocks`' default, which reads the
  // global `navigator.locks` that the environment said is absent.
  const tabLock = processLock();
  const lockManager: LockManagerLike = locks ?? { request: (name, _options, callback) => tabLock.run(name, callback) };
  const applyMirroredWrite: MirroredWriteHandler = (key, value) => (value === null ? store.remove(key) : store.set(key, value));
  if (chosen.scope === 'shared') {
    return { storage: webLocks(store, lockManager), applyMirroredWrite: () => Promise.resolve() };
  }
  const mirrored: StorageService = {
    get: (key) => store.get(key),
    set: async (key, value) => {
      await store.set(key, value);
      if (!isPendingAuthorization(value)) channel.post({ type: 'write', key, value });
    },
    remove: async (key) => {
      await store.remove(key);
      channel.post({ type: 'write', key, value: null });
    },
  };
  // Only another tab's lock holder can have written meanwhile: without Web Locks there is nothing to settle.
  const settlingLocks: LockManagerLike = locks
    ? {
        request: (name, options, callback) =>
          locks.request(name, options, async () => {
            await settle();
            return callback();
          }),
      }
    : lockManager;
  return { storage: webLocks(mirrored, settlingLocks), applyMirroredWrite };
}
