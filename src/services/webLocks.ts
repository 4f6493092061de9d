import { processLock } from './processLock.js';
import type { StorageService } from './types.js';

/** The part of the Web Locks API (`navigator.locks`) this adapter uses. */
export interface LockManagerLike {
  request<T>(name: string, options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T>;
}

/**
 * The same storage, with `lock` implemented by the Web Locks API, so one
 * refresh runs at a time across every tab and worker of the origin. Where Web
 * Locks is missing (older browsers, Node) the lock serialises callers within
 * this realm only.
 *
 * @example
 * const storage = webLocks(webStorage(localStorage));
 */
export function webLocks(storage: StorageService, locks: LockManagerLike | undefined = defaultLockManager()): StorageService {
  const inProcess = processLock();
  return {
    get: (key) => storage.get(key),
    set: (key, value) => storage.set(key, value),
    remove: (key) => storage.remove(key),
    lock: <T>(key: string, fn: () => Promise<T>): Promise<T> =>
      locks ? locks.request(key, { mode: 'exclusive' }, () => fn()) : inProcess.run(key, fn),
  };
}

function defaultLockManager(): LockManagerLike | undefined {
  const navigator = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return navigator?.locks;
}
