/**
 * Storage and a cross-process lock on Redis, for servers that run on many
 * machines: the token lifecycle runs every refresh inside
 * `storage.lock(storageKey + ':refresh', …)`, so with this adapter a refresh
 * token is spent by one process of the fleet and the others adopt its result.
 *
 * The lock is the single-instance algorithm of the Redis documentation
 * ("Distributed locks with Redis", the `SET … NX PX` pattern): acquired with
 * `SET lock token NX PX ttl`, released with a compare-and-delete script so a
 * holder whose lock expired never deletes its successor's, and kept alive
 * with a compare-and-pexpire script while the critical section runs.
 *
 * No Node built-in and no Redis package is imported: the client is a
 * structural interface that a node-redis v4/v5 client satisfies as it is.
 */
import { OAuthError } from '../errors.js';
import type { StorageService } from '../services/types.js';

/** `SET` options this adapter uses, in node-redis v4/v5's spelling. */
export interface RedisSetOptions {
  /** Time to live in milliseconds (`PX`). */
  PX?: number;
  /** Only set when the key does not exist (`NX`). */
  NX?: boolean;
}

/**
 * The four Redis commands the adapter sends. A node-redis v4 or v5 client
 * (`createClient()` from `redis`, connected) fits as it is. For ioredis, wrap it
 * (the adapter sends `NX` only with `PX`):
 *
 * @example
 * const client: RedisClientLike = {
 *   get: (key) => redis.get(key),
 *   set: (key, value, o = {}) =>
 *     o.PX === undefined ? redis.set(key, value) : o.NX ? redis.set(key, value, 'PX', o.PX, 'NX') : redis.set(key, value, 'PX', o.PX),
 *   del: (key) => redis.del(key),
 *   eval: (script, { keys, arguments: args }) => redis.eval(script, keys.length, ...keys, ...args),
 * };
 */
