import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import { fetchWithTimeout } from '../src/services/fetchWithTimeout.js';
import type { FetchLike } from '../src/services/types.js';

/** A fetch that never answers by itself: it settles when `respond` is called or its signal aborts. */
function pendingFetch(options: { genericAbortError?: boolean } = {}) {
  const calls: Array<{ signal: AbortSignal | undefined; respond: (response: Response) => void }> = [];
  const fetch: FetchLike = (_input, init) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      calls.push({ signal, respond: resolve });
      signal?.addEventListener('abort', () => {
        reject(options.genericAbortError ? new DOMException('This operation was aborted', 'AbortError') : signal.reason);
      });
    });
  return { fetch, calls };
}

/** A body that sends `first` and then nothing, ever; it records whether it was cancelled. */
function stallingBody(first: string) {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

/** Watches a promise without awaiting it: `outcome()` is undefined while it is pending. */
function observe<T>(promise: Promise<T>) {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { ok: true, value };
    },
    (error: unknown) => {
      outcome = { ok: false, error };
    },
  );
  return { outcome: () => outcome };
}

function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe.each([
  ['with AbortSignal.any', true],
  ['without AbortSignal.any (fallback)', false],
])('fetchWithTimeout %s', (_name, hasAny) => {
  const originalAny = AbortSignal.any;
  beforeEach(() => {
    vi.useFakeTimers();
    if (!hasAny) Object.defineProperty(AbortSignal, 'any', { value: undefined, configurable: true, writable: true });
  });
  afterEach(() => {
    vi.useRealTimers();
    Object.defineProperty(AbortSignal, 'any', { value: originalAny, configurable: true, writable: true });
  });

  it('rejects with a TimeoutError DOMException once the timeout passes, which OAuthError maps to timeout', async () => {
    const { fetch, calls } = pendingFetch();
    const result = settle(fetchWithTimeout(fetch, { timeoutMs: 5_000 })('https://id.example/token'));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls[0]?.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await result;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(DOMException);
    expect((outcome.error as DOMException).name).toBe('TimeoutError');
    expect(OAuthError.from(outcome.error).code).toBe('timeout');
  });

  it('reports a TimeoutError even when the inner fetch rejects with a generic AbortError', async () => {
    const { fetch } = pendingFetch({ genericAbortError: true });
    const result = settle(fetchWithTimeout(fetch, { timeoutMs: 1_000 })('https://id.example/token'));
    await vi.advanceTimersByTimeAsync(1_000);
    const outcome = await result;
    expect(!outcome.ok && (outcome.error as DOMException).name).toBe('TimeoutError');
  });

  it("passes a caller's abort through unchanged, with the caller's reason", async () => {
    const { fetch } = pendingFetch({ genericAbortError: true });
    const controller = new AbortController();
    const reason = new Error('user navigated away');
    const result = settle(fetchWithTimeout(fetch)('https://id.example/token', { signal: controller.signal }));
    controller.abort(reason);
    const outcome = await result;
    expect(!outcome.ok && outcome.error).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('maps a plain caller abort to AbortError, which OAuthError maps to aborted', async () => {
    const { fetch } = pendingFetch();
    const controller = new AbortController();
    const result = settle(fetchWithTimeout(fetch)('https://id.example/token', { signal: controller.signal }));
    controller.abort();
    const outcome = await result;
    expect(!outcome.ok && (outcome.error as DOMException).name).toBe('AbortError');
    expect(!outcome.ok && OAuthError.from(outcome.error).code).toBe('aborted');
  });

  it('rejects at once, without calling fetch, when the caller signal is already aborted', async () => {
    const { fetch, calls } = pendingFetch();
    const outcome = await settle(fetchWithTimeout(fetch)('https://id.example/token', { signal: AbortSignal.abort() }));
    expect(outcome.ok).toBe(false);
    expect(calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("honours the signal of a Request passed as input", async () => {
    const { fetch } = pendingFetch();
    const controller = new AbortController();
    const request = new Request('https://id.example/token', { signal: controller.signal });
    const result = settle(fetchWithTimeout(fetch)(request));
    controller.abort(new Error('stop'));
    const outcome = await result;
    expect(!outcome.ok && (outcome.error as Error).message).toBe('stop');
  });

  it('leaves no timer and no abort listener behind once the response arrives', async () => {
    const { fetch, calls } = pendingFetch();
    const controller = new AbortController();
    const result = fetchWithTimeout(fetch, { timeoutMs: 10_000 })('https://id.example/token', { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    calls[0]?.respond(new Response('ok'));
    const response = await result;
    expect(await response.text()).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    if (!hasAny) expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('keeps the deadline running while the body is read: a body that stalls after the headers rejects with TimeoutError', async () => {
    const stalled = stallingBody('{"access_token":"at",');
    const fetch: FetchLike = () => Promise.resolve(new Response(stalled.stream, { headers: { 'content-type': 'application/json' } }));
    const response = await fetchWithTimeout(fetch, { timeoutMs: 5_000 })('https://id.example/token');
    const body = observe(response.json());
    await vi.advanceTimersByTimeAsync(5_000);
    const outcome = body.outcome();
    expect(outcome?.ok).toBe(false);
    if (outcome === undefined || outcome.ok) return;
    expect((outcome.error as DOMException).name).toBe('TimeoutError');
    expect(OAuthError.from(outcome.error).code).toBe('timeout');
    expect(stalled.cancelled()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('turns a stalled body into a typed timeout through the token response reader', async () => {
    const stalled = stallingBody('{"access_token":"at",');
    const fetch: FetchLike = () => Promise.resolve(new Response(stalled.stream, { headers: { 'content-type': 'application/json' } }));
    const response = await fetchWithTimeout(fetch, { timeoutMs: 1_000 })('https://id.example/token');
    const tokens = observe(readTokenResponse({ tokenEndpoint: 'https://id.example/token' }, response, { now: () => 0 }));
    await vi.advanceTimersByTimeAsync(1_000);
    const outcome = tokens.outcome();
    expect(outcome?.ok).toBe(false);
    if (outcome === undefined || outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(OAuthError);
    expect(outcome.error).toMatchObject({ code: 'timeout', retryable: true });
  });

  it("errors a stalled body with the caller's reason when the caller aborts", async () => {
    const stalled = stallingBody('{');
    const fetch: FetchLike = () => Promise.resolve(new Response(stalled.stream));
    const controller = new AbortController();
    const response = await fetchWithTimeout(fetch, { timeoutMs: 5_000 })('https://id.example/token', { signal: controller.signal });
    const body = observe(response.text());
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(body.outcome()).toEqual({ ok: false, error: reason });
    expect(vi.getTimerCount()).toBe(0);
    if (!hasAny) expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('keeps status, headers and body of a response read in time, and leaves no timer once it is read', async () => {
    const fetch: FetchLike = () =>
      Promise.resolve(new Response('{"a":1}', { status: 201, statusText: 'Created', headers: { 'x-test': 'yes' } }));
    const response = await fetchWithTimeout(fetch, { timeoutMs: 5_000 })('https://id.example/token');
    expect(response).toMatchObject({ status: 201, statusText: 'Created' });
    expect(response.headers.get('x-test')).toBe('yes');
    expect(vi.getTimerCount()).toBe(1);
    expect(await response.json()).toEqual({ a: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears the timer when the body is cancelled unread', async () => {
    const stalled = stallingBody('{');
    const fetch: FetchLike = () => Promise.resolve(new Response(stalled.stream));
    const response = await fetchWithTimeout(fetch, { timeoutMs: 5_000 })('https://id.example/token');
    await response.body?.cancel();
    expect(stalled.cancelled()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('returns a response without a body, and an opaque redirect, as it is, with the timer cleared', async () => {
    const empty = new Response(null, { status: 204 });
    const opaque = new Response(null);
    Object.defineProperties(opaque, { type: { value: 'opaqueredirect' }, status: { value: 0 } });
    for (const answer of [empty, opaque]) {
      const response = await fetchWithTimeout(() => Promise.resolve(answer), { timeoutMs: 5_000 })('https://id.example/token');
      expect(response).toBe(answer);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('leaves no timer behind when the inner fetch fails', async () => {
    const failing: FetchLike = () => Promise.reject(new TypeError('fetch failed'));
    const outcome = await settle(fetchWithTimeout(failing)('https://id.example/token'));
    expect(!outcome.ok && (outcome.error as Error).message).toBe('fetch failed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('fetchWithTimeout options', () => {
  it('refuses a timeout that is not a positive number', () => {
    const fetch: FetchLike = () => Promise.resolve(new Response(''));
    expect(() => fetchWithTimeout(fetch, { timeoutMs: 0 })).toThrow(TypeError);
    expect(() => fetchWithTimeout(fetch, { timeoutMs: Number.NaN })).toThrow(TypeError);
  });

  it('passes the request and its init through to the inner fetch', async () => {
    const seen: Array<{ input: unknown; method: string | undefined; body: unknown }> = [];
    const fetch: FetchLike = (input, init) => {
      seen.push({ input, method: init?.method, body: init?.body });
      return Promise.resolve(new Response('{}', { status: 201 }));
    };
    const response = await fetchWithTimeout(fetch)('https://id.example/token', { method: 'POST', body: 'a=b' });
    expect(response.status).toBe(201);
    expect(seen).toEqual([{ input: 'https://id.example/token', method: 'POST', body: 'a=b' }]);
  });
});
