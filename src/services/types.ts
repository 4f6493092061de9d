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
  /**
   * DPoP (RFC 9449): given (`dpop()`, from the main entry or `oauth-machines/protocol`), every
   * session of the grant binds its tokens to a key pair of its own. Absent: bearer tokens, and no
   * DPoP code in the bundle.
   */
  dpop?: DpopService;
}

/**
 * One DPoP-bound session (RFC 9449): its key and the nonces its servers gave, by origin. Algorithms
 * are chosen against `supported`, the provider's `dpop_signing_alg_values_supported`.
 */
export interface DpopSession {
  /** A new key for a new login (one key pair per session), replacing the stored one; resolves with its JWK thumbprint (`dpop_jkt`). */
  renew(supported: readonly string[] | undefined, crypto: CryptoService): Promise<string>;
  /** A proof for `method url` by the session's key, with the origin's latest nonce, and `ath` for `accessToken`. */
  proof(
    supported: readonly string[] | undefined,
    services: { crypto: CryptoService; clock: TimeSource },
    request: { method: string; url: string; accessToken?: string },
  ): Promise<string>;
  /** The latest nonce of `url`'s origin, if any. */
  nonce(url: string): string | undefined;
  /** Keeps the `DPoP-Nonce` of a response from `url`, if it has one. */
  rememberNonce(url: string, response: Response): void;
  /** The session ended (logout): its key is removed from the store, its nonces forgotten. */
  forget(): Promise<void>;
}

/** `services.dpop`: the sessions of DPoP-bound grants, one per storage key. */
export interface DpopService {
  session(id: string): DpopSession;
}

/**
 * A DPoP key pair as a key store holds it: the `CryptoKey`s themselves (a
 * non-extractable private key cannot be turned into a string, but a
 * `CryptoKey` is structured-cloneable, so IndexedDB keeps it as it is) and
 * the JWS algorithm it signs with.
 */
export interface StoredDpopKey {
  alg: string;
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}

/**
 * A WebCrypto `CryptoKey` as the library's declarations name it, so that they need no DOM library
 * (a server's `lib: ["ES2022"]` has none): every `CryptoKey` is one.
 */
export interface WebCryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/** The key store port of DPoP-bound sessions. */
export interface DpopKeyStore {
  get(id: string): Promise<StoredDpopKey | undefined>;
  set(id: string, key: StoredDpopKey): Promise<void>;
  remove(id: string): Promise<void>;
}
