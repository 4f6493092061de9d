/**
 * The smallest fakes the protocol tests need: a deterministic crypto service
 * (counter bytes, WebCrypto SHA-256), a fixed clock, JSON responses and a
 * fetch that records what it was asked.
 */
import type { CryptoService, Services } from '../src/services/types.js';
import { manualClock } from '../src/services/clock.js';

/** Deterministic bytes (0, 1, 2, … from `start`), SHA-256 by WebCrypto. */
export function countingCrypto(start = 0): CryptoService {
  let next = start;
  return {
    randomBytes(n: number): Uint8Array {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = next++ & 0xff;
      return bytes;
    },
    async sha256(data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(data)));
    },
  };
}

/** A crypto service returning these exact bytes (cycled) for every request. */
export function fixedCrypto(bytes: Uint8Array): CryptoService {
  return {
    randomBytes: (n) => Uint8Array.from({ length: n }, (_, i) => bytes[i % Math.max(bytes.length, 1)] ?? 0),
    sha256: async (data) => new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(data))),
  };
}

export const NOW = Date.parse('2026-01-01T00:00:00Z');
export const clock = manualClock(NOW);

export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(body), { ...init, headers });
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  signal: AbortSignal | undefined;
}

/** A fetch that answers with `respond` and records every request it got. */
export function recordingFetch(respond: (request: RecordedRequest) => Response | Promise<Response>): {
  fetch: Services['fetch'];
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const fetch: Services['fetch'] = async (input, init) => {
    const request: RecordedRequest = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
      signal: init?.signal ?? undefined,
    };
    requests.push(request);
    return respond(request);
  };
  return { fetch, requests };
}

/** Services around a fetch; storage is never touched by the protocol layer. */
export function servicesWith(fetch: Services['fetch']): Services {
  const unused = (): never => {
    throw new Error('the protocol layer must not use storage');
  };
  return {
    fetch,
    crypto: countingCrypto(),
    clock,
    storage: { get: unused, set: unused, remove: unused },
  };
}
