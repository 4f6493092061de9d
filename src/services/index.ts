export type { Clock, CryptoService, DpopKeyStore, DpopService, DpopSession, FetchLike, Services, StorageService, StoredDpopKey, TimeSource, WebCryptoKey } from './types.js';
export { indexedDbDpopKeyStore, memoryDpopKeyStore, type IndexedDbDpopKeyStoreOptions, type IndexedDbFactoryLike } from './dpopKeyStore.js';
export { fetchWithTimeout, type FetchWithTimeoutOptions } from './fetchWithTimeout.js';
export { webCrypto } from './webCrypto.js';
export { memoryStorage } from './memoryStorage.js';
export { webStorage, type WebStorageLike, type WebStorageOptions, type WebStorageService } from './webStorage.js';
export { webLocks, type LockManagerLike } from './webLocks.js';
export { systemClock, manualClock, xstateClock, type ManualClock } from './clock.js';
export { defaultServices } from './defaultServices.js';
