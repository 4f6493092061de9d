/**
 * The slack() profile against the test server answering as Slack's
 * `oauth.v2.access`: comma-separated `scope` and `user_scope`, a bot token at
 * the top and a user token nested in `authed_user` in one response, errors
 * with HTTP 200 and `ok: false`, and token rotation with a refresh token per
 * token. The nested tokens reach neither a flow recording nor a browser that
 * was not meant to have them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { createFlowRecorder } from '../src/inspect/index.js';
import { slack, slackTokenMapping } from '../src/providers/index.js';
import { createCodeExchangeHandler } from '../src/server/codeExchangeHandler.js';
import type { TestAuthorizationServerOptions } from '../src/testing/types.js';
import { profileWorld, REDIRECT_URI, rejection, type ProfileWorld } from './providers.fixtures.js';

const SECRET = 'slack-client-secret-0123456789';
const BOT_SCOPES = ['chat:write', 'channels:read', 'incoming-webhook'];
const USER_SCOPES = ['search:read'];

function slackServer(options: TestAuthorizationServerOptions = {}): ProfileWorld {
  return profileWorld({
    issuer: 'https://slack.test',
    paths: { authorize: '/oauth/v2/authorize', token: '/api/oauth.v2.access', revoke: null, introspect: null, userinfo: null, device_authorization: null },
    clients: [{ clientId: '2141029472.691202649728', clientSecret: SECRET, authMethod: 'client_secret_basic', redirectUris: [REDIRECT_URI], grants: ['authorization_code', 'refresh_token'], scopes: [...BOT_SCOPES, ...USER_SCOPES] }],
    refreshTokens: 'never',
    ...options,
    quirks: { tokenResponseShape: 'slack', tokenErrorsWithStatus200: true, scopeDelimiter: ',', nonExpiringAccessTokens: true, ...options.quirks },
  });
}

function install(world: ProfileWorld, token: 'bot' | 'user', scopes = BOT_SCOPES) {
  return createOAuthClient({
    grant: 'authorization_code',
    provider: slack({ baseUrl: world.server.issuer, token, userScopes: USER_SCOPES }),
    client: { clientId: '2141029472.691202649728', clientSecret: SECRET, redirectUri: REDIRECT_URI, scopes },
    services: world.services,
  });
}

describe('slack()', () => {
  it('asks for bot scopes in scope and user scopes in user_scope, both comma-separated', async () => {
    const world = slackServer();
    const client = install(world, 'bot');
    const url = new URL(await client.login());
    expect(url.origin + url.pathname).toBe('https://slack.test/oauth/v2/authorize');
    expect(url.searchParams.get('scope')).toBe('chat:write,channels:read,incoming-webhook');
    expect(url.searchParams.get('user_scope')).toBe('search:read');
    client.stop();
  });

  it('token bot: the session holds the bot token as a Bearer token; the user token stays nested in raw', async () => {
    const world = slackServer();
    const client = install(world, 'bot');
    const tokens = await client.handleCallback(await world.server.authorize(await client.login()));
    const user = tokens.raw['authed_user'] as Record<string, unknown>;
    expect(tokens.raw['token_type']).toBe('bot');
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.accessToken).toBe(tokens.raw['access_token']);
    expect(tokens.scope).toEqual(BOT_SCOPES);
    expect(user['token_type']).toBe('user');
    expect(user['access_token']).not.toBe(tokens.accessToken);
    expect(world.server.isActive(String(user['access_token']))).toBe(true);
    client.stop();
  });

  it('token user: the session holds the user token from authed_user, with its own scopes', async () => {
    const world = slackServer();
    const client = install(world, 'user');
    const tokens = await client.handleCallback(await world.server.authorize(await client.login()));
    const user = tokens.raw['authed_user'] as Record<string, unknown>;
    expect(tokens.accessToken).toBe(user['access_token']);
    expect(tokens.accessToken).not.toBe(tokens.raw['access_token']);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.scope).toEqual(USER_SCOPES);
    client.stop();
  });

  it('token rotation: each token has its own refresh token; the user session refreshes its user token', async () => {
    const world = slackServer({ refreshTokens: 'always', accessTokenTtl: 43_200, quirks: { nonExpiringAccessTokens: false } });
    const client = install(world, 'user');
    const first = await client.handleCallback(await world.server.authorize(await client.login()));
    const user = first.raw['authed_user'] as Record<string, unknown>;
    expect(first.refreshToken).toBe(user['refresh_token']);
    expect(first.refreshToken).not.toBe(first.raw['refresh_token']);
    world.clock.advance(43_200_000);
    const renewed = await client.getAccessToken();
    expect(renewed).not.toBe(first.accessToken);
    const refreshed = await client.getTokens();
    expect(refreshed?.raw['token_type']).toBe('user');
    expect(refreshed?.scope).toEqual(USER_SCOPES);
    expect(world.server.isActive(first.refreshToken ?? '')).toBe(false);
    client.stop();
  });

  it('an error answered with 200 and ok: false rejects with Slack’s code', async () => {
    const world = slackServer();
    const client = install(world, 'bot');
    const callback = new URL(await world.server.authorize(await client.login()));
    callback.searchParams.set('code', 'ac_not-a-code');
    const error = await rejection(client.handleCallback(callback.href));
    expect(error.code).toBe('invalid_grant');
    expect(world.server.log.at(-1)?.status).toBe(200);
    client.stop();
  });

  it('a comma inside a scope is refused before anything is sent', async () => {
    const world = slackServer();
    const client = install(world, 'bot', ['chat:write,admin']);
    await expect(client.login()).rejects.toThrow(/delimiter/);
    expect(world.sent).toHaveLength(0);
    client.stop();
  });

  it('the mapping is pure and leaves error bodies as they are', () => {
    const body = { ok: true, access_token: 'xoxb-1', token_type: 'bot', scope: 'a,b', authed_user: { id: 'U1', access_token: 'xoxp-1', token_type: 'user', scope: 'c' } };
    const copy = structuredClone(body);
    expect(slackTokenMapping('user')(body)).toMatchObject({ access_token: 'xoxp-1', token_type: 'Bearer', scope: 'c' });
    expect(slackTokenMapping('bot')(body)).toMatchObject({ access_token: 'xoxb-1', token_type: 'Bearer', scope: 'a b' });
    expect(body).toEqual(copy);
    const error = { ok: false, error: 'invalid_code' };
    expect(slackTokenMapping('user')(error)).toBe(error);
  });

  it('a flow recording holds neither the bot token, the user token, their refresh tokens nor the webhook URL', async () => {
    const world = slackServer({ refreshTokens: 'always', quirks: { nonExpiringAccessTokens: false } });
    const recorder = createFlowRecorder({ includeContext: true });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: slack({ baseUrl: world.server.issuer, token: 'user', userScopes: USER_SCOPES }),
      client: { clientId: '2141029472.691202649728', clientSecret: SECRET, redirectUri: REDIRECT_URI, scopes: BOT_SCOPES },
      services: world.services,
      inspect: recorder,
    });
    const tokens = await client.handleCallback(await world.server.authorize(await client.login()));
    client.stop();
    const user = tokens.raw['authed_user'] as Record<string, string>;
    const webhook = (tokens.raw['incoming_webhook'] as Record<string, string>)['url'] ?? '';
    const secrets = [String(tokens.raw['access_token']), String(tokens.raw['refresh_token']), user['access_token'] ?? '', user['refresh_token'] ?? '', webhook];
    expect(secrets.every((secret) => secret.length > 8)).toBe(true);
    const text = JSON.stringify(recorder) + recorder.format();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });

  it('the code-exchange handler hands the browser the session’s token only: no nested bot or refresh token, no webhook URL', async () => {
    const world = slackServer({ refreshTokens: 'always', quirks: { nonExpiringAccessTokens: false } });
    const handler = createCodeExchangeHandler({
      provider: slack({ baseUrl: world.server.issuer, token: 'user', userScopes: USER_SCOPES }),
      client: { clientId: '2141029472.691202649728', clientSecret: SECRET },
      redirectUris: [REDIRECT_URI],
      includeRefreshToken: false,
      services: { fetch: world.server.fetch, clock: world.server.clock },
    });
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${world.server.issuer}/oauth/v2/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: '2141029472.691202649728',
      redirect_uri: REDIRECT_URI,
      scope: BOT_SCOPES.join(','),
      user_scope: USER_SCOPES.join(','),
      state: 'st-1',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const code = new URL(await world.server.authorize(url)).searchParams.get('code');
    const response = await handler(new Request('https://app.example/api/oauth/exchange', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: REDIRECT_URI }),
    }));
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    const issued = world.server.issuedTokens();
    const userAccess = issued.find((token) => token.kind === 'access_token' && token.scopes.includes('search:read'));
    expect(body['access_token']).toBe(userAccess?.token);
    expect('refresh_token' in body).toBe(false);
    // Every other token the provider issued (the bot's access token, both refresh tokens) stays on the server,
    // and so does the webhook (its URL posts to the channel).
    const others = issued.filter((token) => token.token !== userAccess?.token).map((token) => token.token);
    expect(others).toHaveLength(3);
    expect(others.filter((token) => text.includes(token))).toEqual([]);
    expect('incoming_webhook' in body).toBe(false);
    expect(text).not.toContain('/services/T0TEST/');
    // What describes the install still reaches the browser.
    expect(body['team']).toEqual({ id: 'T0TEST', name: 'Test workspace' });
    expect(body['authed_user']).toMatchObject({ id: 'test-user', token_type: 'user' });
  });
});
