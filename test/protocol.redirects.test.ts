/**
 * No request of the protocol follows a redirect: a 3xx (or a browser's
 * opaque redirect) from any endpoint is `unexpected_redirect`, nothing is
 * sent to the place it points at, and nothing it would have answered is read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deviceAuthorizationRequest } from '../src/protocol/deviceAuthorization.js';
import { discover } from '../src/protocol/discovery.js';
import { readErrorResponse } from '../src/protocol/errorResponse.js';
import { OAuthError } from '../src/errors.js';
import { introspectionRequest } from '../src/protocol/introspection.js';
import {
  exchangeAuthorizationCode,
  fetchUserinfo,
  introspectToken,
  pollDeviceToken,
  refreshTokens,
  requestClientCredentials,
  requestDeviceAuthorization,
  requestPasswordToken,
  revokeToken,
  type OperationContext,
} from '../src/protocol/operations.js';
import { revocationRequest } from '../src/protocol/revocation.js';
import { tokenRequest } from '../src/protocol/tokenRequest.js';
import { readTokenResponse } from '../src/protocol/tokenResponse.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { userinfoRequest } from '../src/protocol/userinfo.js';
import type { FetchLike } from '../src/services/types.js';
import { clock, jsonResponse, servicesWith } from './protocol.fixtures.js';
import { listenRaw, type RawServer } from './support/rawHttp.js';

const HOME = 'https://as.example';
const ELSEWHERE = 'https://attacker.example';

const provider: ProviderConfig = {
  issuer: HOME,
  tokenEndpoint: `${HOME}/token`,
  revocationEndpoint: `${HOME}/revoke`,
  introspectionEndpoint: `${HOME}/introspect`,
  deviceAuthorizationEndpoint: `${HOME}/device`,
  userinfoEndpoint: `${HOME}/userinfo`,
  tokenInfoEndpoint: `${HOME}/token/info`,
};
const client: ClientConfig = {
  clientId: 'app',
  clientSecret: 'the-secret',
  authMethod: 'client_secret_post',
  redirectUri: 'https://app.example/cb',
};

/** What the other origin would answer: a body every reader of the library accepts. */
const FOREIGN = {
  access_token: 'foreign-token',
  token_type: 'Bearer',
  active: true,
  sub: 'attacker',
  device_code: 'dc',
  user_code: 'UC',
  verification_uri: `${ELSEWHERE}/device`,
  expires_in: 600,
  issuer: HOME,
  token_endpoint: `${ELSEWHERE}/token`,
};

interface Call {
  url: string;
  redirect: RequestRedirect | undefined;
  body: unknown;
}

/**
 * A fetch that behaves like the platform's on redirects: the home origin
 * answers every request with a 307 to the other origin; `redirect: 'follow'`
 * (the default) repeats the request there, method and body included (RFC 9110
 * §15.4.8), `'manual'` hands the 307 back, `'error'` fails.
 */
function redirectingFetch(answer: (location: string) => Response = (location) => new Response(null, { status: 307, headers: { location } })) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(String(input));
    calls.push({ url: url.href, redirect: init?.redirect, body: init?.body });
    if (url.origin === ELSEWHERE) return jsonResponse(FOREIGN);
    const location = `${ELSEWHERE}${url.pathname}`;
    if (init?.redirect === 'manual') return answer(location);
    if (init?.redirect === 'error') throw new TypeError('fetch failed: redirect mode is error');
    return fetch(location, init);
  };
  return { fetch, calls };
}

/** What a browser's fetch gives for a redirect under `redirect: 'manual'`: status 0, no headers, no body. */
function opaqueRedirect(): Response {
  const response = new Response(null);
  Object.defineProperties(response, {
    type: { value: 'opaqueredirect' },
    status: { value: 0 },
    ok: { value: false },
  });
  return response;
}

const operations: Array<[string, (context: OperationContext) => Promise<unknown>]> = [
  ['exchangeAuthorizationCode', (context) => exchangeAuthorizationCode({ ...context, code: 'the-code', codeVerifier: 'v'.repeat(43) })],
  ['refreshTokens', (context) => refreshTokens({ ...context, refreshToken: 'rt' })],
  ['requestClientCredentials', (context) => requestClientCredentials(context)],
  ['pollDeviceToken', (context) => pollDeviceToken({ ...context, deviceCode: 'dc' })],
  ['requestPasswordToken', (context) => requestPasswordToken({ ...context, username: 'u', password: 'p' })],
  ['requestDeviceAuthorization', (context) => requestDeviceAuthorization(context)],
  ['revokeToken', (context) => revokeToken({ ...context, token: 'rt' })],
  ['introspectToken', (context) => introspectToken({ ...context, token: 'at' })],
  ['fetchUserinfo', (context) => fetchUserinfo({ ...context, accessToken: 'at' })],
  ['fetchUserinfo at the token-info endpoint', (context) => fetchUserinfo({ ...context, accessToken: 'at', endpoint: `${HOME}/token/info` })],
  ...(['auto', 'oauth', 'openid'] as const).map(
    (kind): [string, (context: OperationContext) => Promise<unknown>] => [
      `discover (${kind})`,
      (context) => discover(HOME, { fetch: context.services.fetch }, { kind }),
    ],
  ),
];

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const outcome = await promise.then(
    () => new Error('resolved, expected a rejection'),
    (thrown: unknown) => thrown,
  );
  if (outcome instanceof OAuthError) return outcome;
  throw outcome;
}

