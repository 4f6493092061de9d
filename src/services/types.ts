/**
 * The ports: everything a machine needs from the outside world. Machines and
 * protocol functions only ever talk to these interfaces.
 */

/** Any `fetch`-compatible function (the global one, a test server's, a keep-alive transport). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface CryptoService {
  /** `n` cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
  /** SHA-256 digest of `data`. */
  sha256(data: Uint8Array): Promise<Uint8Array>;
}

export interface StorageService {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
  /**
   * Runs `fn` while holding an exclusive lock named `key`: callers of the same
   * key run one after another (across tabs with Web Locks, across processes
   * with Redis). Absent means the storage offers no single-flight guarantee.
   */
  lock?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once after `ms` milliseconds; returns a function that cancels it. Every timer of the
   * library runs here (expiry, backoff, polling, time to live, lock waits), so a manual clock drives them.
   */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** What reading the time needs: the protocol functions stamp expiry with it. */
export type TimeSource = Pick<Clock, 'now'>;

export interface Services {
  fetch: FetchLike;
  crypto: CryptoService;
  storage: StorageService;
  clock: Clock;
  /** Sends the user agent to a URL (the authorization endpoint). Required only for redirect-based grants. */
  navigate?: (url: string) => void | Promise<void>;
}