export interface RedisClientLike {
  /** `GET key`: the value, or `null` when absent. */
  get(key: string): Promise<string | null>;
  /** `SET key value [PX ms] [NX]`: `'OK'` when set, `null` when `NX` found the key. */
  set(key: string, value: string, options?: RedisSetOptions): Promise<string | null>;
  /** `DEL key`. */
  del(key: string): Promise<unknown>;
  /** `EVAL script numkeys key… arg…`. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options of {@link redisStorage}. */
export interface RedisStorageOptions {
  /** Prepended to every key, values and locks alike. Default `'oauth-machines:'`. */
  prefix?: string;
  /** Time to live of stored values in milliseconds, renewed by every `set`. Default: none (values stay until removed). */
  ttlMs?: number;
  /**
   * Time to live of a lock in milliseconds: a holder that dies without
   * releasing it (crash, lost connection) blocks others this long at most.
   * A live holder extends it every third of this while its critical section
   * runs. Default 30 000.
   */
  lockTtlMs?: number;
  /** How long `lock` waits for a held lock before it rejects with a retryable `storage_error`. Default 10 000. */
  waitMs?: number;
  /** Mean delay between attempts to take a held lock, jittered ±50 % and never past `waitMs`. Default 50. */
  retryDelayMs?: number;
  /**
   * How long one Redis command (`GET`, `SET`, `DEL`, and each step of the
   * lock: take, extend, release) may go unanswered before the operation
   * rejects with a retryable `storage_error`. A client that queues commands
   * while it reconnects (node-redis by default) or a Redis that hangs would
   * otherwise keep the caller waiting for as long as the outage lasts.
   * Default 2 000.
   */
  commandTimeoutMs?: number;
}

/** Every option `redisStorage` reads; the compiler keeps it complete. Anything else is refused by name. */
const OPTION_NAMES: Record<keyof RedisStorageOptions, true> = {
  prefix: true,
  ttlMs: true,
  lockTtlMs: true,
  waitMs: true,
  retryDelayMs: true,
  commandTimeoutMs: true,
};

// Compare-and-delete: only the holder's token releases the lock.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Compare-and-pexpire: only the holder's token extends the lock.
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/**
 * A {@link StorageService} on Redis, with a `lock` that serialises callers of
 * one key across every process using the same Redis and `prefix`.
 *
 * - Values live at `prefix + key`; locks at `prefix + 'lock:' + key`.
 * - Every failing Redis command becomes `OAuthError('storage_error')` with
 *   the client's error as `cause`, marked retryable (the usual cause is a
 *   lost connection); a failed `set` rejects, so a value is never lost silently.
 * - Every command has a deadline, `commandTimeoutMs`: one that Redis does not
 *   answer by then (an outage, a client queueing while it reconnects) rejects
 *   with a retryable `storage_error` whose `cause` is a `TimeoutError`. The
 *   command may still reach Redis later and take effect (a `set` then lands).
 * - `lock(key, fn)` waits for the lock at most `waitMs` plus one command's
 *   deadline (then rejects with a retryable `storage_error` without running
 *   `fn`), runs `fn`, and releases the lock whatever `fn` did; `fn`'s result
 *   or error is the caller's. A release Redis does not answer is given up
 *   after its deadline (the lock expires after `lockTtlMs`).
 * - Options it does not know are refused with a `TypeError` naming them.
 * - The lock is not re-entrant: `fn` must not wait for the same key.
 *
 * @example
 * import { createClient } from 'redis';
 * import { redisStorage } from 'oauth-machines/redis';
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const client = createOAuthClient({ …, services: { storage: redisStorage(redis) } });
 */
export function redisStorage(client: RedisClientLike, options: RedisStorageOptions = {}): StorageService {
  for (const name of Object.keys(options)) {
    // A misspelt option (`commandTimeoutMS`) would otherwise leave its default in place without a word.
    if (!Object.hasOwn(OPTION_NAMES, name)) throw new TypeError(`redisStorage: unknown option ${name}`);
  }
  const prefix = options.prefix ?? 'oauth-machines:';
  const ttlMs = options.ttlMs === undefined ? undefined : positiveInteger('ttlMs', options.ttlMs);
  const lockTtlMs = positiveInteger('lockTtlMs', options.lockTtlMs ?? 30_000);
  const waitMs = nonNegative('waitMs', options.waitMs ?? 10_000);
  const retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? 50);
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs ?? 2_000);

  /**
   * One Redis command with a deadline: the client's error or the deadline
   * becomes a retryable `storage_error`. The timer goes with the reply, and a
   * reply after the deadline (even a failure) is taken here and dropped.
   */
  function command<T>(what: string, send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const description = `Redis ${what} did not answer within ${commandTimeoutMs} ms`;
        reject(new OAuthError('storage_error', { description, retryable: true, cause: new DOMException(description, 'TimeoutError') }));
      }, commandTimeoutMs);
      let reply: Promise<T>;
      try {
        reply = send();
      } catch (thrown) {
        reply = Promise.reject(thrown);
      }
      reply.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (thrown: unknown) => {
          clearTimeout(timer);
          const message = thrown instanceof Error ? thrown.message : String(thrown);
          reject(new OAuthError('storage_error', { description: `Redis ${what} failed: ${message}`, retryable: true, cause: thrown }));
        },
      );
    });
  }

  const valueKey = (key: string): string => prefix + key;
  const lockKey = (key: string): string => `${prefix}lock:${key}`;

  async function acquire(key: string, token: string): Promise<void> {
    const deadline = performance.now() + waitMs;
    // Bounded: every round but the last sleeps at least min(retryDelayMs / 2, time left).
    for (;;) {
      let reply: string | null;
      try {
        reply = await command(`SET NX ${key}`, () => client.set(key, token, { PX: lockTtlMs, NX: true }));
      } catch (error) {
        // The SET may still reach Redis and take the lock for this token, which no one would then release
        // before its TTL. The compare-and-delete follows it on the same connection and deletes only this
        // token's lock, never another holder's.
        void release(key, token);
        throw error;
      }
      if (reply === 'OK') return;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new OAuthError('storage_error', {
          description: `the lock ${key} was still held after ${waitMs} ms`,
          retryable: true,
        });
      }
      await delay(Math.min(left, retryDelayMs * (0.5 + Math.random())));
    }
  }

  /** Extends the lock every third of its TTL until stopped; stops by itself once the lock is no longer ours. */
  function keepAlive(key: string, token: string): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const schedule = (): void => {
      timer = setTimeout(() => void extend(), Math.max(1, Math.floor(lockTtlMs / 3)));
    };
    const extend = async (): Promise<void> => {
      let extended: unknown = 1;
      try {
        extended = await command(`EVAL extend ${key}`, () =>
          client.eval(EXTEND_SCRIPT, { keys: [key], arguments: [token, String(lockTtlMs)] }),
        );
      } catch {
        // A failed extension is tried again a third of a TTL later; the lock lasts a whole TTL.
      }
      // 0: the lock expired and may be someone else's; `fn` cannot be stopped (the port has no signal),
      // but extending or releasing it now would take it from its new holder.
      if (!stopped && Number(extended) === 1) schedule();
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  async function release(key: string, token: string): Promise<void> {
    try {
      await command(`EVAL release ${key}`, () => client.eval(RELEASE_SCRIPT, { keys: [key], arguments: [token] }));
    } catch {
      // The critical section's outcome matters more than the release: an unreleased lock expires after its TTL.
    }
  }

  return {
    async get(key) {
      const value = await command(`GET ${valueKey(key)}`, () => client.get(valueKey(key)));
      if (value === null || typeof value === 'string') return value;
      throw new OAuthError('storage_error', { description: `GET ${valueKey(key)} answered a non-string`, retryable: false });
    },
    async set(key, value) {
      const reply = await command(`SET ${valueKey(key)}`, () =>
        ttlMs === undefined ? client.set(valueKey(key), value) : client.set(valueKey(key), value, { PX: ttlMs }),
      );
      if (reply !== 'OK') {
        throw new OAuthError('storage_error', { description: `SET ${valueKey(key)} was not acknowledged`, retryable: true });
      }
    },
    async remove(key) {
      await command(`DEL ${valueKey(key)}`, () => client.del(valueKey(key)));
    },
    async lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const name = lockKey(key);
      const token = randomLockToken();
      await acquire(name, token);
      const stop = keepAlive(name, token);
      try {
        return await fn();
      } finally {
        stop();
        await release(name, token);
      }
    },
  };
}

/** 128 random bits, hex: tells this holder's lock from any other's. */
function randomLockToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`redisStorage: ${name} must be a positive integer of milliseconds`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`redisStorage: ${name} must be a positive number of milliseconds`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`redisStorage: ${name} must be zero or more milliseconds`);
  return value;
}
