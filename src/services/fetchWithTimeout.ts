import type { FetchLike } from './types.js';

export interface FetchWithTimeoutOptions {
  /** How long the whole response may take, headers and body, in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Wraps a `fetch` so every request gives up after `timeoutMs`: the request is
 * aborted and the returned promise — or, once the headers are in, every read
 * of the body (`response.json()`, `text()`, the stream) — rejects with a
 * `DOMException` named `TimeoutError` (which `OAuthError.from` maps to
 * `timeout`). A caller's own `signal` still works and its abort passes
 * through unchanged, also while the body is being read.
 *
 * The timeout covers the whole response: a server that sends its headers and
 * then stalls mid-body would otherwise hold the caller forever. The timer is
 * cleared as soon as the body has been fully read, cancelled or has failed
 * (or the request fails), so nothing keeps running after the response. A
 * response without a body, or one whose body the page cannot read (an opaque
 * or opaque-redirect response, status 0), is returned as it is, the timer
 * cleared. `AbortSignal.timeout` is deliberately not used: its timer cannot
 * be cancelled and would outlive every response.
 *
 * @example
 * const services = defaultServices({ fetch: fetchWithTimeout(fetch, { timeoutMs: 10_000 }) });
 */
export function fetchWithTimeout(fetchImpl: FetchLike, options: FetchWithTimeoutOptions = {}): FetchLike {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`fetchWithTimeout: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
  return async (input, init) => {
    const callerSignal = init?.signal ?? (typeof Request !== 'undefined' && input instanceof Request ? input.signal : undefined);
    callerSignal?.throwIfAborted();

    const timeout = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      timeout.abort(new DOMException(`The request timed out after ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    const combined = callerSignal ? anySignal([callerSignal, timeout.signal]) : { signal: timeout.signal, dispose() {} };
    const release = (): void => {
      clearTimeout(timer);
      combined.dispose();
    };

    let response: Response;
    try {
      response = await fetchImpl(input, { ...init, signal: combined.signal });
    } catch (error) {
      release();
      // Some fetch implementations reject with a generic AbortError whatever the
      // reason was; say which abort it was.
      if (timedOut && !callerSignal?.aborted) {
        throw timeout.signal.reason;
      }
      if (callerSignal?.aborted && callerSignal.reason !== undefined && isAbortError(error)) {
        throw callerSignal.reason;
      }
      throw error;
    }
    return withBodyDeadline(response, combined.signal, release);
  };
}

// Fetch §2.2.3: statuses whose responses have a null body (`new Response` refuses a body with them).
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/**
 * The response with its body piped through a stream that the deadline (or the
 * caller's abort) errors with the signal's reason, so a stalled body rejects
 * instead of hanging; `release` runs once the body is done with, either way.
 */
function withBodyDeadline(response: Response, signal: AbortSignal, release: () => void): Response {
  const source = response.body;
  // Nothing to wait for, or nothing `new Response` could carry: no body, an opaque or
  // opaque-redirect response (status 0), a null-body status, a body already taken.
  const status = response.status;
  if (source === null || status < 200 || status > 599 || NULL_BODY_STATUSES.has(status) || source.locked) {
    release();
    return response;
  }
  const reader = source.getReader();
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    signal.removeEventListener('abort', onAbort);
    release();
  };
  let onAbort = (): void => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          // What every read of the body now rejects with: the TimeoutError, or the caller's reason.
          controller.error(signal.reason);
          reader.cancel(signal.reason).catch(() => undefined);
          finish();
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      },
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          // After an abort the stream already carries the abort's reason, not the transport's echo of it.
          if (!done) {
            controller.error(error);
            finish();
          }
          return;
        }
        if (done) return;
        if (chunk.done) {
          controller.close();
          finish();
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    // Pull only when the consumer reads: the deadline is about the server, not a buffer filling ahead.
    { highWaterMark: 0 },
  );
  let wrapped: Response;
  try {
    wrapped = new Response(body, { status, statusText: response.statusText, headers: response.headers });
  } catch {
    // A status text `new Response` refuses (only a hand-made fetch produces one): hand the original back untouched.
    signal.removeEventListener('abort', onAbort);
    reader.releaseLock();
    release();
    return response;
  }
  // `new Response` cannot be given these; whoever looks at them still sees the original's.
  Object.defineProperties(wrapped, {
    url: { value: response.url },
    redirected: { value: response.redirected },
  });
  return wrapped;
}

interface CombinedSignal {
  signal: AbortSignal;
  dispose(): void;
}

/** `AbortSignal.any`, with a listener-based fallback for runtimes that lack it (Safari < 17.4, Node < 20.3). */
function anySignal(signals: AbortSignal[]): CombinedSignal {
  if (typeof AbortSignal.any === 'function') {
    return { signal: AbortSignal.any(signals), dispose() {} };
  }
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  const dispose = (): void => {
    signals.forEach((signal, index) => {
      const listener = listeners[index];
      if (listener) signal.removeEventListener('abort', listener);
    });
  };
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      return { signal: controller.signal, dispose };
    }
    const listener = (): void => {
      controller.abort(signal.reason);
      dispose();
    };
    listeners.push(listener);
    signal.addEventListener('abort', listener, { once: true });
  }
  return { signal: controller.signal, dispose };
}

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'AbortError';
}
