/**
 * The smoke cases, written once for every runtime of the matrix and run
 * against the installed package (never src/). Plain JavaScript so that Node,
 * Deno, Bun and workerd run the same file as it is (workerd after bundling).
 *
 * Each case throws on a wrong result; the Node test process then checks what
 * the test authorization server saw. `env` is what the runtime offers:
 *   { issuer, redisUrl?, services?, serve?, redisClient?, requireModule? }
 */
import { createOAuthClient, isOAuthError } from 'oauth-machines';
import { createClientCredentialsCache, createCodeExchangeHandler } from 'oauth-machines/server';
import { redisStorage } from 'oauth-machines/redis';

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';

const ENTRIES = ['oauth-machines', 'oauth-machines/protocol', 'oauth-machines/browser', 'oauth-machines/server', 'oauth-machines/redis',
  'oauth-machines/testing', 'oauth-machines/inspect', 'oauth-machines/providers', 'oauth-machines/legacy'];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The redirect the test server answers an authorization request with: the user approved. */
async function authorize(url) {
  const response = await fetch(url, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  check(response.status === 302 && location !== null, `authorize answered ${response.status}, not a redirect`);
  return location;
}

function base64url(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export const CASES = {
  async 'client credentials with the token cache'(env) {
    const tokens = createClientCredentialsCache({
      provider: { issuer: env.issuer, tokenEndpoint: `${env.issuer}/token` },
      client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] },
      ...(env.services ? { services: env.services } : {}),
    });
    try {
      const all = await Promise.all(Array.from({ length: 20 }, () => tokens.getAccessToken()));
      check(typeof all[0] === 'string' && all[0].length > 0, 'no access token');
      check(all.every((token) => token === all[0]), '20 concurrent calls got different tokens');
      check((await tokens.getAccessToken()) === all[0], 'a later call did not get the cached token');
      const other = await tokens.getAccessToken({ scopes: ['write'] });
      check(other !== all[0], 'another scope set got the same token');
      return { tokenRequests: 2 };
    } finally {
      tokens.clear();
    }
  },

  async 'code + PKCE with refresh and logout'(env) {
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: env.issuer },
      client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
      services: { ...env.services, navigate: () => {} },
    });
    try {
      const authorizationUrl = await client.login();
      check(new URL(authorizationUrl).searchParams.get('code_challenge_method') === 'S256', 'no S256 PKCE in the authorization URL');
      const signedIn = await client.handleCallback(await authorize(authorizationUrl));
      check(typeof signedIn.refreshToken === 'string', 'no refresh token');
      const renewed = await client.refresh();
      check(renewed !== undefined && renewed.accessToken !== signedIn.accessToken, 'refresh kept the old access token');
      check(renewed.refreshToken !== signedIn.refreshToken, 'the refresh token did not rotate');
      check((await client.getAccessToken()) === renewed.accessToken, 'getAccessToken is not the renewed token');
      await client.logout();
      check((await client.getTokens()) === undefined, 'tokens survived logout');
      // A second callback with the spent code state is refused with a typed error, nothing thrown from deep inside.
      const replay = await client.handleCallback(`${REDIRECT_URI}?code=x&state=y`).then(
        () => undefined,
        (error) => error,
      );
      check(isOAuthError(replay), `a stray callback rejected with ${String(replay)}, not an OAuthError`);
      return { authorizationCode: 1, refresh: 1, revoke: 1 };
    } finally {
      client.stop();
    }
  },

  async 'code-exchange handler serving a request'(env) {
    const exchange = createCodeExchangeHandler({
      provider: { issuer: env.issuer, tokenEndpoint: `${env.issuer}/token` },
      client: { clientId: 'web', clientSecret: 'web-secret-value' },
      redirectUris: [REDIRECT_URI],
      ...(env.services ? { services: env.services } : {}),
    });
    // The browser's part: PKCE and the authorization request.
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    const url = new URL(`${env.issuer}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: 'web', redirect_uri: REDIRECT_URI, scope: 'read',
      state: 'smoke', code_challenge: challenge, code_challenge_method: 'S256',
    }).toString();
    const code = new URL(await authorize(url.href)).searchParams.get('code');
    check(code !== null, 'no code in the callback');
    const server = await env.serve(exchange);
    try {
      const response = await fetch(`${server.url}/api/oauth/exchange`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
      });
      const text = await response.text();
      check(response.status === 200, `the handler answered ${response.status}: ${text}`);
      check(!text.includes('web-secret-value'), 'the client secret reached the browser');
      const body = JSON.parse(text);
      check(typeof body.access_token === 'string' && body.token_type === 'Bearer', `not a token response: ${text}`);
      check(response.headers.get('cache-control') === 'no-store', 'the token response may be cached');
      const replay = await fetch(`${server.url}/api/oauth/exchange`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
      });
      const replayBody = await replay.json();
      check(replay.status === 400 && replayBody.error === 'invalid_grant', `a spent code was answered ${replay.status} ${replayBody.error}`);
      return { authorizationCode: 2 };
    } finally {
      await server.close();
    }
  },

  async 'Redis adapter'(env) {
    const redis = await env.redisClient(env.redisUrl);
    try {
      const storage = redisStorage(redis, { prefix: `smoke:${env.runtime}:` });
      const options = {
        provider: { issuer: env.issuer, tokenEndpoint: `${env.issuer}/token` },
        client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['fleet'] },
        services: { ...env.services, storage },
      };
      // Two caches, as two processes of a fleet: the second restores the first one's token.
      const first = createClientCredentialsCache(options);
      const token = await first.getAccessToken();
      first.clear();
      const second = createClientCredentialsCache(options);
      const restored = await second.getAccessToken();
      second.clear();
      check(restored === token, 'the second cache requested its own token instead of restoring the stored one');
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 5 }, () =>
          storage.lock('smoke-lock', async () => {
            inside += 1;
            most = Math.max(most, inside);
            await new Promise((done) => setTimeout(done, 5));
            inside -= 1;
          }),
        ),
      );
      check(most === 1, `${most} holders were inside the lock at once`);
      return { clientCredentials: 1 };
    } finally {
      await redis.close();
    }
  },

  async 'require(esm)'(env) {
    // Every entry loads through require(): none has a top-level await, which require(esm) refuses.
    for (const entry of ENTRIES) {
      const exports = Object.keys(env.requireModule(entry));
      check(exports.length > 0, `require('${entry}') gave no exports`);
    }
    const required = env.requireModule('oauth-machines');
    const imported = await import('oauth-machines');
    check(typeof required.createOAuthClient === 'function', 'require() gave no createOAuthClient');
    // One module instance: no second copy of the classes (the dual-package hazard).
    check(required.OAuthError === imported.OAuthError, 'require() and import() gave two OAuthError classes');
    return {};
  },
};

/** Runs the named cases one after the other; each result carries its time in milliseconds. */
export async function runCases(env, names) {
  const results = [];
  for (const name of names) {
    const started = performance.now();
    try {
      const expected = await CASES[name](env);
      results.push({ name, ok: true, ms: Math.round(performance.now() - started), expected });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}${error.cause ? ` (cause: ${String(error.cause)})` : ''}` : String(error);
      results.push({ name, ok: false, ms: Math.round(performance.now() - started), error: message });
    }
  }
  return results;
}
