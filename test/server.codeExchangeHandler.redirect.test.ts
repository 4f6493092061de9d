/**
 * The code-exchange handler never follows a redirect with the client's
 * credentials: a token endpoint that answers 307 (which a following fetch
 * would repeat, body and all, to wherever `Location` points) ends the
 * exchange with an upstream failure for the browser, after one request to
 * the provider's own origin.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import type { ClientAuthMethod } from '../src/protocol/types.js';
import { createCodeExchangeHandler } from '../src/server/codeExchangeHandler.js';
import type { FetchLike } from '../src/services/types.js';

const REDIRECT_URI = 'https://app.example/callback';
const HANDLER_URL = 'https://app.example/api/oauth/exchange';
const TOKEN_ENDPOINT = 'https://id.example/token';
const FOREIGN = 'https://collector.example';
const SECRET = 'web-secret-never-elsewhere';

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

/**
 * A fetch that treats redirects as the Fetch standard does: with
 * `redirect: 'manual'` the 307 is the answer; otherwise (`'follow'`, the
 * default) it sends the request again to `Location`, keeping method and body
 * (RFC 9110 §15.4.8) and dropping `Authorization` across origins.
 */
function redirectingProvider(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: FetchLike = async (input, init) => {
    // Bounded: the provider redirects once, the foreign origin answers.
    let url = String(input);
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === 'string' ? init.body : '';
    for (let hop = 0; hop < 2; hop += 1) {
      sent.push({ url, headers: new Headers(headers), body });
      if (new URL(url).origin !== new URL(TOKEN_ENDPOINT).origin) {
        return new Response(JSON.stringify({ access_token: 'from-the-collector', token_type: 'Bearer' }), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
      }
      const redirect = new Response(null, { status: 307, headers: { location: `${FOREIGN}/steal` } });
      if (init?.redirect === 'manual') return redirect;
      if (init?.redirect === 'error') throw new TypeError('fetch failed: redirect mode is error');
      const next = new URL(redirect.headers.get('location') ?? '', url);
      if (next.origin !== new URL(url).origin) headers.delete('authorization');
      url = next.toString();
    }
    throw new Error('unreachable: the foreign origin answers the second hop');
  };
  return { fetch, sent };
}

function exchangeRequest(): Request {
  return new Request(HANDLER_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'a-code', code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT_URI }),
  });
}

function handlerWith(fetch: FetchLike, authMethod: ClientAuthMethod) {
  return createCodeExchangeHandler({
    provider: { tokenEndpoint: TOKEN_ENDPOINT },
    client: { clientId: 'web', clientSecret: SECRET, authMethod },
    redirectUris: [REDIRECT_URI],
    services: { fetch },
  });
}

describe('createCodeExchangeHandler and a redirecting token endpoint', () => {
  it.each<ClientAuthMethod>(['client_secret_post', 'client_secret_basic'])(
    'answers a 307 from the token endpoint with a 502 upstream failure, after one request that never went to the foreign origin (%s)',
    async (authMethod) => {
      const { fetch, sent } = redirectingProvider();
      const response = await handlerWith(fetch, authMethod)(exchangeRequest());

      expect(sent).toHaveLength(1);
      expect(sent.map(({ url }) => new URL(url).origin)).not.toContain(FOREIGN);
      expect(response.status).toBe(502);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: 'server_error' });
      expect(text).not.toContain('from-the-collector');
      expect(text).not.toContain(FOREIGN);
    },
  );

  it('answers the protocol\'s unexpected_redirect error with a 502 upstream failure, whatever status it carries', async () => {
    for (const status of [undefined, 307, 400]) {
      const fetch: FetchLike = () =>
        Promise.reject(
          new OAuthError('unexpected_redirect', {
            description: `the token endpoint redirected to ${FOREIGN}/steal`,
            ...(status === undefined ? {} : { status }),
            retryable: false,
          }),
        );
      const response = await handlerWith(fetch, 'client_secret_post')(exchangeRequest());
      expect(response.status).toBe(502);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: 'server_error' });
      expect(text).not.toContain(FOREIGN);
    }
  });

  describe('with the default fetch, against loopback servers', () => {
    const servers: Server[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    });

    async function listen(onRequest: (request: IncomingMessage, body: string) => { status: number; headers: Record<string, string>; body: string }) {
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const answer = onRequest(request, Buffer.concat(chunks).toString('utf8'));
          response.writeHead(answer.status, answer.headers).end(answer.body);
        });
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    it('never sends the token request on to the origin a 307 names', async () => {
      const collected: string[] = [];
      const collector = await listen((_request, body) => {
        collected.push(body);
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token":"stolen","token_type":"Bearer"}' };
      });
      const provider = await listen(() => ({ status: 307, headers: { location: `${collector}/steal` }, body: '' }));
      const handler = createCodeExchangeHandler({
        provider: { tokenEndpoint: `${provider}/token` },
        client: { clientId: 'web', clientSecret: SECRET, authMethod: 'client_secret_post' },
        redirectUris: [REDIRECT_URI],
      });

      const response = await handler(exchangeRequest());

      expect(collected).toEqual([]);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: 'server_error' });
    });
  });
});
