/**
 * A storage service around another one (a `memoryStorage`, lock included)
 * that throws on a chosen method while armed, tells a listener about every
 * call, and lets a test read everything stored — the tokens a crash would
 * leave behind.
 */
import type { StorageService } from '../../src/services/types.js';

export type StorageMethod = 'get' | 'set' | 'remove';
export type StorageCall = StorageMethod | 'lock';

export interface FaultyStorage extends StorageService {
  lock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Throws on `method` until {@link FaultyStorage.disarm}. */
  arm(method: StorageMethod): void;
  disarm(): void;
  /** Calls that threw because of the armed fault. */
  readonly hits: number;
  /** Called as each call starts (after the inner storage was asked). */
  onCall: ((call: StorageCall) => void) | undefined;
  /** Every value stored now, by key. */
  values(): Map<string, string>;
}

export function faultyStorage(inner: StorageService): FaultyStorage {
  const stored = new Map<string, string>();
  let armed: StorageMethod | undefined;
  let hits = 0;
  const storage: FaultyStorage = {
    onCall: undefined,
    arm(method) {
      armed = method;
    },
    disarm() {
      armed = undefined;
    },
    get hits() {
      return hits;
    },
    values: () => new Map(stored),
    get(key) {
      const result = armed === 'get' ? fail('get') : inner.get(key);
      storage.onCall?.('get');
      return result;
    },
    set(key, value) {
      const result = armed === 'set' ? fail('set') : inner.set(key, value).then(() => void stored.set(key, value));
      storage.onCall?.('set');
      return result;
    },
    remove(key) {
      const result = armed === 'remove' ? fail('remove') : inner.remove(key).then(() => void stored.delete(key));
      storage.onCall?.('remove');
      return result;
    },
    lock(key, fn) {
      const result = inner.lock === undefined ? fn() : inner.lock(key, fn);
      storage.onCall?.('lock');
      return result;
    },
  };
  function fail(method: StorageMethod): Promise<never> {
    hits += 1;
    return Promise.reject(new Error(`storage ${method} failed (injected fault)`));
  }
  return storage;
}
