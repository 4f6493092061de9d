/**
 * The smoke program as a Cloudflare Worker (module syntax, no
 * `nodejs_compat`), bundled from the installed package and run by workerd.
 *
 * - `POST /run` with `{ runtime, issuer, cases }` runs the cases in the
 *   worker and answers their results; it also sets up the code-exchange
 *   handler for `issuer`;
 * - `POST /api/oauth/exchange` is that handler, served by workerd to the test
 *   process, which plays the browser (the serving case);
 * - `GET /node-builtins` answers which `node:` modules this worker can load
 *   (none, without `nodejs_compat`: why the Redis case cannot run here) and
 *   whether it has a `require`.
 */
import { createCodeExchangeHandler } from 'oauth-machines/server';
import { webCrypto } from 'oauth-machines';
import { runCases } from './cases.mjs';

/** Outside Node the handler is given fetch and crypto, so no Node default is built (docs/server.md). */
const services = { fetch: globalThis.fetch, crypto: webCrypto() };

let exchange;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response('ready');
    if (url.pathname === '/api/oauth/exchange' && exchange) return exchange(request);
    if (url.pathname === '/node-builtins') {
      const loaded = {};
      for (const name of ['node:net', 'node:crypto']) {
        loaded[name] = await import(/* @vite-ignore */ name).then(
          () => true,
          () => false,
        );
      }
      return Response.json({ ...loaded, require: typeof globalThis.require });
    }
    if (url.pathname !== '/run') return new Response('Not found', { status: 404 });
    const { runtime, issuer, cases } = await request.json();
    exchange = createCodeExchangeHandler({
      provider: { issuer, tokenEndpoint: `${issuer}/token` },
      client: { clientId: 'web', clientSecret: 'web-secret-value' },
      redirectUris: ['http://127.0.0.1:5173/callback'],
      services,
    });
    const results = await runCases({ runtime, issuer, services }, cases);
    return Response.json(results);
  },
};
