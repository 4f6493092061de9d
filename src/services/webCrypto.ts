import type { CryptoService } from './types.js';

/** WebCrypto's `getRandomValues` refuses more than 65 536 bytes per call (W3C WebCrypto §10.1.1). */
const MAX_RANDOM_BYTES_PER_CALL = 65_536;

/**
 * The part of WebCrypto this service uses. Written out rather than the DOM's
 * `Crypto`, so that the declarations type-check in a project without the DOM
 * lib (a Node server with `lib: ["ES2022"]`).
 */
export interface WebCryptoLike {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
  readonly subtle?: { digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> } | undefined;
}

/**
 * The crypto service over WebCrypto (`globalThis.crypto` in browsers, Node ≥ 20,
 * Deno, Bun and Workers).
 *
 * @throws TypeError when the runtime has no WebCrypto. `sha256` also throws a
 * `TypeError` when `crypto.subtle` is missing, which browsers do outside a
 * secure context (a page served over plain `http:` that is not loopback).
 */
export function webCrypto(crypto: WebCryptoLike | undefined = globalThis.crypto): CryptoService {
  if (!crypto || typeof crypto.getRandomValues !== 'function') {
    throw new TypeError('webCrypto: WebCrypto (globalThis.crypto.getRandomValues) is not available in this runtime; pass a CryptoService');
  }
  return {
    randomBytes(n) {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new TypeError(`randomBytes: expected a non-negative integer, got ${String(n)}`);
      }
      const bytes = new Uint8Array(n);
      for (let offset = 0; offset < n; offset += MAX_RANDOM_BYTES_PER_CALL) {
        crypto.getRandomValues(bytes.subarray(offset, Math.min(n, offset + MAX_RANDOM_BYTES_PER_CALL)));
      }
      return bytes;
    },
    async sha256(data) {
      const subtle = crypto.subtle;
      if (!subtle) {
        throw new TypeError('sha256: crypto.subtle is not available (WebCrypto digests need a secure context: https or loopback)');
      }
      // SubtleCrypto wants an ArrayBuffer-backed view; copy one backed by a SharedArrayBuffer.
      const view = data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
      return new Uint8Array(await subtle.digest('SHA-256', view));
    },
  };
}
