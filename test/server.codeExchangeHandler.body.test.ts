/**
 * How the code-exchange handler reads the browser's request body when the
 * upload goes wrong: a stream that errors (the browser went away mid-upload)
 * is answered 400, a stream that stalls or trickles is answered 408 once the
 * read deadline passes, and neither ever reaches the provider nor makes the
 * handler reject.
 */
import { describe, expect, it } from 'vitest';
import { createCodeExchangeHandler, type CodeExchangeHandlerOptions } from '../src/server/codeExchangeHandler.js';
import type { FetchLike } from '../src/services/types.js';

const REDIRECT_URI = 'https://app.example/callback';
const HANDLER_URL = 'https://app.example/api/oauth/exchange';

function setup(overrides: Partial<CodeExchangeHandlerOptions> = {}) {
  const providerCalls: string[] = [];
  const fetch: FetchLike = (input) => {
    providerCalls.push(String(input));
    return Promise.resolve(new Response('{}', { status: 500, headers: { 'content-type': 'application/json' } }));
  };
  const handler = createCodeExchangeHandler({
    provider: { tokenEndpoint: 'https://id.example/token' },
    client: { clientId: 'web', clientSecret: 'web-secret' },
    redirectUris: [REDIRECT_URI],
    services: { fetch },
    ...overrides,
  });
  return { handler, providerCalls };
}

/** A POST whose body is `stream`, as a runtime hands on a streamed upload (Fetch standard: `duplex: 'half'`). */
function streamed(stream: ReadableStream<Uint8Array>): Request {
  return new Request(HANDLER_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
}

const firstBytes = new TextEncoder().encode('{"code": "a-co');

describe('createCodeExchangeHandler reading a broken upload', () => {
  it('answers 400 invalid_request when the body stream errors mid-upload, without rejecting or asking the provider', async () => {
    const { handler, providerCalls } = setup();
    let pulls = 0;
    const erroring = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        if (pulls === 1) controller.enqueue(firstBytes);
        else controller.error(new TypeError('the client went away (ECONNRESET)'));
      },
    });
    const response = await handler(streamed(erroring));
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect(providerCalls).toHaveLength(0);
  });

  it('answers 400 invalid_request when the body stream errors before its first byte', async () => {
    const { handler, providerCalls } = setup();
    const erroring = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(new Error('aborted'));
      },
    });
    const response = await handler(streamed(erroring));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect(providerCalls).toHaveLength(0);
  });

  it('answers 400 invalid_request for a body that was already read', async () => {
    const { handler, providerCalls } = setup();
    const request = new Request(HANDLER_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await request.text();
    const response = await handler(request);
    expect(response.status).toBe(400);
    expect(providerCalls).toHaveLength(0);
  });

  it('answers 408 when the body stalls past bodyTimeoutMs, and cancels the upload', async () => {
    const { handler, providerCalls } = setup({ bodyTimeoutMs: 50 });
    let cancelled: unknown;
    const stalling = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(firstBytes); // then nothing more, ever
      },
      cancel(reason) {
        cancelled = reason ?? 'cancelled';
      },
    });
    const response = await handler(streamed(stalling));
    expect(response.status).toBe(408);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    expect(cancelled).toBeDefined();
    expect(providerCalls).toHaveLength(0);
  });

  it('answers 408 for a body that trickles in: the deadline is for the whole body, not for each chunk', async () => {
    const { handler, providerCalls } = setup({ bodyTimeoutMs: 100, maxBodyBytes: 1024 * 1024 });
    let sent = 0;
    let cancelled = false;
    const trickling = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // One byte every 5 ms; bounded so that a handler without a deadline ends with a 400, not a hang.
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (cancelled) return;
        if (sent >= 2_000) {
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(new Uint8Array([0x20]));
      },
      cancel() {
        cancelled = true;
      },
    });
    const response = await handler(streamed(trickling));
    expect(response.status).toBe(408);
    expect(cancelled).toBe(true);
    expect(providerCalls).toHaveLength(0);
  });

  it('refuses a bodyTimeoutMs that is not a positive number of milliseconds', () => {
    for (const bodyTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => setup({ bodyTimeoutMs })).toThrow(TypeError);
    }
  });
});
