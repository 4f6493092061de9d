/**
 * The storage the browser helper hands to the client: the chosen store, with
 * a Web-Locks `lock` so one tab refreshes at a time, and every write told to
 * the other tabs — taken into their copies of a per-tab store
 * (`sessionStorage`, memory), read where their copy of a shared store
 * (`localStorage`) lags — so a tab that waited for the lock re-reads the
 * tokens the previous holder stored instead of spending a rotated refresh
 * token again.
 */

import { memoryStorage } from '../services/memoryStorage.js';
import { processLock } from '../services/processLock.js';
import { webLocks, type LockManagerLike } from '../services/webLocks.js';
import { webStorage, type WebStorageLike } from '../services/webStorage.js';
import type { StorageService } from '../services/types.js';
import { sessionBlobHeader } from '../session/blob.js';
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
  return sessionBlobHeader(value)?.state === 'awaitingCallback';
}

/** What tab sync does with a write another tab told of (`at`: when it was made, when the message says). */
export type MirroredWriteHandler = (key: string, value: string | null, at?: number) => Promise<void>;

/** How {@link tabStorage} waits for the other tabs and tells time. */
export interface TabStorageOptions {
  /** What a granted Web Lock waits for before its holder runs; default: the channel's flush. */
  settle?: () => Promise<void>;
  /** Epoch ms, on the clock the machines stamp `savedAt` with; default `Date.now`. */
  now?: () => number;
}

/** The `savedAt` of a session blob, or `undefined` for anything else. */
function savedAtOf(value: string): number | undefined {
  return sessionBlobHeader(value)?.savedAt;
}

/** Another tab's write to a shared store, as this tab heard of it on the channel. */
interface HeardWrite {
  /** `null`: a removal (a logout). */
  value: string | null;
  /** Epoch ms of the write. */
  at: number;
}

/**
 * A shared store as this tab reads it: its own copy, or the newest write
 * another tab told of that the copy does not show yet. Chromium keeps a copy
 * of `localStorage` in each renderer, updated some time after another tab
 * writes, while a Web Lock is granted over another channel: right after the
 * lock's previous holder stored rotated tokens, this tab's copy may still
 * hold the old ones. The heard write is kept beside the copy, never written
 * into it (a late message would overwrite a newer value), until the copy has
 * caught up with it or holds something newer.
 */
function sharedStore(
  store: StorageService,
  channel: TabChannel,
  now: () => number,
): { store: StorageService; applyMirroredWrite: MirroredWriteHandler } {
  const heard = new Map<string, HeardWrite>();
  const copyIsCurrent = (copy: string | null, write: HeardWrite): boolean => {
    if (copy === write.value) return true;
    // A copy without a time (none, or not a session) cannot be placed: the write the channel brought wins.
    const copyAt = copy === null ? undefined : savedAtOf(copy);
    // Equal times: the message, which tells of a write the copy may not have taken yet.
    return copyAt !== undefined && copyAt > write.at;
  };
  return {
    store: {
      async get(key) {
        const copy = await store.get(key);
        const write = heard.get(key);
        if (write === undefined) return copy;
        if (!copyIsCurrent(copy, write)) return write.value;
        heard.delete(key);
        return copy;
      },
      async set(key, value) {
        await store.set(key, value);
        // This tab's own copy shows its own write at once, and that write is the newest it knows of.
        heard.delete(key);
        if (!isPendingAuthorization(value)) channel.post({ type: 'write', key, value, at: savedAtOf(value) ?? now() });
      },
      async remove(key) {
        await store.remove(key);
        heard.delete(key);
        channel.post({ type: 'write', key, value: null, at: now() });
      },
    },
    applyMirroredWrite(key, value, at) {
      // The write happened before its message arrived: without a time, now is an upper bound.
      const time = (value === null ? undefined : savedAtOf(value)) ?? at ?? now();
      const known = heard.get(key);
      // Messages from different tabs may arrive out of order: an older one never replaces a newer one.
      if (known === undefined || known.at <= time) heard.set(key, { value, at: time });
      return Promise.resolve();
    },
  };
}

/**
 * The storage for the client: `store` plus a lock over `locks` (or this
 * tab's own lock when Web Locks is missing). Writes go to the other tabs
 * through `channel` (a login under way excepted): a per-tab store takes them
 * into its copy, a shared store reads them where its copy lags (see
 * `sharedStore`). A granted Web Lock first waits for `options.settle` (by
 * default: the channel's flush), and is released only after the channel
 * flushed what its holder posted, so the next holder reads what the previous
 * one wrote. Returns the storage, and what to do with a write another tab
 * told of.
 */
export function tabStorage(
  chosen: ChosenStore,
  locks: LockManagerLike | undefined,
  channel: TabChannel,
  options: TabStorageOptions = {},
): { storage: StorageService; applyMirroredWrite: MirroredWriteHandler } {
  const { store } = chosen;
  const settle = options.settle ?? (() => channel.flush());
  // Without Web Locks, single flight within this tab only; never `webLocks`' default, which reads the
  // global `navigator.locks` that the environment said is absent.
  const tabLock = processLock();
  const lockManager: LockManagerLike = locks ?? { request: (name, _options, callback) => tabLock.run(name, callback) };
  // Only another tab's lock holder can have written meanwhile: without Web Locks there is nothing to settle.
  const settlingLocks: LockManagerLike = locks
    ? {
        request: (name, lockOptions, callback) =>
          locks.request(name, lockOptions, async () => {
            await settle();
            try {
              return await callback();
            } finally {
              // The lock is released only once what its holder posted has gone through the channel: the
              // release and the next holder's barrier travel other ways, and in Chromium that barrier
              // otherwise overtook the holder's write about once in 350 overlapping refreshes.
              await channel.flush();
            }
          }),
      }
    : lockManager;
  if (chosen.scope === 'shared') {
    const shared = sharedStore(store, channel, options.now ?? Date.now);
    return { storage: webLocks(shared.store, settlingLocks), applyMirroredWrite: shared.applyMirroredWrite };
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
  const applyMirroredWrite: MirroredWriteHandler = (key, value) => (value === null ? store.remove(key) : store.set(key, value));
  return { storage: webLocks(mirrored, settlingLocks), applyMirroredWrite };
}
