/**
 * Key stores for DPoP-bound sessions (RFC 9449): in memory (servers, tests),
 * and IndexedDB (browsers: a reload, or another tab, keeps the binding).
 */
import { OAuthError } from '../errors.js';
import type { DpopKeyStore, StoredDpopKey } from './types.js';

/** Keys in a `Map`: gone with the process. The default of a server, and of a test. */
export function memoryDpopKeyStore(): DpopKeyStore {
  const keys = new Map<string, StoredDpopKey>();
  return {
    get: async (id) => keys.get(id),
    set: async (id, key) => void keys.set(id, key),
    remove: async (id) => void keys.delete(id),
  };
}

/** The part of `indexedDB` the store uses (a browser's, or a test's stand-in). */
export interface IndexedDbFactoryLike {
  open(name: string, version?: number): object;
}

export interface IndexedDbDpopKeyStoreOptions {
  /** Default `'oauth-machines'`. */
  databaseName?: string;
  /** Default `globalThis.indexedDB`. */
  indexedDB?: IndexedDbFactoryLike;
}

const STORE = 'dpop-keys';

function storageError(description: string, cause: unknown): OAuthError {
  return new OAuthError('storage_error', { description, cause, retryable: true });
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(storageError('IndexedDB refused the DPoP key store operation', request.error));
  });
}

/**
 * Keys in IndexedDB, as `CryptoKey` objects (structured clones: the private
 * key stays non-extractable, and no script, this library's included, can read
 * it). Shared by every tab of the origin, and kept across reloads.
 */
export function indexedDbDpopKeyStore(options: IndexedDbDpopKeyStoreOptions = {}): DpopKeyStore {
  const name = options.databaseName ?? 'oauth-machines';
  let database: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    // The declarations name no DOM type (see WebCryptoKey); the factory is IndexedDB's.
    const factory = (options.indexedDB ?? globalThis.indexedDB) as IDBFactory | undefined;
    if (factory === undefined) return Promise.reject(storageError('IndexedDB is not available here', undefined));
    database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(storageError('IndexedDB could not be opened for the DPoP key store', request.error));
    }).catch((error: unknown) => {
      database = undefined;
      throw error;
    });
    return database;
  };
  const run = async <T>(mode: IDBTransactionMode, operation: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    return settle(operation(db.transaction(STORE, mode).objectStore(STORE)));
  };
  return {
    get: async (id) => {
      const value: unknown = await run('readonly', (store) => store.get(id));
      return isStoredKey(value) ? value : undefined;
    },
    set: async (id, key) => void (await run('readwrite', (store) => store.put({ alg: key.alg, privateKey: key.privateKey, publicKey: key.publicKey }, id))),
    remove: async (id) => void (await run('readwrite', (store) => store.delete(id))),
  };
}

function isStoredKey(value: unknown): value is StoredDpopKey {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.alg === 'string' && typeof CryptoKey !== 'undefined' && record.privateKey instanceof CryptoKey && record.publicKey instanceof CryptoKey;
}
