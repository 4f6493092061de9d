import { describe, expect, it, vi } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { createWorld, REDIRECT_URI, signIn, tokenRequests } from './client.fixtures.js';

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error('expected a rejection');
}

describe('createOAuthClient — authorization code', () => {
  it('login() asks the navigation service to go and resolves with the authorization URL', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const url = await client.login();
    expect(world.navigations).toEqual([url]);
    const params = new URL(url).searchParams;
    expect(url.startsWith(world.provider.authorizationEndpoint ?? '')).toBe(true);
    expect(params.get('client_id')).toBe('spa');
    expect(params.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('state')).toBeTruthy();
    client.stop();
  });

  it('handleCallback() exchanges the code and resolves with the tokens', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const callback = await world.server.authorize(await client.login());
    const tokens = await client.handleCallback(callback);
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    expect(await client.getTokens()).toEqual(tokens);
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(tokenRequests(world, 'authorization_code')).toBe(1);
    client.stop();
  });

  it('rejects a callback whose state does not match with state_mismatch', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const callback = new URL(await world.server.authorize(await client.login()));
    callback.searchParams.set('state', 'forged-state-value');
    const error = await rejection(client.handleCallback(callback.href));
    expect(error.code).toBe('state_mismatch');
    expect(tokenRequests(world, 'authorization_code')).toBe(0);
    client.stop();
  });

  it('a forged callback link does not cancel the user’s login: it is refused, and the genuine callback that follows signs in', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const genuine = await world.server.authorize(await client.login());
    const forged = new URL(genuine);
    forged.searchParams.set('state', 'attacker-state');
    forged.searchParams.set('code', 'attacker-code');
    expect((await rejection(client.handleCallback(forged.href))).code).toBe('state_mismatch');
    // A fresh client on the callback page finds the pending authorization still stored.
    const callbackPage = world.client('authorization_code');
    const tokens = await callbackPage.handleCallback(genuine);
    expect(tokens.accessToken).toBeTruthy();
    expect(tokenRequests(world, 'authorization_code')).toBe(1);
    client.stop();
    callbackPage.stop();
  });

  it('rejects an error callback with the server’s code (access_denied)', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const url = await client.login();
    world.server.nextAuthorization({ deny: true });
    const error = await rejection(client.handleCallback(await world.server.authorize(url)));
    expect(error.code).toBe('access_denied');
    client.stop();
  });

  it('rejects a replayed callback: the pending authorization is single use', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const callback = await world.server.authorize(await client.login());
    await client.handleCallback(callback);
    const error = await rejection(client.handleCallback(callback));
    expect(error.code).toBe('pending_missing');
    expect(tokenRequests(world, 'authorization_code')).toBe(1);
    client.stop();
  });

  it('handles the callback in a second client created on the callback page with the same storage', async () => {
    const world = await createWorld();
    const loginPage = world.client('authorization_code');
    const callback = await world.server.authorize(await loginPage.login());
    loginPage.stop();

    const callbackPage = world.client('authorization_code');
    const tokens = await callbackPage.handleCallback(callback);
    expect(tokens.accessToken).toBeTruthy();
    callbackPage.stop();

    // A third page restores the session that the callback page stored.
    const laterPage = world.client('authorization_code');
    expect(await laterPage.getAccessToken()).toBe(tokens.accessToken);
    laterPage.stop();
  });

  it('getAccessToken() without a session rejects with login_required', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    expect((await rejection(client.getAccessToken())).code).toBe('login_required');
    expect(await client.getTokens()).toBeUndefined();
    client.stop();
  });

  it('getAccessToken() serves a token within the refresh skew while refreshing it, then serves the new one', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const first = await client.getAccessToken();
    world.clock.advance(3_600_000 - 30_000); // inside the default 60 s skew, still valid
    expect(await client.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(client.actor.getSnapshot().hasTag('busy')).toBe(false));
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    expect(await client.getAccessToken()).toBe(second);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });

  it('logout() revokes at the server and clears the session: getAccessToken() then rejects login_required', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    const tokens = await client.getTokens();
    await client.logout();
    const revocations = world.server.log.filter((entry) => entry.endpoint === 'revoke' && entry.status === 200);
    expect(revocations.length).toBeGreaterThanOrEqual(1);
    expect(world.server.isActive(tokens?.accessToken ?? '')).toBe(false);
    expect((await rejection(client.getAccessToken())).code).toBe('login_required');
    client.stop();

    // Storage was cleared: a new client restores nothing.
    const next = world.client('authorization_code');
    expect((await rejection(next.getAccessToken())).code).toBe('login_required');
    next.stop();
  });

  it('subscribe() sees every state of a login and stops after unsubscribe', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const states: string[] = [];
    const unsubscribe = client.subscribe((snapshot) => {
      const value = typeof snapshot.value === 'string' ? snapshot.value : Object.keys(snapshot.value)[0];
      if (states.at(-1) !== value && value !== undefined) states.push(value);
    });
    await signIn(world, client);
    expect(states).toEqual(expect.arrayContaining(['idle', 'redirecting', 'awaitingCallback', 'exchanging', 'authenticated']));
    expect(states.indexOf('redirecting')).toBeLessThan(states.indexOf('exchanging'));
    unsubscribe();
    const seen = states.length;
    await client.logout();
    expect(states.length).toBe(seen);
    client.stop();
  });

  it('userinfo() returns the claims of the signed-in user', async () => {
    const world = await createWorld({ user: { sub: 'alice', claims: { email: 'alice@example.test' } } });
    const client = world.client('authorization_code');
    await signIn(world, client);
    const claims = await client.userinfo();
    expect(claims['sub']).toBe('alice');
    client.stop();
  });

  it('discovers the provider from { issuer } in the chart: the actor exists at once, busy discovering', async () => {
    const world = await createWorld();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: world.server.issuer },
      client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['openid'] },
      services: world.services,
    });
    expect(client.actor.getSnapshot().hasTag('busy')).toBe(true);
    expect(client.actor.getSnapshot().hasTag('ready')).toBe(false);
    expect(() => client.provider).toThrow(/await client.ready/);
    await client.ready;
    expect(client.provider.tokenEndpoint).toBe(world.provider.tokenEndpoint);
    expect(client.actor.getSnapshot().hasTag('ready')).toBe(true);
    await signIn(world, client);
    expect(await client.getTokens()).toBeDefined();
    const discoveries = world.server.log.filter((entry) => entry.endpoint === 'metadata');
    expect(discoveries.length).toBeGreaterThanOrEqual(2); // the world's own discovery, then the client's
    client.stop();
  });

  it('a failed discovery rejects ready and every method with the typed error', async () => {
    const world = await createWorld();
    world.server.fail('metadata', { status: 500, body: { error: 'server_error' } }, { times: 10 });
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: world.server.issuer },
      client: { clientId: 'spa', redirectUri: REDIRECT_URI },
      services: world.services,
    });
    const error = await rejection(client.ready);
    expect(error.code).toBe('server_error');
    expect((await rejection(client.login())).code).toBe('server_error');
    client.stop();
  });
  it('handles the callback in a client that skipped restore (options.restore: false)', async () => {
    const world = await createWorld();
    const loginPage = world.client('authorization_code');
    const callback = await world.server.authorize(await loginPage.login());
    loginPage.stop();
    const callbackPage = world.client('authorization_code', { options: { restore: false } });
    expect((await callbackPage.handleCallback(callback)).accessToken).toBeTruthy();
    callbackPage.stop();
  });

  it('rejects a callback on a page where nothing is pending with pending_missing', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const error = await rejection(client.handleCallback(`${REDIRECT_URI}?code=abc&state=xyz`));
    expect(error.code).toBe('pending_missing');
    expect(tokenRequests(world, 'authorization_code')).toBe(0);
    client.stop();
  });

  it('rejects a callback after the pending authorization’s time to live with pending_expired', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { callbackTtlMs: 60_000 } });
    const callback = await world.server.authorize(await client.login());
    world.clock.advance(61_000);
    expect((await rejection(client.handleCallback(callback))).code).toBe('pending_expired');
    client.stop();
  });

  it('after a failed code exchange getAccessToken() says login_required and never starts a new redirect', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { maxExchangeAttempts: 1 } });
    const callback = await world.server.authorize(await client.login());
    world.server.fail('token', { drop: true });
    expect((await rejection(client.handleCallback(callback))).code).toBe('network_error');
    const error = await rejection(client.getAccessToken());
    expect(error.code).toBe('login_required');
    expect(error.cause).toMatchObject({ code: 'network_error' });
    expect(world.navigations).toHaveLength(1);
    client.stop();
  });

  it('after a refresh that failed transiently getAccessToken() spends the set-aside refresh token again once the backoff is over', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code', { options: { maxRefreshAttempts: 1, retryBaseMs: 1_000 } });
    await signIn(world, client);
    world.clock.advance(3_600_000 + 1_000); // expired: no valid token to serve meanwhile
    world.server.fail('token', { status: 503, body: { error: 'temporarily_unavailable' } });
    expect((await rejection(client.getAccessToken())).code).toBe('temporarily_unavailable');
    // During the backoff a demand gets the failure at once, without a request.
    expect((await rejection(client.getAccessToken())).code).toBe('temporarily_unavailable');
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    world.clock.advance(1_000); // the first backoff is at most retryBaseMs
    const token = await client.getAccessToken();
    expect(token).toBe((await client.getTokens())?.accessToken);
    expect(tokenRequests(world, 'refresh_token')).toBe(2);
    client.stop();
  });

  it('login() while signed in rejects with unsupported_operation; logout() first', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    expect((await rejection(client.login())).code).toBe('unsupported_operation');
    await client.logout();
    expect(await client.login()).toMatch(/^https:/);
    client.stop();
  });

  it('two logout() calls at once both resolve once the machine is idle', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await signIn(world, client);
    await Promise.all([client.logout(), client.logout()]);
    expect(client.actor.getSnapshot().value).toBe('idle');
    client.stop();
  });

  it('passes the inspect observer to the actor', async () => {
    const world = await createWorld();
    const events: string[] = [];
    const client = world.client('authorization_code', { inspect: (event) => void events.push(event.type) });
    await client.login();
    expect(events).toContain('@xstate.actor');
    expect(events).toContain('@xstate.event');
    expect(events).toContain('@xstate.snapshot');
    client.stop();
  });

  it('keeps two clients on one storage apart by storageKey', async () => {
    const world = await createWorld();
    const first = world.client('authorization_code', { options: { storageKey: 'first' } });
    await signIn(world, first);
    const second = world.client('authorization_code', { options: { storageKey: 'second' } });
    expect((await rejection(second.getAccessToken())).code).toBe('login_required');
    const firstAgain = world.client('authorization_code', { options: { storageKey: 'first' } });
    expect(await firstAgain.getAccessToken()).toBe(await first.getAccessToken());
    for (const client of [first, second, firstAgain]) client.stop();
  });

  it('handleCallback() belongs to the code grant', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    expect((await rejection(client.handleCallback(`${REDIRECT_URI}?code=x&state=y`))).code).toBe('unsupported_operation');
    client.stop();
  });
  it('a second login() replaces the pending authorization: the first callback is refused', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const first = await client.login();
    const firstCallback = await world.server.authorize(first);
    const second = await client.login();
    expect(new URL(second).searchParams.get('state')).not.toBe(new URL(first).searchParams.get('state'));
    expect((await rejection(client.handleCallback(firstCallback))).code).toBe('state_mismatch');
    client.stop();
  });

  it('subscribe() before discovery finished still sees the actor from its first state', async () => {
    const world = await createWorld();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: world.server.issuer },
      client: { clientId: 'spa', redirectUri: REDIRECT_URI },
      services: world.services,
    });
    const seen: unknown[] = [];
    client.subscribe((snapshot) => void seen.push(snapshot.value));
    await client.ready;
    expect(seen[0]).toBe('restoring');
    expect(seen.at(-1)).toBe('idle');
    client.stop();
  });
  it('userinfo() without a userinfo endpoint rejects with unsupported_operation and sends nothing', async () => {
    const world = await createWorld();
    const { userinfoEndpoint: _omitted, ...provider } = world.provider;
    const client = world.client('authorization_code', { provider });
    await signIn(world, client);
    const requests = world.server.log.length;
    expect((await rejection(client.userinfo())).code).toBe('unsupported_operation');
    expect(world.server.log.length).toBe(requests);
    client.stop();
  });
});

describe('createOAuthClient — authorization code: what login() carries through the redirect', () => {
  it('hands login({ appState }) back from handleCallback(), also to a fresh client on the callback page', async () => {
    const world = await createWorld();
    const first = world.client('authorization_code');
    const url = await first.login({ appState: { returnAfter: 'checkout', items: 3 } });
    first.stop();
    const callbackPage = world.client('authorization_code');
    const result = await callbackPage.handleCallback(await world.server.authorize(url));
    expect(result.appState).toEqual({ returnAfter: 'checkout', items: 3 });
    expect(result.accessToken).toBeTruthy();
    callbackPage.stop();
  });

  it('refuses an option the grant does not take (returnTo belongs to the browser helper) before anything is sent', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    await expect(client.login({ returnTo: '/' } as never)).rejects.toThrow(/unknown option returnTo/);
    expect(world.navigations).toEqual([]);
    const service = world.client('client_credentials');
    await expect(service.login({ appState: 1 })).rejects.toThrow(/unknown option appState/);
    expect(tokenRequests(world, 'client_credentials')).toBe(0);
    client.stop();
    service.stop();
  });
});

