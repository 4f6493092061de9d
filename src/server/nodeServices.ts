/**
 * Services for Node servers: crypto over `node:crypto`, and a fetch over
 * `node:http`/`node:https` that keeps connections to the authorization server
 * alive. Node only (not in browser bundles).
 */
import { fetchWithTimeout } from '../services/fetchWithTimeout.js';
import type { CryptoService, FetchLike } from '../services/types.js';
import { webCrypto } from '../services/webCrypto.js';
import { nodeHttpFetch, type NodeHttpFetchOptions } from './nodeHttpFetch.js';

type NodeCryptoModule = Pick<typeof import('node:crypto'), 'createHash' | 'randomFillSync'>;

/**
 * `node:crypto`, taken when a crypto service is built rather than imported
 * with the module: the server entry also loads where the module does not exist
 * (Cloudflare Workers without `nodejs_compat`), and a static import would
 * fail there before any code runs. `process.getBuiltinModule`: Node ≥ 20.16,
 * Deno, Bun.
 */
function loadNodeCrypto(): NodeCryptoModule | undefined {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return runtime?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined;
}

/**
 * The crypto service over `node:crypto`: `randomFillSync` and a synchronous
 * SHA-256 (`createHash`), which avoids WebCrypto's promise round trip. Where
 * `node:crypto` cannot be had synchronously (Node < 20.16, Workers without
 * `nodejs_compat`) it is {@link webCrypto}.
 */
export function nodeCrypto(): CryptoService {
  const { createHash, randomFillSync } = loadNodeCrypto() ?? {};
  if (createHash === undefined || randomFillSync === undefined) return webCrypto();
  return {
    randomBytes(n) {
      if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`randomBytes: expected a non-negative integer, got ${String(n)}`);
      return randomFillSync(new Uint8Array(n));
    },
    sha256(data) {
      const digest = createHash('sha256').update(data).digest();
      return Promise.resolve(new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength));
    },
  };
}

export interface KeepAliveFetchOptions extends NodeHttpFetchOptions {
  /**
   * How long the whole response may take, headers and body, in milliseconds;
   * then it rejects with a `TimeoutError` `DOMException`. Default 30 000.
   */
  timeoutMs?: number;
  /**
   * A fetch to wrap instead of the `node:http` transport (the global fetch,
   * undici with a proxy dispatcher…): it gets `fetchWithTimeout`'s deadline and
   * abort handling, and keeps its own connection pool. `maxSockets`,
   * `idleTimeoutMs` and `agents` do not apply to it.
   */
  fetch?: FetchLike;
}

/**
 * A fetch whose connections to a server are reused between requests, with a
 * timeout over the whole response and `AbortSignal` support.
 *
 * By default it is {@link nodeHttpFetch}: `http.request`/`https.request` with
 * one keep-alive `Agent` per protocol (bounded `maxSockets`), a standard
 * `Response`, redirects never followed, one timer per request. Measured
 * against undici's global fetch wrapped in `fetchWithTimeout` (what this
 * function was before): see `docs/server.md` and `bench/results/nodeExchange.json`.
 *
 * With `options.fetch` it wraps that fetch in `fetchWithTimeout` instead.
 *
 * Response bodies must be read (or cancelled) for a connection to go back to
 * the pool; one left unread holds its socket until the timeout destroys it.
 */
export function keepAliveFetch(options: KeepAliveFetchOptions = {}): FetchLike {
  if (options.fetch !== undefined) {
    return fetchWithTimeout(options.fetch, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  }
  return nodeHttpFetch(options);
}

let shared: FetchLike | undefined;

/**
 * The one default transport of the process: every `nodeServices()` without a
 * `fetch` shares it, so all clients share its connection pools.
 */
export function sharedKeepAliveFetch(): FetchLike {
  return (shared ??= nodeHttpFetch());
}
