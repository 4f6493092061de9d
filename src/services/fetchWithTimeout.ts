import type { FetchLike } from './types.js';

export interface FetchWithTimeoutOptions {
  /** How long to wait for the response headers, in milliseconds. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Wraps a `fetch` so every request gives up after `timeoutMs`: the request is
 * aborted and the returned promise rejects with a `DOMException` named
 * `TimeoutError` (which `OAuthError.from` maps to `timeout`). A caller's own
 * `signal` still works and its abort passes through unchanged.
 *
 * The timeout covers the wait for the response headers; the timer is cleared
 * as soon as they arrive (or the request fails), so nothing keeps running
 * after the response. `AbortSignal.timeout` is deliberately not used: its
 * timer cannot be cancelled and would outlive every response.
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

    try {
      return await fetchImpl(input, { ...init, signal: combined.signal });
    } catch (error) {
      // Some fetch implementations reject with a generic AbortError whatever the
      // reason was; say which abort it was.
      if (timedOut && !callerSignal?.aborted) {
        throw timeout.signal.reason;
      }
      if (callerSignal?.aborted && callerSignal.reason !== undefined && isAbortError(error)) {
        throw callerSignal.reason;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      combined.dispose();
    }
  };
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
