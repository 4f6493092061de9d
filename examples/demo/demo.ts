/**
 * `npm run demo`: every grant of oauth-machines, end to end, against the test
 * authorization server listening on 127.0.0.1 — nothing leaves the machine.
 *
 * The demo plays the user's browser: its `navigate` service follows the
 * authorization URL over HTTP (`redirect: 'manual'`, reads `Location`) and the
 * callback URL goes to `handleCallback`. Every state a machine passes is
 * printed with the time since the previous one. Tokens are never printed.
 * Exits 0 when every step succeeded, 1 with the typed error otherwise.
 */
import { writeFileSync } from 'node:fs';
import { waitFor } from 'xstate';
import { createOAuthClient, type GrantSnapshot, type OAuthClient, type OAuthGrant } from '../../src/client.js';
import { isOAuthError } from '../../src/errors.js';
import type { TokenSet } from '../../src/protocol/types.js';
import { manualClock } from '../../src/services/index.js';
import { createTestAuthorizationServer } from '../../src/testing/index.js';

const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
const SERVICE_SECRET = 'demo-service-secret-0123456789abcdef';
const started = performance.now();
/** Secret values seen during the run; `OAUTH_DEMO_SECRETS_FILE` lets a test check none was printed. */
const secrets = new Set<string>([SERVICE_SECRET]);

function elapsed(): string {
  return `${(performance.now() - started).toFixed(0).padStart(5)} ms`;
}

function say(line: string): void {
  console.log(`${elapsed()}  ${line}`);
}

