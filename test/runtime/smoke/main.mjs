/**
 * The smoke program for Node, Deno and Bun: runs the cases named in its
 * argument against the installed package and prints their results as one
 * line of JSON. Argument: JSON `{ runtime, issuer, redisUrl, cases }`.
 */
import { createRequire } from 'node:module';
import { runCases } from './cases.mjs';

const argument = globalThis.Deno ? globalThis.Deno.args[0] : process.argv[2];
const { runtime, issuer, redisUrl, cases } = JSON.parse(argument);

/** Serves a Fetch-API handler on 127.0.0.1 with the runtime's own server. */
async function serve(handler) {
  if (globalThis.Deno) {
    const server = globalThis.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler);
    return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
  }
  if (globalThis.Bun) {
    const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler });
    return { url: `http://127.0.0.1:${server.port}`, close: async () => server.stop(true) };
  }
  // Node's http module speaks IncomingMessage/ServerResponse: the adapter of docs/server.md.
  const { createServer } = await import('node:http');
  const { Readable } = await import('node:stream');
  const server = createServer((req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const init = { method: req.method, headers };
    if (req.method !== 'GET' && req.method !== 'HEAD') Object.assign(init, { body: Readable.toWeb(req), duplex: 'half' });
    handler(new Request(new URL(req.url ?? '/', `http://${req.headers.host}`), init))
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => res.writeHead(500).end());
  });
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((closed) => server.close(closed)),
  };
}

async function redisClient(url) {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  client.on('error', () => {}); // failures reach the commands; the adapter turns them into storage_error
  await client.connect();
  return client;
}

const env = {
  runtime,
  issuer,
  redisUrl,
  serve,
  redisClient,
  requireModule: createRequire(import.meta.url),
};

const results = await runCases(env, cases);
console.log(JSON.stringify(results));
// Keep-alive sockets of the default transport must not hold the process open.
if (globalThis.Deno) globalThis.Deno.exit(0);
else process.exit(0);
