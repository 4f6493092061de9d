import { storageFailure } from './storageFailure.js';
import { memoryStorage } from './memoryStorage.js';
import type { StorageService } from './types.js';

/** The part of the Web Storage API (`sessionStorage`, `localStorage`) this adapter uses. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface WebStorageOptions {
  /** Prepended to every key, to share one origin's storage with other code. Default `''`. */
  prefix?: string;
}

/** A Web Storage adapter; `persistent` is false when it fell back to memory. */
export interface WebStorageService extends StorageService {
  /**
   * Whether values land in Web Storage. `false` when the storage was absent or
   * refused access (some private modes, sandboxed iframes, blocked cookies):
   * values then live in memory for this page only, so a redirect-based login
   * cannot be completed across the reload and ends in `pending_missing`.
   */
  readonly persistent: boolean;
}

/**
 * A `StorageService` over `sessionStorage` (default) or `localStorage`.
 *
 * - A full quota becomes `OAuthError('storage_quota_exceeded')`, any other
 *   failure `OAuthError('storage_error')`, both with the original as `cause`;
 *   a failed write never loses the value stored before it.
 * - Storage that is absent, or whose very lookup throws, falls back to memory
 *   (see {@link WebStorageService.persistent}). Storage that exists but refuses
 *   every call is reported, not replaced: a redirect-based login then fails
 *   with a typed error before it navigates, instead of after the redirect.
 *
 * Web Storage is synchronous; the promises only match the port. It offers no
 * lock: wrap it in {@link webLocks} for single-flight across tabs.
 */
export function webStorage(storage?: WebStorageLike | null, options: WebStorageOptions = {}): WebStorageService {
  const prefix = options.prefix ?? '';
  const target = storage === undefined ? defaultSessionStorage() : storage;
  if (!target) {
    const memory = memoryStorage();
    return {
      persistent: false,
      get: (key) => memory.get(prefix + key),
      set: (key, value) => memory.set(prefix + key, value),
      remove: (key) => memory.remove(prefix + key),
    };
  }
  return {
    persistent: true,
    get: (key) => attempt('read', key, () => target.getItem(prefix + key)),
    set: (key, value) =>
      attempt('write', key, () => {
        const name = prefix + key;
        const before = target.getItem(name);
        try {
          target.setItem(name, value);
        } catch (error) {
          restore(target, name, before);
          throw error;
        }
      }),
    remove: (key) => attempt('remove', key, () => target.removeItem(prefix + key)),
  };
}

/** Reading `globalThis.sessionStorage` itself throws a `SecurityError` where storage is blocked. */
function defaultSessionStorage(): WebStorageLike | null {
  try {
    const candidate = (globalThis as { sessionStorage?: WebStorageLike }).sessionStorage;
    return candidate ?? null;
  } catch {
    return null;
  }
}

/** Storage engines update a key atomically, but a broken one might not: put the old value back. */
function restore(storage: WebStorageLike, name: string, before: string | null): void {
  try {
    if (storage.getItem(name) === before) return;
    if (before === null) storage.removeItem(name);
    else storage.setItem(name, before);
  } catch {
    // Nothing more can be done; the caller gets the original failure.
  }
}

function attempt<T>(operation: string, key: string, run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(storageFailure(error, `Web Storage ${operation} of "${key}" failed`));
  }
}