function heading(title: string): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 66 - title.length))}`);
}

function redacted(kind: 'at' | 'rt' | 'id' | 'code', value: string): string {
  secrets.add(value);
  return `${kind}_…(redacted, ${value.length} chars)`;
}

function describeTokens(tokens: TokenSet, now: number): string {
  const parts = [`access ${redacted('at', tokens.accessToken)}`];
  if (tokens.refreshToken !== undefined) parts.push(`refresh ${redacted('rt', tokens.refreshToken)}`);
  if (tokens.idToken !== undefined) parts.push(`id ${redacted('id', tokens.idToken)}`);
  parts.push(tokens.expiresAt === undefined ? 'never expires' : `expires in ${Math.round((tokens.expiresAt - now) / 1000)} s`);
  return parts.join(', ');
}

/** Fails the demo with a readable message when an expectation does not hold. */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** Prints every state change of a client's machine, with the time spent in the previous state. */
function traceStates<G extends OAuthGrant>(label: string, client: OAuthClient<G>): void {
  let previous: string | undefined;
  let since = performance.now();
  client.subscribe((snapshot: GrantSnapshot<G>) => {
    const { value } = snapshot;
    const state = typeof value === 'string' ? value : JSON.stringify(value);
    if (state === previous) return;
    const now = performance.now();
    const spent = previous === undefined ? '' : `  (${(now - since).toFixed(1)} ms in ${previous})`;
    say(`  ${label} ▸ ${state}${spent}`);
    previous = state;
    since = now;
  });
}

/** The user's browser: follows the authorization request to the redirect the server answers with. */
async function followAuthorization(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  await response.body?.cancel();
  if (response.status !== 302 || location === null) {
    throw new Error(`the authorization endpoint answered ${response.status} without a redirect`);
  }
  return new URL(location, url).href;
}

function describeCallback(callback: string): string {
  const url = new URL(callback);
  const code = url.searchParams.get('code');
  if (code !== null) url.searchParams.set('code', redacted('code', code));
  return `${url.origin}${url.pathname}?${[...url.searchParams.keys()].join('&')} (code redacted)`;
}

async function main(): Promise<void> {
  const clock = manualClock(Date.now());
  const server = createTestAuthorizationServer({
    clock,
    deviceInterval: 1,
    user: { sub: 'alice', claims: { name: 'Alice Example', email: 'alice@example.test' } },
    clients: [
      {
        clientId: 'demo-spa',
        authMethod: 'none',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'offline_access'],
      },
      {
        clientId: 'demo-service',
        clientSecret: SERVICE_SECRET,
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: ['reports:read'],
      },
      {
        clientId: 'demo-tv',
        authMethod: 'none',
        redirectUris: [],
        grants: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        scopes: ['profile', 'offline_access'],
      },
    ],
  });
  const listening = await server.listen();
  say(`test authorization server listening on ${listening.url}`);
  const clients: Array<{ stop(): void }> = [];

  try {
    // ── Authorization code + PKCE ──────────────────────────────────────────
    heading('authorization code + PKCE (discovery, login, callback)');
    let callback: Promise<string> | undefined;
    const app = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: listening.issuer },
      client: { clientId: 'demo-spa', redirectUri: REDIRECT_URI, scopes: ['openid', 'profile', 'offline_access'] },
      services: {
        clock,
        navigate: (url) => {
          callback = followAuthorization(url);
          // Handled here; the rejection, if any, is awaited below.
          callback.catch(() => {});
        },
      },
    });
    clients.push(app);
    traceStates('code', app);
    await app.ready;
    say(`discovered ${app.provider.issuer ?? '?'}: token endpoint ${new URL(app.provider.tokenEndpoint).pathname}`);

    const authorizationUrl = await app.login();
    const sent = new URL(authorizationUrl);
    say(`login() → browser sent to ${sent.origin}${sent.pathname} with ${[...sent.searchParams.keys()].join(', ')}`);
    check(sent.searchParams.get('code_challenge_method') === 'S256', 'PKCE S256 is used');
    check(callback !== undefined, 'the navigation service was called');
    const callbackUrl = await (callback ?? Promise.reject(new Error('no navigation')));
    say(`browser came back to ${describeCallback(callbackUrl)}`);
    const tokens = await app.handleCallback(callbackUrl);
    say(`handleCallback() → ${describeTokens(tokens, clock.now())}`);

    const claims = await app.userinfo();
    say(`userinfo() → sub ${String(claims['sub'])}, name ${String(claims['name'])}`);
    check(claims['sub'] === 'alice', 'userinfo names the signed-in user');

    heading('refresh (the clock jumps 59 min 30 s ahead)');
    clock.advance(59 * 60_000 + 30_000);
    // Inside the refresh skew but still valid: the callers get the held token at once, and one refresh starts.
    const served = await Promise.all([app.getAccessToken(), app.getAccessToken(), app.getAccessToken()]);
    say(`3 concurrent getAccessToken() → the still-valid token ${redacted('at', tokens.accessToken)} at once, refresh under way`);
    check(served.every((token) => token === tokens.accessToken), 'the still-valid token was served while it is renewed');
    await waitFor(app.actor, (snapshot) => !snapshot.hasTag('busy'));
    const refreshed = await Promise.all([app.getAccessToken(), app.getAccessToken(), app.getAccessToken()]);
    const refreshRequests = server.tokenRequests('refresh_token').length;
    say(`3 concurrent getAccessToken() after it → one new token ${redacted('at', refreshed[0])}, ${refreshRequests} refresh request`);
    check(refreshRequests === 1 && new Set(refreshed).size === 1, 'one refresh served every caller');
    check(refreshed[0] !== tokens.accessToken, 'the access token was renewed');

    heading('logout with revocation (RFC 7009)');
    await app.logout();
    const revocations = server.log.filter((entry) => entry.endpoint === 'revoke');
    say(`logout() → ${revocations.length} revocation request(s): ${revocations.map((entry) => entry.status).join(', ')}`);
    check(revocations.length > 0 && !server.isActive(refreshed[0]), 'the tokens were revoked at the server');
    try {
      await app.getAccessToken();
      check(false, 'getAccessToken() after logout must fail');
    } catch (error) {
      check(isOAuthError(error) && error.code === 'login_required', 'getAccessToken() after logout says login_required');
      say('getAccessToken() after logout → OAuthError login_required (as expected)');
    }

    // ── Client credentials ─────────────────────────────────────────────────
    heading('client credentials');
    const service = createOAuthClient({
      grant: 'client_credentials',
      provider: { issuer: listening.issuer },
      client: { clientId: 'demo-service', clientSecret: SERVICE_SECRET, scopes: ['reports:read'] },
      services: { clock },
    });
    clients.push(service);
    traceStates('service', service);
    const serviceTokens = await service.login();
    say(`login() → ${describeTokens(serviceTokens, clock.now())}`);
    const again = await service.getAccessToken();
    check(again === serviceTokens.accessToken, 'a valid token is served without a new request');
    say(`getAccessToken() → the same token, ${server.tokenRequests('client_credentials').length} token request in all`);

    // ── Device authorization ───────────────────────────────────────────────
    heading('device authorization (RFC 8628)');
    const tv = createOAuthClient({
      grant: 'device_code',
      provider: { issuer: listening.issuer },
      client: { clientId: 'demo-tv', scopes: ['profile', 'offline_access'] },
      services: { clock },
    });
    clients.push(tv);
    traceStates('device', tv);
    const device = await tv.login();
    say(`login() → show the user: go to ${device.verificationUri} and enter ${device.userCode}`);
    say(`(the user approves ${device.userCode} on another device; the clock moves one poll interval)`);
    server.approveDevice(device.userCode);
    // The machine polls on the clock service: the manual clock moves it, in no real time.
    clock.advance(device.interval * 1000);
    const deviceTokens = await device.tokens;
    say(`tokens → ${describeTokens(deviceTokens, clock.now())}`);
    await tv.logout();
    say('logout() → idle');

    for (const token of server.issuedTokens()) secrets.add(token.token);
    heading('done');
    say('every step succeeded');
  } finally {
    for (const client of clients) client.stop();
    await listening.close();
    const secretsFile = process.env['OAUTH_DEMO_SECRETS_FILE'];
    if (secretsFile) {
      for (const token of server.issuedTokens()) secrets.add(token.token);
      writeFileSync(secretsFile, JSON.stringify([...secrets]));
    }
  }
}

main().then(
  () => {
    process.exitCode = 0;
    exitSoon();
  },
  (error: unknown) => {
    if (isOAuthError(error)) {
      console.error(`\ndemo failed: OAuthError ${error.code}${error.description ? `: ${error.description}` : ''}`);
    } else {
      console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exitCode = 1;
    exitSoon();
  },
);

/** Should anything keep the event loop alive after the servers closed, do not hang the terminal. */
function exitSoon(): void {
  setTimeout(() => process.exit(), 2_000).unref();
}
