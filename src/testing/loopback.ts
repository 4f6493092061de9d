/**
 * The loopback face: the same request handler over `node:http` on
 * 127.0.0.1, for real browsers and real `fetch`. The only file of
 * `src/testing` that imports a Node built-in; loaded by `listen()` on demand.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DROPPED, type HandlerResult } from './requestHandler.js';

export type LoopbackHandler = (request: Request, issuer: string, signal: AbortSignal) => Promise<HandlerResult>;

export interface Loopback {
  url: string;
  issuer: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(incoming: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const bytes = chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(String(chunk));
    size += bytes.length;
    if (size > MAX_BODY_BYTES) throw new RangeError('request body too large');
    chunks.push(bytes);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

function toRequest(incoming: IncomingMessage, origin: string, body: Uint8Array<ArrayBuffer>, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = incoming.method ?? 'GET';
  return new Request(`${origin}${incoming.url ?? '/'}`, {
    method,
    headers,
    signal,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}

async function respond(outgoing: ServerResponse, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  outgoing.writeHead(response.status, headers);
  outgoing.end(body);
}

export async function startLoopback(handle: LoopbackHandler, port: number, issuerPath: string): Promise<Loopback> {
  let origin = '';
  const server = createServer((incoming, outgoing) => {
    const controller = new AbortController();
    // The client went away before the answer: abort whatever the handler waits for (an injected delay).
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) controller.abort(new DOMException('the client closed the connection', 'AbortError'));
    });
    void (async () => {
      let result: HandlerResult;
      try {
        const body = await readBody(incoming);
        result = await handle(toRequest(incoming, origin, body, controller.signal), `${origin}${issuerPath}`, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        result = new Response(`test authorization server failure: ${error instanceof Error ? error.message : String(error)}`, {
          status: 500,
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
        });
      }
      if (result === DROPPED) {
        // An injected network failure: the socket closes without a response.
        incoming.socket.destroy();
        return;
      }
      await respond(outgoing, result);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${address.port}`;
  return {
    url: origin,
    issuer: `${origin}${issuerPath}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
