/**
 * Faults that only a real socket can show: a loopback `node:http` server that
 * forwards every request to the test authorization server's handler
 * (`server.fetch`) except the ones a test has armed a fault for, and a second
 * loopback server on another origin that records whatever reaches it (a
 * redirect's target: it must receive nothing).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestFetch } from '../../src/testing/index.js';

/**
 * - `no answer`: the request is read and never answered (a timeout before the headers);
 * - `stall after headers`: the request reaches the server, its headers and the first bytes of its body are sent, the rest never;
 * - `reset mid-body`: the request reaches the server, half its body is sent, then the connection is destroyed;
 * - `redirect`: a 307 or 302 to the same path on the other origin, without asking the server.
 */
export type SocketFault = 'no answer' | 'stall after headers' | 'reset mid-body' | { redirect: 307 | 302 };

/** Whether the server saw (and acted on) a request that met this fault. */
export function socketFaultReachesServer(fault: SocketFault): boolean {
  return fault === 'stall after headers' || fault === 'reset mid-body';
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The other origin: it records every request and answers 200 `{}`. */
export interface RecordingServer {
  readonly url: string;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

export interface FaultyServer {
  /** `http://127.0.0.1:<port>`: the issuer of the test server behind it. */
  readonly url: string;
  /** Where requests go when no fault applies (set once the test server exists: its issuer is this server's URL). */
  forwardTo(fetch: TestFetch): void;
  /** Applies `fault` to every request whose path `matches`, until {@link FaultyServer.disarm}. */
  arm(matches: (path: string) => boolean, fault: SocketFault): void;
  disarm(): void;
  /** Requests a fault was applied to. */
  readonly hits: number;
  /** Responses begun (or owed) but not finished: a stalled body, an unanswered request. */
  readonly open: number;
  close(): Promise<void>;
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The other origin a redirect points to. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    void readBody(incoming).then((body) => {
      received.push({ method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: { ...incoming.headers }, body: body.toString('utf8') });
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end('{}');
    });
  });
  const url = await listen(server);
  return { url, received, close: () => closeServer(server) };
}

async function upstreamResponse(upstream: TestFetch, origin: string, incoming: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined || name === 'host' || name === 'connection' || name === 'content-length') continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = incoming.method ?? 'GET';
  const response = await upstream(`${origin}${incoming.url ?? '/'}`, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
  });
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'transfer-encoding') out[name] = value;
  });
  return { status: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * Starts the faulty server; `other` is the origin redirects point to. Call
 * `forwardTo(server.fetch)` once the test server (with this URL as its issuer) exists.
 */
export async function startFaultyServer(other: RecordingServer): Promise<FaultyServer> {
  let upstream: TestFetch | undefined;
  let armed: { matches: (path: string) => boolean; fault: SocketFault } | undefined;
  let hits = 0;
  let open = 0;
  let origin = '';

  const owe = (outgoing: ServerResponse): void => {
    open += 1;
    outgoing.once('close', () => {
      open -= 1;
    });
  };

  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const body = await readBody(incoming);
    const path = new URL(incoming.url ?? '/', origin).pathname;
    const fault = armed !== undefined && armed.matches(path) ? armed.fault : undefined;
    if (upstream === undefined) throw new Error('faulty server: forwardTo() was not called');
    if (fault === undefined) {
      const answer = await upstreamResponse(upstream, origin, incoming, body);
      outgoing.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      outgoing.end(answer.body);
      return;
    }
    hits += 1;
    if (fault === 'no answer') {
      owe(outgoing);
      return;
    }
    if (typeof fault === 'object') {
      outgoing.writeHead(fault.redirect, { location: `${other.url}${incoming.url ?? '/'}`, 'content-length': '0' });
      outgoing.end();
      return;
    }
    // The server answers: whatever it did (a code redeemed, a refresh token rotated) is done.
    const answer = await upstreamResponse(upstream, origin, incoming, body);
    const half = answer.body.subarray(0, Math.max(1, Math.floor(answer.body.length / 2)));
    if (fault === 'stall after headers') {
      owe(outgoing);
      // Chunked, so nothing tells the client how much is still to come.
      outgoing.writeHead(answer.status, answer.headers);
      outgoing.write(half);
      return;
    }
    outgoing.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
    outgoing.write(half, () => {
      setTimeout(() => incoming.socket.destroy(), 5);
    });
  };

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      if (outgoing.headersSent) {
        incoming.socket.destroy();
        return;
      }
      outgoing.writeHead(500, { 'content-type': 'text/plain' });
      outgoing.end(`faulty server: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  origin = await listen(server);
  return {
    url: origin,
    forwardTo(fetch) {
      upstream = fetch;
    },
    arm(matches, fault) {
      armed = { matches, fault };
    },
    disarm() {
      armed = undefined;
    },
    get hits() {
      return hits;
    },
    get open() {
      return open;
    },
    close: () => closeServer(server),
  };
}
