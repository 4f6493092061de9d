/**
 * The timeout of `fetchWithTimeout` covers the whole response, over a real
 * socket with the platform's fetch: a server that sends its headers and then
 * stalls mid-body, or resets the connection mid-body, ends in a typed
 * `OAuthError` from the token response reader, never a hang or a raw error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import { fetchWithTimeout } from '../src/services/fetchWithTimeout.js';
import { clock } from './protocol.fixtures.js';
import { listenRaw, type RawServer } from './support/rawHttp.js';

const PARTIAL_JSON = '{"access_token":"at","token_type":"Bea';

let server: RawServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function readTokensFrom(origin: string): Promise<OAuthError> {
  const fetch = fetchWithTimeout((input, init) => globalThis.fetch(input, init), { timeoutMs: 200 });
  const provider = { tokenEndpoint: `${origin}/token` };
  const outcome = await fetch(provider.tokenEndpoint, { method: 'POST', body: 'grant_type=client_credentials' })
    .then((response) => readTokenResponse(provider, response, clock))
    .then(
      () => new Error('the tokens were read, expected a failure'),
      (thrown: unknown) => thrown,
    );
  if (outcome instanceof OAuthError) return outcome;
  throw outcome;
}

describe('fetchWithTimeout over a loopback socket', () => {
  it('turns a body that stalls after the headers into timeout', async () => {
    server = await listenRaw((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      response.write(PARTIAL_JSON); // …and the rest never comes
    });
    expect(await readTokensFrom(server.origin)).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('turns a connection reset mid-body into network_error', async () => {
    server = await listenRaw((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      response.write(PARTIAL_JSON, () => {
        response.socket?.destroy();
      });
    });
    expect(await readTokensFrom(server.origin)).toMatchObject({ code: 'network_error', retryable: true });
  });

  it('turns an error response whose body stalls into timeout, keeping the status', async () => {
    server = await listenRaw((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/json', 'content-length': '200' });
      response.write('{"error":"temporarily_unava');
    });
    expect(await readTokensFrom(server.origin)).toMatchObject({ code: 'timeout', status: 503, retryable: true });
  });
});
