/**
 * A `fetch` over `node:http` / `node:https` with keep-alive agents: the
 * default transport of `nodeServices()` (through `keepAliveFetch()`).
 * Node only (never in a browser bundle).
 *
 * Why not the global fetch: on Node 20, with undici's fetch and the
 * AbortSignals `fetchWithTimeout` needs, the library's code exchange took
 * 1.3–1.4× the CPU and a refresh 1.6–1.8× the CPU it takes with this
 * transport (`bench/nodeExchange.ts`; figures in docs/server.md).
 * A token request needs little of fetch — one request, one response, no
 * redirects, no cache, no cookies, no CORS — so this sends it with
 * `http.request` and hands back a standard `Response`.
 */
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { FetchLike } from '../services/types.js';

interface Transports {
  http: typeof import('node:http');
  https: typeof import('node:https');
}

let transports: Transports | undefined;
let loading: Promise<Transports> | undefined;

/**
 * `node:http` and `node:https`, imported on the first request rather than with
 * the module: the server entry is also used where a `fetch` is passed in and
 * these modules may not exist (Cloudflare Workers), and only this transport needs them.
 */
function loadTransports(): Promise<Transports> {
  return (loading ??= Promise.all([import('node:http'), import('node:https')]).then(
    ([http, https]) => (transports = { http, https }),
    (cause: unknown) => {
      throw new TypeError('keepAliveFetch: node:http/node:https are not available in this runtime; pass a fetch as services.fetch', { cause });
    },
  ));
}

export interface NodeHttpFetchOptions {
  /**
   * How long the whole response may take, headers and body, in milliseconds;
   * then the request is aborted and the fetch — or, once the headers are in,
   * every read of the body — rejects with a `TimeoutError` `DOMException`
   * (as `fetchWithTimeout`). Default 30 000.
   */
  timeoutMs?: number;
  /** At most this many connections per origin (the agents' `maxSockets`). Default 16. */
  maxSockets?: number;
  /**
   * How long an idle pooled connection is kept open, in milliseconds (the agents'
   * socket timeout; a server's shorter `Keep-Alive: timeout=N` hint wins, less
   * one second). Default 30 000.
   */
  idleTimeoutMs?: number;
  /**
   * Agents of your own (a private CA, a proxy agent, a client certificate); the
   * transport builds the ones not given, one per protocol, with `keepAlive: true`.
   */
  agents?: { http?: HttpAgent; https?: HttpsAgent };
}

/** What is left of a request once its input and init are read. */
interface Outgoing {
  url: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body: string | Uint8Array | undefined;
  signal: AbortSignal | undefined;
}

// Fetch §2.2.3: statuses whose responses have a null body.
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
// Fetch §2.2.1: methods normalized to upper case; those it forbids.
const NORMALIZED_METHODS: ReadonlySet<string> = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`keepAliveFetch: ${name} must be a positive number, got ${String(value)}`);
  return value;
}

/**
 * A `fetch` over `node:http`/`node:https` whose connections stay open between
 * requests: one keep-alive agent per protocol, shared by every request of
 * this function (so one socket serves N sequential requests).
 *
 * - Sends method, headers and a string, `URLSearchParams`, `ArrayBuffer`
 *   (view) or `Uint8Array` body (anything else `Request` accepts — a `Blob`,
 *   `FormData`, a stream — is read into memory first); answers a standard
 *   `Response` (repeated response headers joined as `Headers` joins them,
 *   `set-cookie` kept apart).
 * - Never follows a redirect, whatever `init.redirect` says: a 3xx is
 *   returned as it is.
 * - `init.signal` (or a `Request`'s signal): an abort before or during the
 *   request, or while the body is read, rejects with the signal's reason and
 *   destroys the socket.
 * - `timeoutMs` covers headers and body; one timer per request, cleared once
 *   the body is read, cancelled or failed.
 * - A failure of the connection before the response (refused, reset — also
 *   on a reused keep-alive socket —, TLS, DNS) rejects with
 *   `TypeError('fetch failed')`, the socket error as `cause`, as the global
 *   fetch does (`network_error` for the library). The request is never sent
 *   again: a token request may have reached the server. A connection lost
 *   mid-body errors the body with `TypeError('terminated')`.
 *
 * No response-size cap here: the library reads bodies with its own (1 MiB,
 * `readJsonBody`), and cancelling a body destroys its socket.
 */
