import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { keepAliveFetch, nodeCrypto } from '../src/server/nodeServices.js';
import type { FetchLike } from '../src/services/types.js';
import { webCrypto } from '../src/services/webCrypto.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('nodeCrypto', () => {
  it('digests with SHA-256 (FIPS 180-2 test vector "abc")', async () => {
    expect(hex(await nodeCrypto().sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test.prop([fc.uint8Array({ maxLength: 2048 })])('for any input, its SHA-256 equals WebCrypto’s', async (data) => {
    expect(hex(await nodeCrypto().sha256(data))).toBe(hex(await webCrypto().sha256(data)));
  });

  it('gives random bytes of the asked length, different each time, and refuses a bad length', () => {
    const crypto = nodeCrypto();
    const a = crypto.randomBytes(100_000);
    expect(a).toHaveLength(100_000);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(hex(crypto.randomBytes(32))).not.toBe(hex(crypto.randomBytes(32)));
    expect(() => crypto.randomBytes(-1)).toThrow(TypeError);
  });
});

describe('keepAliveFetch', () => {
  const servers: Server[] = [];

  async function start(handler: (request: IncomingMessage, response: ServerResponse) => void) {
    const connections = { count: 0 };
    const server = createServer(handler);
    servers.push(server);
    server.on('connection', () => {
      connections.count += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, connections };
  }

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const tokenEndpoint = (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ access_token: 'at', token_type: 'Bearer', echo: body }));
    });
  };

  it('reuses its connection: 20 sequential requests over node:http open one socket', async () => {
    const { url, connections } = await start(tokenEndpoint);
    const fetch = keepAliveFetch({ timeoutMs: 5_000 });
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `n=${i}` });
      expect(await response.json()).toMatchObject({ access_token: 'at', echo: `n=${i}` });
    }
    // Without keep-alive this would be 20 (undici's pool, the transport before, used 2).
    expect(connections.count).toBe(1);
  });

  it('with options.fetch, wraps that fetch in the deadline instead of using node:http', async () => {
    const { url } = await start(tokenEndpoint);
    const seen: Array<AbortSignal | null | undefined> = [];
    const inner: FetchLike = (input, init) => {
      seen.push(init?.signal);
      return globalThis.fetch(input, init);
    };
    const response = await keepAliveFetch({ fetch: inner, timeoutMs: 5_000 })(`${url}/token`, { method: 'POST', body: 'n=1' });
    expect(await response.json()).toMatchObject({ echo: 'n=1' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AbortSignal); // fetchWithTimeout's deadline signal
    const stalled = await start(() => {
      // Never answers.
    });
    const outcome = await keepAliveFetch({ fetch: inner, timeoutMs: 100 })(`${stalled.url}/token`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(OAuthError.from(outcome).code).toBe('timeout');
  });

  it('rejects with a TimeoutError when the server does not answer in time', async () => {
    const { url } = await start(() => {
      // Never answers.
    });
    const outcome = await keepAliveFetch({ timeoutMs: 100 })(`${url}/token`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((outcome as DOMException).name).toBe('TimeoutError');
    expect(OAuthError.from(outcome).code).toBe('timeout');
  });

  it("passes a caller's abort through", async () => {
    const { url } = await start(() => {
      // Never answers.
    });
    const controller = new AbortController();
    const pending = keepAliveFetch()(`${url}/token`, { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});