describe.each(operations)('%s', (_name, operation) => {
  it('refuses a 307 to another origin as unexpected_redirect and sends nothing there', async () => {
    const { fetch, calls } = redirectingFetch();
    const error = await rejection(operation({ provider, client, services: servicesWith(fetch) }));
    expect(error).toMatchObject({ code: 'unexpected_redirect', status: 307, retryable: false });
    expect(calls).toHaveLength(1);
    expect(calls.every((call) => new URL(call.url).origin === HOME)).toBe(true);
    expect(calls[0]?.redirect).toBe('manual');
  });

  it("refuses a browser's opaque redirect (status 0) as unexpected_redirect", async () => {
    const { fetch, calls } = redirectingFetch(() => opaqueRedirect());
    const error = await rejection(operation({ provider, client, services: servicesWith(fetch) }));
    expect(error).toMatchObject({ code: 'unexpected_redirect', status: 0, retryable: false });
    expect(calls).toHaveLength(1);
  });
});

describe.each([301, 302, 303, 308])('a %i from the token endpoint', (status) => {
  it('is unexpected_redirect too', async () => {
    const { fetch, calls } = redirectingFetch((location) => new Response('moved', { status, headers: { location } }));
    const error = await rejection(requestClientCredentials({ provider, client, services: servicesWith(fetch) }));
    expect(error).toMatchObject({ code: 'unexpected_redirect', status, retryable: false });
    expect(calls).toHaveLength(1);
  });
});

describe('the builders and readers used without the operations', () => {
  it('build every request with redirect: manual', () => {
    const requests = [
      tokenRequest.authorizationCode(provider, client, { code: 'c', codeVerifier: 'v'.repeat(43) }),
      tokenRequest.refreshToken(provider, client, { refreshToken: 'rt' }),
      tokenRequest.clientCredentials(provider, client),
      tokenRequest.deviceCode(provider, client, { deviceCode: 'dc' }),
      tokenRequest.password(provider, client, { username: 'u', password: 'p' }),
      deviceAuthorizationRequest(provider, client),
      revocationRequest(provider, client, { token: 't' }),
      introspectionRequest(provider, client, { token: 't' }),
      userinfoRequest(provider, 'at'),
    ];
    for (const request of requests) expect(request.init.redirect).toBe('manual');
  });

  it('read a redirect response as unexpected_redirect without reading its body', async () => {
    const response = jsonResponse(FOREIGN, { status: 307, headers: { location: `${ELSEWHERE}/token` } });
    await expect(readTokenResponse(provider, response, clock)).rejects.toMatchObject({ code: 'unexpected_redirect', status: 307 });
    expect(await readErrorResponse(opaqueRedirect())).toMatchObject({ code: 'unexpected_redirect', status: 0 });
  });
});

describe('over a real loopback server with the platform fetch', () => {
  const servers: RawServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('does not follow a 307 from the token endpoint: the code, verifier and secret stay home', async () => {
    const elsewhere = await listenRaw((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(FOREIGN));
    });
    servers.push(elsewhere);
    const home = await listenRaw((request, response) => {
      response.writeHead(307, { location: `${elsewhere.origin}${request.url}` });
      response.end();
    });
    servers.push(home);
    const loopbackProvider: ProviderConfig = { issuer: home.origin, tokenEndpoint: `${home.origin}/token` };
    const services = servicesWith((input, init) => globalThis.fetch(input, init));

    const error = await rejection(
      exchangeAuthorizationCode({ provider: loopbackProvider, client, services, code: 'the-code', codeVerifier: 'v'.repeat(43) }),
    );

    expect(error).toMatchObject({ code: 'unexpected_redirect', status: 307, retryable: false });
    expect(home.requests).toHaveLength(1);
    expect(home.requests[0]?.body).toContain('client_secret=the-secret');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('does not follow a redirect of the metadata document', async () => {
    const elsewhere = await listenRaw((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(FOREIGN));
    });
    servers.push(elsewhere);
    const home = await listenRaw((request, response) => {
      response.writeHead(302, { location: `${elsewhere.origin}${request.url}` });
      response.end();
    });
    servers.push(home);

    const error = await rejection(discover(home.origin, { fetch: (input, init) => globalThis.fetch(input, init) }));

    expect(error).toMatchObject({ code: 'unexpected_redirect', status: 302 });
    expect(home.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });
});