export function nodeHttpFetch(options: NodeHttpFetchOptions = {}): FetchLike {
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 30_000);
  const maxSockets = positive('maxSockets', options.maxSockets ?? 16);
  const idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs ?? 30_000);
  let httpAgent = options.agents?.http;
  let httpsAgent = options.agents?.https;
  const agentOptions = { keepAlive: true, maxSockets, timeout: idleTimeoutMs, scheduling: 'lifo' as const };

  const send = (outgoing: Outgoing): Promise<Response> => {
    const loaded = transports;
    if (loaded === undefined) {
      // Once per process: then every request takes the synchronous path.
      return loadTransports().then(() => {
        if (outgoing.signal?.aborted) throw abortReason(outgoing.signal);
        return send(outgoing);
      });
    }
    if (outgoing.url.protocol === 'https:') {
      return exchange(outgoing, loaded.https.request, (httpsAgent ??= new loaded.https.Agent(agentOptions)), timeoutMs);
    }
    return exchange(outgoing, loaded.http.request, (httpAgent ??= new loaded.http.Agent(agentOptions)), timeoutMs);
  };

  return (input, init) => {
    const fromRequest = typeof Request !== 'undefined' && input instanceof Request;
    const signal = init?.signal ?? (fromRequest ? input.signal : undefined);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const body = init?.body;
    if (!fromRequest && (body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || ArrayBuffer.isView(body) || body instanceof ArrayBuffer)) {
      // The fast path: everything a token request is.
      let outgoing: Outgoing;
      try {
        outgoing = prepare(String(input), init?.method, init?.headers, body ?? undefined, signal);
      } catch (error) {
        return Promise.reject(error);
      }
      return send(outgoing);
    }
    // Anything else (a Request, a Blob, FormData, a stream): let `Request` encode it, then send the bytes.
    return readRequest(input, init, signal).then(send);
  };
}

async function readRequest(input: string | URL | Request, init: RequestInit | undefined, signal: AbortSignal | undefined): Promise<Outgoing> {
  const request = new Request(input, { ...init, signal: null, ...(init?.body ? { duplex: 'half' } : {}) } as RequestInit);
  const bytes = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
  const outgoing = prepare(request.url, request.method, request.headers, undefined, signal);
  if (bytes !== undefined) {
    outgoing.body = bytes;
    outgoing.headers['content-length'] = String(bytes.byteLength);
  }
  return outgoing;
}

function prepare(
  input: string,
  rawMethod: string | undefined,
  rawHeaders: HeadersInit | undefined,
  rawBody: string | URLSearchParams | ArrayBuffer | ArrayBufferView | undefined,
  signal: AbortSignal | undefined,
): Outgoing {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new TypeError(`Failed to parse URL from ${input}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) });
  if (url.username !== '' || url.password !== '') throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url.origin}`);

  let method = rawMethod ?? 'GET';
  const upper = method.toUpperCase();
  if (NORMALIZED_METHODS.has(upper)) method = upper;
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);

  const headers = headerRecord(rawHeaders);
  let body: string | Uint8Array | undefined;
  if (rawBody !== undefined) {
    if (method === 'GET' || method === 'HEAD') throw new TypeError('Request with GET/HEAD method cannot have body.');
    if (typeof rawBody === 'string') {
      body = rawBody;
      headers['content-type'] ??= 'text/plain;charset=UTF-8';
    } else if (rawBody instanceof URLSearchParams) {
      body = rawBody.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    } else if (rawBody instanceof ArrayBuffer) {
      body = new Uint8Array(rawBody);
    } else {
      body = new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
    }
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  } else if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    headers['content-length'] = '0';
  }
  return { url, method, headers, body, signal };
}

/** Request headers as Node takes them: names lower-cased, repeated names joined with ", " (as `Headers` does). */
function headerRecord(init: HeadersInit | undefined): OutgoingHttpHeaders & Record<string, string> {
  const headers: Record<string, string> = {};
  if (init === undefined) return headers;
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    // Fetch trims HTTP whitespace around a value; an invalid name or value is refused by Node below.
    const trimmed = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    const existing = headers[key];
    headers[key] = existing === undefined ? trimmed : `${existing}, ${trimmed}`;
  };
  if (init instanceof Headers) init.forEach((value, name) => add(name, value));
  else if (Array.isArray(init)) {
    for (const pair of init) {
      if (pair.length !== 2) throw new TypeError('Headers: each header must be a [name, value] pair');
      add(pair[0] as string, pair[1] as string);
    }
  } else for (const name of Object.keys(init)) add(name, (init as Record<string, string>)[name] as string);
  return headers;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

