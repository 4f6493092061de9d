/**
 * A bare `node:http` server on 127.0.0.1 whose handler writes the raw
 * response, for the faults the test authorization server cannot play: a
 * redirect to another origin, a body that stalls, a socket reset mid-body.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface RawServer {
  /** The origin, `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every request the server received, body included. */
  requests: RawRequest[];
  /** Closes the server and every connection still open (a stalled response included). */
  close(): Promise<void>;
}

export async function listenRaw(handle: (request: RawRequest, response: ServerResponse) => void): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: RawRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      handle(request, outgoing);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
