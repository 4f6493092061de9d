// The Node `http` adapter of docs/server.md, run for real on 127.0.0.1: the
// handler behind a node:http server, called with global fetch.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodeExchangeHandler, type FetchHandler } from '../src/server/index.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

// ── the adapter, as in docs/server.md ──
function toRequest(message: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = message.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(message) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(new URL(message.url ?? '/', `http://${message.headers.host ?? '127.0.0.1'}`), init);
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

function route(path: string, handler: FetchHandler) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    handler(toRequest(req))
      .then((response) => send(response, res))
      .catch(() => res.writeHead(500).end());
  };
}
// ──

const REDIRECT_URI = 'http://127.0.0.1/callback';
const SECRET = 'node-secret-91';

const authServer = createTestAuthorizationServer({
  clients: [
    {
      clientId: 'web',
      clientSecret: SECRET,
      authMethod: 'client_secret_basic',
      redirectUris: [REDIRECT_URI],
      grants: ['authorization_code'],
      scopes: ['tasks:read'],
    },
  ],
});
const exchange = createCodeExchangeHandler({
  provider: { issuer: 'https://auth.test', tokenEndpoint: 'https://auth.test/token' },
  client: { clientId: 'web', clientSecret: SECRET },
  redirectUris: [REDIRECT_URI],
  services: { fetch: authServer.fetch, clock: authServer.clock },
});

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(route('/api/oauth/exchange', exchange));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the code-exchange handler behind node:http (docs/server.md adapter)', () => {
  it('exchanges a code sent by a browser over HTTP', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const authorizationUrl = new URL('https://auth.test/authorize');
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'web',
      redirect_uri: REDIRECT_URI,
      scope: 'tasks:read',
      state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const code = new URL(await authServer.authorize(authorizationUrl.toString())).searchParams.get('code');
    const response = await fetch(`${base}/api/oauth/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['scope']).toBe('tasks:read');
  });

  it('refuses an oversized body streamed over HTTP with 413 and sends no token request', async () => {
    const before = authServer.tokenRequests().length;
    const response = await fetch(`${base}/api/oauth/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'c', code_verifier: 'a'.repeat(43), redirect_uri: REDIRECT_URI, state: 'x'.repeat(40_000) }),
    });
    expect(response.status).toBe(413);
    expect(authServer.tokenRequests()).toHaveLength(before);
  });

  it('answers GET with 405 over HTTP', async () => {
    const response = await fetch(`${base}/api/oauth/exchange`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});