// The phases of one request.
/** Sent (or being sent), no response headers yet: a failure rejects the fetch. */
const WAITING = 0;
/** The `Response` is out, its body streaming: a failure errors the body. */
const BODY = 1;
/** Settled: the timer is cleared, the abort listener removed. */
const DONE = 2;

/** One request: the only allocations besides Node's own are this closure's state, one timer and the Response. */
function exchange(
  outgoing: Outgoing,
  request: typeof httpRequest,
  agent: HttpAgent | HttpsAgent,
  timeoutMs: number,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const { signal } = outgoing;
    // Aborted while a Request's body was read or node:http was loading: its 'abort' event has passed.
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let phase: number = WAITING;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = (): void => {
      phase = DONE;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    /** Ends the request with `error` — the fetch's rejection, or every read of the body — and destroys the socket. */
    const fail = (error: unknown): void => {
      const was = phase;
      if (was === DONE) return;
      finish();
      if (was === WAITING) reject(error);
      else controller?.error(error);
      req.destroy();
    };
    const onAbort = (): void => {
      if (signal) fail(abortReason(signal));
    };

    let req: ReturnType<typeof httpRequest>;
    try {
      req = request(outgoing.url, { method: outgoing.method, headers: outgoing.headers, agent });
    } catch (error) {
      // Node refused a header name or value (ERR_INVALID_HTTP_TOKEN, ERR_INVALID_CHAR): fetch's TypeError.
      reject(new TypeError(error instanceof Error ? error.message : String(error), { cause: error }));
      return;
    }

    req.on('error', (error) => {
      fail(phase === WAITING ? new TypeError('fetch failed', { cause: error }) : new TypeError('terminated', { cause: error }));
    });

    req.on('response', (res: IncomingMessage) => {
      if (phase !== WAITING) {
        res.destroy();
        return;
      }
      const status = res.statusCode ?? 0;
      const headers = new Headers();
      let response: Response;
      try {
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
        if (outgoing.method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
          response = respond(null, status, res.statusMessage, headers);
          finish();
          res.on('error', () => undefined);
          res.resume(); // nothing to read: let the socket go back to the pool
        } else {
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
            pull() {
              res.resume();
            },
            cancel() {
              if (phase === DONE) return;
              finish();
              req.destroy();
            },
          });
          response = respond(body, status, res.statusMessage, headers);
          phase = BODY;
          res.on('data', (chunk: Buffer) => {
            if (phase !== BODY || controller === undefined) return;
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) res.pause();
          });
          res.on('end', () => {
            if (phase !== BODY) return;
            finish();
            controller?.close();
          });
          res.on('error', (error) => fail(new TypeError('terminated', { cause: error })));
          res.on('close', () => {
            if (phase === BODY && !res.complete) fail(new TypeError('terminated', { cause: new Error('the connection closed before the response body was complete') }));
          });
        }
      } catch (error) {
        // A status `Response` cannot carry (outside 200–599) or a header `Headers` refuses: the server is not speaking HTTP as fetch knows it.
        fail(new TypeError('fetch failed', { cause: error }));
        return;
      }
      // Fetch's Response#url; the library shows it when it refuses a redirect.
      Object.defineProperty(response, 'url', { value: outgoing.url.href });
      resolve(response);
    });

    timer = setTimeout(() => fail(new DOMException(`The request timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    signal?.addEventListener('abort', onAbort);
    if (outgoing.body === undefined) req.end();
    else req.end(outgoing.body);
  });
}

/** A `Response`; a status text it refuses (only a hand-made server sends one) is left out. */
function respond(body: ReadableStream<Uint8Array> | null, status: number, statusText: string | undefined, headers: Headers): Response {
  try {
    return new Response(body, { status, statusText: statusText ?? '', headers });
  } catch (error) {
    if (statusText) return new Response(body, { status, headers });
    throw error;
  }
}
