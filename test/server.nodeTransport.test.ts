/**
 * The `node:http` transport behind `keepAliveFetch()` and `nodeServices()`,
 * against a loopback `node:http` server this file starts on 127.0.0.1:
 * keep-alive reuse, redirects returned as they are, aborts, the deadline over
 * headers and body, resets (never a second request), large bodies, headers
 * both ways, and typed errors through the library's protocol layer.
 */
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import { sendRequest } from '../src/protocol/providerRequest.js';
import type { HttpRequest } from '../src/protocol/types.js';
import { nodeHttpFetch } from '../src/server/nodeHttpFetch.js';
import { keepAliveFetch } from '../src/server/nodeServices.js';
import { nodeServices } from '../src/server/services.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import { clock } from './protocol.fixtures.js';
import { REPO_ROOT } from './support/bundle.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

interface Loopback {
  origin: string;
  /** Every request whose body arrived, in order. */
  requests: Seen[];
  /** Every TCP connection the server accepted. */
  sockets: Socket[];
  /** Resolves once `n` connections have closed. */
  closed(n?: number): Promise<void>;
}

let server: Server | undefined;
afterEach(async () => {
  const current = server;
  server = undefined;
  if (!current) return;
  current.closeAllConnections();
  await new Promise((resolve) => current.close(resolve));
});

