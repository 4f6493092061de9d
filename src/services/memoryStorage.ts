import { processLock } from './processLock.js';
import type { StorageService } from './types.js';

/**
 * Storage in a `Map`, for servers, tests and anything that need not survive a
 * reload. Its `lock` serialises callers of the same key within this process
 * (FIFO per key); for many processes use the Redis adapter.
 */
export function memoryStorage(): StorageService {
  const values = new Map<string, string>();
  const locks = processLock();
  return {
    get: (key) => Promise.resolve(values.get(key) ?? null),
    set: (key, value) => {
      values.set(key, value);
      return Promise.resolve();
    },
    remove: (key) => {
      values.delete(key);
      return Promise.resolve();
    },
    lock: (key, fn) => locks.run(key, fn),
  };
}