/** A `node:http` server on 127.0.0.1 that reads each request body and then calls `handle`. */
async function listen(handle: (request: Seen, response: ServerResponse, index: number) => void): Promise<Loopback> {
  const requests: Seen[] = [];
  const sockets: Socket[] = [];
  let closedCount = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const seen: Seen = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        rawHeaders: incoming.rawHeaders,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      handle(seen, outgoing, requests.length - 1);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    socket.on('close', () => {
      closedCount += 1;
      for (const waiter of waiters.splice(0)) {
        if (closedCount >= waiter.n) waiter.resolve();
        else waiters.push(waiter);
      }
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    closed: (n = 1) =>
      closedCount >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

const tokenEndpoint = (request: Seen, response: ServerResponse): void =>
  json(response, 200, { access_token: 'at', token_type: 'Bearer', expires_in: 3600, echo: request.body.toString() });

function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.ok) throw new Error('expected a rejection, got a value');
  return outcome.error;
}

/** A port nothing listens on: one the kernel just gave out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const form = (n: number) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: `grant_type=client_credentials&n=${n}`,
});

/** The request as the protocol layer builds it. */
const tokenRequest = (url: string, n: number): HttpRequest => ({ url, init: { ...form(n), redirect: 'manual' } });

describe('keepAliveFetch over node:http', () => {
  it('sends N sequential requests over one socket', async () => {
    const loopback = await listen(tokenEndpoint);
    const fetch = keepAliveFetch({ timeoutMs: 5_000 });
    for (let i = 0; i < 25; i += 1) {
      const response = await fetch(`${loopback.origin}/token`, form(i));
      expect(await response.json()).toMatchObject({ access_token: 'at', echo: `grant_type=client_credentials&n=${i}` });
    }
    expect(loopback.requests).toHaveLength(25);
    expect(loopback.sockets).toHaveLength(1);
  });

  it('opens more sockets for concurrent requests, never more than maxSockets', async () => {
    const loopback = await listen((request, response) => setTimeout(() => tokenEndpoint(request, response), 20));
    const fetch = keepAliveFetch({ maxSockets: 3 });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`${loopback.origin}/token`, form(i)).then((r) => r.json())));
    expect(responses).toHaveLength(12);
    expect(loopback.sockets.length).toBeGreaterThan(1);
    expect(loopback.sockets.length).toBeLessThanOrEqual(3);
  });

  it('is the default fetch of nodeServices(), shared by every call: no fetch-only headers, one socket', async () => {
    const loopback = await listen(tokenEndpoint);
    const a = nodeServices();
    const b = nodeServices();
    expect(a.fetch).toBe(b.fetch);
    for (const services of [a, b, a]) {
      expect((await (await services.fetch(`${loopback.origin}/token`, form(1))).json()) as unknown).toMatchObject({ access_token: 'at' });
    }
    expect(loopback.sockets).toHaveLength(1);
    // undici's fetch adds these; the node:http transport sends only what it is given (and Host, Connection).
    expect(loopback.requests[0]?.headers).not.toHaveProperty('sec-fetch-mode');
    expect(loopback.requests[0]?.headers).not.toHaveProperty('user-agent');
  });

  it('sends method, headers and body, and answers status, status text, repeated headers and body', async () => {
    const loopback = await listen((request, response) => {
      response.statusCode = 201;
      response.statusMessage = 'Made It';
      response.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      response.setHeader('x-multi', ['one', 'two']);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body: request.body.toString('base64') }));
    });
    const fetch = keepAliveFetch();
    const headers = new Headers({ 'X-Custom': '  padded  ', Accept: 'application/json' });
    headers.append('x-list', 'a');
    headers.append('x-list', 'b');
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const response = await fetch(`${loopback.origin}/path?q=1`, { method: 'put', headers, body: bytes });
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Made It');
    expect(response.ok).toBe(true);
    expect(response.url).toBe(`${loopback.origin}/path?q=1`);
    expect(response.headers.get('x-multi')).toBe('one, two');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    const echoed = (await response.json()) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(echoed.method).toBe('PUT');
    expect(echoed.url).toBe('/path?q=1');
    expect(echoed.headers).toMatchObject({ 'x-custom': 'padded', accept: 'application/json', 'x-list': 'a, b', 'content-length': '5' });
    expect(Buffer.from(echoed.body, 'base64')).toEqual(Buffer.from(bytes));

    // The content types fetch gives a string and URLSearchParams; headers as pairs and as a record.
    await fetch(`${loopback.origin}/s`, { method: 'POST', body: 'plain', headers: [['x-pair', '1'], ['X-Pair', '2']] });
    await fetch(`${loopback.origin}/p`, { method: 'POST', body: new URLSearchParams({ a: 'b c' }), headers: { 'X-Record': 'r' } });
    await fetch(`${loopback.origin}/e`, { method: 'POST' });
    const [, plain, params, empty] = loopback.requests;
    expect(plain?.headers).toMatchObject({ 'content-type': 'text/plain;charset=UTF-8', 'x-pair': '1, 2' });
    expect(plain?.body.toString()).toBe('plain');
    expect(params?.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', 'x-record': 'r' });
    expect(params?.body.toString()).toBe('a=b+c');
    expect(empty?.headers['content-length']).toBe('0');
  });

  it('reads a Request (its method, headers, body and signal) and bodies fetch encodes itself (a Blob)', async () => {
    const loopback = await listen((request, response) => json(response, 200, { body: request.body.toString(), type: request.headers['content-type'] }));
    const fetch = keepAliveFetch();
    const request = new Request(`${loopback.origin}/r`, { method: 'POST', body: 'from a Request', headers: { 'x-r': '1' } });
    expect(await (await fetch(request)).json()).toEqual({ body: 'from a Request', type: 'text/plain;charset=UTF-8' });
    expect(loopback.requests[0]?.headers['x-r']).toBe('1');
    const blob = new Blob(['blob body'], { type: 'application/octet-stream' });
    expect(await (await fetch(`${loopback.origin}/b`, { method: 'POST', body: blob })).json()).toEqual({ body: 'blob body', type: 'application/octet-stream' });
    const aborted = new Request(`${loopback.origin}/r`, { signal: AbortSignal.abort(new Error('request signal')) });
    expect(await failure(fetch(aborted))).toMatchObject({ message: 'request signal' });
  });

  it('returns a 3xx as it is and never follows it, whatever init.redirect says', async () => {
    const loopback = await listen((request, response) => {
      if (request.url === '/token') {
        response.writeHead(307, { location: '/elsewhere', 'content-type': 'text/plain' });
        response.end('moved');
      } else json(response, 200, { followed: true });
    });
    const fetch = keepAliveFetch();
    for (const redirect of ['manual', 'follow', undefined] as const) {
      const response = await fetch(`${loopback.origin}/token`, { ...form(0), ...(redirect ? { redirect } : {}) });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe('/elsewhere');
      expect(await response.text()).toBe('moved');
    }
    // Through the library's one call site: unexpected_redirect, the request sent once.
    const error = await failure(
      sendRequest(fetch, tokenRequest(`${loopback.origin}/token`, 1), undefined),
    );
    expect(error).toMatchObject({ code: 'unexpected_redirect', status: 307 });
    expect(loopback.requests.map((request) => request.url)).toEqual(['/token', '/token', '/token', '/token']);
  });

  it('rejects with the reason of a signal aborted before the request goes out, and connects to nothing', async () => {
    const loopback = await listen(tokenEndpoint);
    const reason = new Error('already gone');
    expect(await failure(keepAliveFetch()(`${loopback.origin}/token`, { ...form(0), signal: AbortSignal.abort(reason) }))).toBe(reason);
    const plain = await failure(keepAliveFetch()(`${loopback.origin}/token`, { signal: AbortSignal.abort() }));
    expect((plain as DOMException).name).toBe('AbortError');
    expect(OAuthError.from(plain).code).toBe('aborted');
    // Aborted while a body fetch must encode first (a Blob) is being read: still nothing is sent.
    const controller = new AbortController();
    const pending = keepAliveFetch()(`${loopback.origin}/token`, { method: 'POST', body: new Blob(['x']), signal: controller.signal });
    const late = new Error('aborted while the body was read');
    controller.abort(late);
    expect(await failure(pending)).toBe(late);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(loopback.sockets).toHaveLength(0);
  });

  it("rejects with the caller's reason when it aborts while waiting for the headers, and destroys the socket", async () => {
    const loopback = await listen(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pending = settle(keepAliveFetch()(`${loopback.origin}/token`, { ...form(0), signal: controller.signal }));
    while (loopback.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await pending).toEqual({ ok: false, error: reason });
    await loopback.closed(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    // abort() without a reason: an AbortError, which the library reports as aborted.
    const second = new AbortController();
    const next = settle(keepAliveFetch()(`${loopback.origin}/token`, { signal: second.signal }));
    while (loopback.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    second.abort();
    const outcome = await next;
    expect(!outcome.ok && (outcome.error as DOMException).name).toBe('AbortError');
  });

  it("errors the body with the caller's reason when it aborts mid-body, and destroys the socket", async () => {
    const loopback = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"access_token":');
    });
    const controller = new AbortController();
    const response = await keepAliveFetch()(`${loopback.origin}/token`, { ...form(0), signal: controller.signal });
    const body = settle(response.text());
    const reason = new Error('user left');
    controller.abort(reason);
    expect(await body).toEqual({ ok: false, error: reason });
    await loopback.closed(1);
  });

  it('rejects with a TimeoutError when the headers do not come in time (timeout for the library), and destroys the socket', async () => {
    const loopback = await listen(() => {
      // Never answers.
    });
    const error = await failure(keepAliveFetch({ timeoutMs: 100 })(`${loopback.origin}/token`, form(0)));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(OAuthError.from(error).code).toBe('timeout');
    await loopback.closed(1);
  });

  it('keeps the deadline over the body: a body that stalls after the headers ends in timeout, the status kept', async () => {
    const loopback = await listen((request, response) => {
      const status = request.body.toString().includes('n=1') ? 503 : 200;
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': '200' });
      response.write(status === 200 ? '{"access_token":"at","token_type":"Bea' : '{"error":"temporarily_unava'); // …and the rest never comes
    });
    const fetch = keepAliveFetch({ timeoutMs: 500 });
    const provider = { tokenEndpoint: `${loopback.origin}/token` };
    for (const [n, status] of [[0, 200], [1, 503]] as const) {
      const response = await fetch(provider.tokenEndpoint, form(n));
      expect(response.status).toBe(status);
      const error = await failure(readTokenResponse(provider, response, clock));
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'timeout', retryable: true, ...(status === 503 ? { status: 503 } : {}) });
    }
    await loopback.closed(2);
  });

  it('clears its timer and abort listener once the body is read, and keeps the pooled socket past the deadline', async () => {
    const loopback = await listen(tokenEndpoint);
    const controller = new AbortController();
    const fetch = keepAliveFetch({ timeoutMs: 600 });
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    // node:http is loaded on the first request of the process; after that a request starts synchronously.
    await (await fetch(`${loopback.origin}/token`, form(9))).text();
    const before = timers();
    const pending = fetch(`${loopback.origin}/token`, { ...form(0), signal: controller.signal });
    expect(timers()).toBe(before + 1); // one timer per request
    const response = await pending;
    const stream = response.body;
    if (!stream) throw new Error('no body');
    const reader = stream.getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    expect(JSON.parse(text)).toMatchObject({ access_token: 'at' });
    expect(timers()).toBe(before);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 700));
    // The pooled socket is still open and serves the next request: the deadline did not destroy it.
    expect(await (await fetch(`${loopback.origin}/token`, form(1))).json()).toMatchObject({ access_token: 'at' });
    expect(loopback.sockets).toHaveLength(1);
  });

  it('reports a connection reset before the response as a network error, and never sends the request again', async () => {
    const loopback = await listen((_request, response) => {
      response.socket?.destroy();
    });
    const error = await failure(keepAliveFetch()(`${loopback.origin}/token`, form(0)));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as TypeError).cause).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
    expect(OAuthError.from(error)).toMatchObject({ code: 'network_error', retryable: true });
    expect(loopback.requests).toHaveLength(1);
  });

  it('reports a reset of a reused keep-alive socket as a network error, without a retry, then opens a new socket', async () => {
    const loopback = await listen((request, response, index) => {
      if (index === 1) response.socket?.destroy();
      else tokenEndpoint(request, response);
    });
    const fetch = keepAliveFetch();
    await (await fetch(`${loopback.origin}/token`, form(0))).json();
    const error = await failure(sendRequest(fetch, tokenRequest(`${loopback.origin}/token`, 1), undefined));
    expect(error).toMatchObject({ code: 'network_error', retryable: true });
    expect(loopback.requests).toHaveLength(2); // the reset request went out once
    expect(loopback.sockets).toHaveLength(1); // …on the reused socket
    expect(await (await fetch(`${loopback.origin}/token`, form(2))).json()).toMatchObject({ echo: 'grant_type=client_credentials&n=2' });
    expect(loopback.requests).toHaveLength(3);
    expect(loopback.sockets).toHaveLength(2);
  });

  it('reports a connection lost mid-body as network_error through the token response reader', async () => {
    const loopback = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      response.write('{"access_token":"at","token_type":"Bea', () => response.socket?.destroy());
    });
    const provider = { tokenEndpoint: `${loopback.origin}/token` };
    const response = await keepAliveFetch()(provider.tokenEndpoint, form(0));
    expect(await failure(readTokenResponse(provider, response, clock))).toMatchObject({ code: 'network_error', retryable: true });
  });

  it('carries large bodies both ways intact', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 1) big[i] = (i * 31 + 7) & 0xff;
    const loopback = await listen((request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(request.body.length === big.length && request.body.equals(big) ? big : Buffer.from('mismatch'));
    });
    const response = await keepAliveFetch()(`${loopback.origin}/upload`, { method: 'POST', body: big });
    const received = Buffer.from(await response.arrayBuffer());
    expect(received.length).toBe(big.length);
    expect(received.equals(big)).toBe(true);
  });

  it('cancelling an unread body destroys the socket instead of pooling it half-read', async () => {
    const loopback = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write(Buffer.alloc(64 * 1024));
      // …and keeps the rest for later
    });
    const response = await keepAliveFetch()(`${loopback.origin}/token`, form(0));
    await response.body?.cancel();
    await loopback.closed(1);
  });

  it('returns a 204 without a body and pools its socket', async () => {
    const loopback = await listen((_request, response) => {
      response.writeHead(204);
      response.end();
    });
    const fetch = keepAliveFetch();
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${loopback.origin}/revoke`, form(i));
      expect(response.status).toBe(204);
      expect(response.body).toBeNull();
    }
    expect(loopback.sockets).toHaveLength(1);
  });

  it('gives a typed network error for an https URL to a port nothing listens on', async () => {
    const port = await closedPort();
    const url = `https://127.0.0.1:${port}/token`;
    const error = await failure(keepAliveFetch()(url, form(0)));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(await failure(sendRequest(keepAliveFetch(), tokenRequest(url, 0), undefined))).toMatchObject({
      code: 'network_error',
      retryable: true,
    });
  });

  it('refuses what fetch refuses, before connecting: a bad URL, credentials in it, another scheme, a body on GET, a bad header', async () => {
    const fetch = nodeHttpFetch();
    expect(await failure(fetch('not a url'))).toBeInstanceOf(TypeError);
    expect(await failure(fetch('http://user:pw@127.0.0.1:1/'))).toBeInstanceOf(TypeError);
    expect(await failure(fetch('ftp://127.0.0.1/'))).toBeInstanceOf(TypeError);
    expect(await failure(fetch('http://127.0.0.1:1/', { method: 'GET', body: 'x' }))).toBeInstanceOf(TypeError);
    expect(await failure(fetch('http://127.0.0.1:1/', { method: 'TRACE' }))).toBeInstanceOf(TypeError);
    expect(await failure(fetch('http://127.0.0.1:1/', { headers: { 'x-bad': 'a\r\nb' } }))).toBeInstanceOf(TypeError);
    expect(() => nodeHttpFetch({ timeoutMs: 0 })).toThrow(TypeError);
    expect(() => nodeHttpFetch({ maxSockets: Number.NaN })).toThrow(TypeError);
  });

  it('imports node:http and node:https only when a request is sent, so the server entry loads without them', async () => {
    const result = await build({
      entryPoints: [join(REPO_ROOT, 'src/server/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      packages: 'external',
    });
    const transportImports = Object.values(result.metafile.inputs)
      .flatMap((input) => input.imports)
      .filter((imported) => imported.path === 'node:http' || imported.path === 'node:https');
    expect(transportImports.map((imported) => imported.path).sort()).toEqual(['node:http', 'node:https']);
    expect(transportImports.every((imported) => imported.kind === 'dynamic-import')).toBe(true);
  });

  it('carries a whole code exchange of createOAuthClient with nodeServices() against the loopback test server', async () => {
    const auth = createTestAuthorizationServer({
      clients: [
        {
          clientId: 'web',
          authMethod: 'none',
          redirectUris: ['http://127.0.0.1:5173/callback'],
          grants: ['authorization_code', 'refresh_token'],
          scopes: ['offline_access'],
        },
      ],
    });
    const listening = await auth.listen();
    try {
      const client = createOAuthClient({
        grant: 'authorization_code',
        provider: {
          issuer: listening.issuer,
          authorizationEndpoint: `${listening.url}/authorize`,
          tokenEndpoint: `${listening.url}/token`,
          authorizationResponseIssParameterSupported: true,
        },
        client: { clientId: 'web', redirectUri: 'http://127.0.0.1:5173/callback', scopes: ['offline_access'] },
        services: nodeServices({ navigate: () => undefined }),
      });
      const tokens = await client.handleCallback(await auth.authorize(await client.login()));
      expect(auth.isActive(tokens.accessToken)).toBe(true);
      client.stop();
      expect(auth.tokenRequests('authorization_code')).toHaveLength(1);
    } finally {
      await listening.close();
    }
  });
});
