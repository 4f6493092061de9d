import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBrowserAuth, selectUser, type BrowserAuth, type BrowserAuthOptions, type BrowserEnvironment } from '../src/browser/index.js';
import { isOAuthError } from '../src/errors.js';
import type { ProviderConfig, TokenSet } from '../src/protocol/types.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';
import { fakeHistory, fakeLocation, fakeLocks, fakeStorage, providerOf, spaServer, SPA_CLIENT_ID, SPA_REDIRECT_URI } from './support/browserFakes.js';

const REDIRECT_URI = SPA_REDIRECT_URI;
const CLIENT_ID = SPA_CLIENT_ID;

// ---------------------------------------------------------------------------
// The server and the tabs.

let server: TestAuthorizationServer;
const started: BrowserAuth[] = [];

afterEach(() => {
  for (const auth of started.splice(0)) auth.stop();
});

function startServer(): TestAuthorizationServer {
  server = spaServer();
  return server;
}

interface Tab {
  auth: BrowserAuth;
  location: ReturnType<typeof fakeLocation>;
  history: ReturnType<typeof fakeHistory>;
}

/** One page of the app in a tab: its own location and history, the storage, channel and locks it is given. */
function openTab(environment: BrowserEnvironment, href = 'https://app.test/', extra: Partial<BrowserAuthOptions> = {}): Tab {
  const location = fakeLocation(href);
  const history = fakeHistory(location);
  const auth = createBrowserAuth({
    provider: providerOf(server),
    client: { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
    ...extra,
    services: { fetch: server.fetch, clock: server.clock, ...extra.services },
    environment: { location, history, ...environment },
  });
  started.push(auth);
  return { auth, location, history };
}

/** A browser origin without any tab-sync API, unless the test adds some. */
function isolatedEnvironment(overrides: BrowserEnvironment = {}): BrowserEnvironment {
  return {
    sessionStorage: fakeStorage(),
    localStorage: null,
    locks: null,
    BroadcastChannel: null,
    ...overrides,
  };
}

/** Plays a full login: `login()` on one page, the user at the server, `handleCallback()` on the page the server redirects to. */
async function signIn(environment: BrowserEnvironment): Promise<{ tab: Tab; tokens: TokenSet }> {
  const start = openTab(environment);
  await start.auth.login();
  const authorizationUrl = start.location.assigned.at(-1);
  if (authorizationUrl === undefined) throw new Error('login() did not navigate');
  const callbackUrl = await server.authorize(authorizationUrl);
  start.auth.stop();
  // The browser loads the redirect URI: a new page, same tab, same storage.
  const tab = openTab(environment, callbackUrl);
  const tokens = await tab.auth.handleCallback();
  return { tab, tokens };
}

/** Resolves with the next tokens `auth` reports (bounded: rejects after 2 s). */
function nextTokenChange(auth: BrowserAuth): Promise<TokenSet | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no token change arrived')), 2_000);
    const unsubscribe = auth.onTokenChange((tokens) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(tokens);
    });
  });
}

/** Moves the server clock (which the tabs share) into the refresh window of `tokens`: still valid, so served while renewed. */
function nearExpiry(tokens: TokenSet): void {
  if (tokens.expiresAt === undefined) throw new Error('the test needs expiring tokens');
  server.clock.set(tokens.expiresAt - 10_000);
}

/** Moves the server clock just past the expiry of `tokens`: a caller then waits for the refresh. */
function pastExpiry(tokens: TokenSet): void {
  if (tokens.expiresAt === undefined) throw new Error('the test needs expiring tokens');
  server.clock.set(tokens.expiresAt + 1_000);
}

/** Waits until no request of the tab is under way (a background refresh has ended). */
async function idle(auth: BrowserAuth): Promise<void> {
  await vi.waitFor(() => expect(auth.actor.getSnapshot().hasTag('busy')).toBe(false));
}

let channelCount = 0;
/** A storage key of its own per test, so BroadcastChannels of different tests never meet. */
function uniqueKey(): string {
  channelCount += 1;
  return `oauth-machines-test-${process.pid}-${channelCount}`;
}

// ---------------------------------------------------------------------------

describe('createBrowserAuth in one tab', () => {
  it('login() navigates to the authorization endpoint with PKCE S256 and state', async () => {
    startServer();
    const tab = openTab(isolatedEnvironment());
    const url = await tab.auth.login();
    expect(tab.location.assigned).toEqual([url]);
    const request = new URL(url);
    expect(`${request.origin}${request.pathname}`).toBe(providerOf(server).authorizationEndpoint);
    expect(request.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(request.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it('handleCallback() on the redirect page redeems the code and cleans the address bar', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const { tab, tokens } = await signIn(environment);
    expect(server.isActive(tokens.accessToken)).toBe(true);
    expect(tokens.refreshToken).toBeDefined();
    expect(tab.location.href).toBe(REDIRECT_URI);
    expect(tab.history.state).toEqual({ router: 'kept' });
    expect(await tab.auth.getTokens()).toEqual(tokens);
  });

  it('keeps the other query parameters and the hash when it cleans the address bar', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const start = openTab(environment);
    await start.auth.login();
    const callbackUrl = new URL(await server.authorize(start.location.assigned[0] ?? ''));
    start.auth.stop();
    callbackUrl.searchParams.append('utm_source', 'mail');
    callbackUrl.hash = 'section-2';
    const tab = openTab(environment, callbackUrl.href);
    await tab.auth.handleCallback();
    expect(tab.location.href).toBe(`${REDIRECT_URI}?utm_source=mail#section-2`);
  });

  it('rejects a forged callback with state_mismatch, spends nothing, and still cleans the address bar', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const start = openTab(environment);
    await start.auth.login();
    start.auth.stop();
    const forged = `${REDIRECT_URI}?code=stolen-code&state=not-the-state&iss=${encodeURIComponent(server.issuer)}`;
    const tab = openTab(environment, forged);
    const failure = await tab.auth.handleCallback().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isOAuthError(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'state_mismatch' });
    expect(server.tokenRequests()).toHaveLength(0);
    expect(tab.location.href).toBe(REDIRECT_URI);
  });

  it('getAccessToken() answers the current token, and near expiry keeps answering it while it refreshes it once', async () => {
    startServer();
    const { tab, tokens } = await signIn(isolatedEnvironment());
    expect(await tab.auth.getAccessToken()).toBe(tokens.accessToken);
    expect(server.tokenRequests('refresh_token')).toHaveLength(0);
    nearExpiry(tokens);
    const held = await Promise.all([tab.auth.getAccessToken(), tab.auth.getAccessToken()]);
    expect(held).toEqual([tokens.accessToken, tokens.accessToken]);
    await idle(tab.auth);
    const [first, second] = await Promise.all([tab.auth.getAccessToken(), tab.auth.getAccessToken()]);
    expect(first).toBe(second);
    expect(first).not.toBe(tokens.accessToken);
    expect(server.isActive(first ?? '')).toBe(true);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
  });

  it('onTokenChange() reports the login, the refresh and the logout, and stops after unsubscribe', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const start = openTab(environment);
    await start.auth.login();
    const callbackUrl = await server.authorize(start.location.assigned[0] ?? '');
    start.auth.stop();
    const tab = openTab(environment, callbackUrl);
    const seen: (string | undefined)[] = [];
    const unsubscribe = tab.auth.onTokenChange((tokens) => seen.push(tokens?.accessToken));
    const tokens = await tab.auth.handleCallback();
    nearExpiry(tokens);
    expect(await tab.auth.getAccessToken()).toBe(tokens.accessToken); // starts the refresh
    await idle(tab.auth);
    const refreshed = await tab.auth.getAccessToken();
    expect(refreshed).not.toBe(tokens.accessToken);
    await tab.auth.logout();
    expect(seen).toEqual([tokens.accessToken, refreshed, undefined]);
    unsubscribe();
    await tab.auth.login();
    const again = await server.authorize(tab.location.assigned.at(-1) ?? '');
    await tab.auth.handleCallback(again);
    expect(seen).toHaveLength(3);
  });

  it('logout() revokes at the server, forgets the tokens and leaves nothing in storage', async () => {
    startServer();
    const sessionStorage = fakeStorage();
    const { tab, tokens } = await signIn(isolatedEnvironment({ sessionStorage }));
    expect(sessionStorage.items.size).toBeGreaterThan(0);
    await tab.auth.logout();
    expect(await tab.auth.getTokens()).toBeUndefined();
    expect(server.isActive(tokens.refreshToken ?? '')).toBe(false);
    expect([...sessionStorage.items.keys()]).toEqual([]);
    await expect(tab.auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
  });

  it('restores the session a previous page of the tab stored, without a request', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const { tokens } = await signIn(environment);
    const requests = server.log.length;
    const reloaded = openTab(environment);
    expect(await reloaded.auth.getAccessToken()).toBe(tokens.accessToken);
    expect(server.log).toHaveLength(requests);
  });

  it('shares one exchange between two handleCallback() calls for the same URL', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const start = openTab(environment);
    await start.auth.login();
    const callbackUrl = await server.authorize(start.location.assigned[0] ?? '');
    start.auth.stop();
    const tab = openTab(environment, callbackUrl);
    const [first, second] = await Promise.all([tab.auth.handleCallback(), tab.auth.handleCallback(callbackUrl)]);
    expect(first).toEqual(second);
    expect(server.tokenRequests('authorization_code')).toHaveLength(1);
  });

  it('stores in localStorage with storage: "local", and in memory only with storage: "memory"', async () => {
    startServer();
    const localStorage = fakeStorage();
    const sessionStorage = fakeStorage();
    await signIn(isolatedEnvironment({ localStorage, sessionStorage }));
    // The default is sessionStorage: the session, and the claim that its code was sent once.
    expect([...sessionStorage.items.keys()].sort()).toEqual(['oauth-machines', 'oauth-machines:claims']);
    expect(localStorage.items.size).toBe(0);

    const local = openTab(isolatedEnvironment({ localStorage, sessionStorage: fakeStorage() }), 'https://app.test/', { services: { storage: 'local' } });
    await local.auth.login();
    expect(localStorage.items.size).toBe(1);

    const untouched = fakeStorage();
    const memory = openTab(isolatedEnvironment({ localStorage: untouched, sessionStorage: untouched }), 'https://app.test/', { services: { storage: 'memory' } });
    await memory.auth.login();
    const callbackUrl = await server.authorize(memory.location.assigned[0] ?? '');
    await memory.auth.handleCallback(callbackUrl);
    expect(await memory.auth.getTokens()).toBeDefined();
    expect(untouched.items.size).toBe(0);
  });
});

describe('createBrowserAuth: who is signed in', () => {
  it('getUser() and selectUser() give the ID token\'s claims, one object for one token, and nothing once signed out', async () => {
    startServer();
    const { tab } = await signIn(isolatedEnvironment());
    const user = await tab.auth.getUser();
    expect(user).toMatchObject({ sub: 'test-user', iss: server.issuer });
    expect(selectUser(tab.auth.actor.getSnapshot())).toBe(selectUser(tab.auth.actor.getSnapshot()));
    expect(selectUser(tab.auth.actor.getSnapshot())).toEqual(user);
    await tab.auth.logout();
    expect(await tab.auth.getUser()).toBeUndefined();
    expect(selectUser(tab.auth.actor.getSnapshot())).toBeUndefined();
  });

  it('has no user without the openid scope', async () => {
    startServer();
    const tab = openTab(isolatedEnvironment(), 'https://app.test/', { client: { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: ['offline_access'] } });
    await tab.auth.login();
    await tab.auth.handleCallback(await server.authorize(tab.location.assigned[0] ?? ''));
    expect((await tab.auth.getTokens())?.idToken).toBeUndefined();
    expect(await tab.auth.getUser()).toBeUndefined();
  });

  it('onUserChange() reports a logout, not a refresh that names the same user', async () => {
    startServer();
    const { tab, tokens } = await signIn(isolatedEnvironment());
    const seen: Array<string | undefined> = [];
    tab.auth.onUserChange((user) => seen.push(user?.sub));
    pastExpiry(tokens);
    const refreshed = await tab.auth.getTokens().then(() => tab.auth.getAccessToken());
    expect(refreshed).not.toBe(tokens.accessToken);
    expect((await tab.auth.getTokens())?.idToken).not.toBe(tokens.idToken);
    expect(seen).toEqual([]);
    await tab.auth.logout();
    expect(seen).toEqual([undefined]);
  });

  it('userinfo() asks the userinfo endpoint with the access token, and is unsupported without one', async () => {
    startServer();
    const withUserinfo = { provider: { ...providerOf(server), userinfoEndpoint: String(server.metadata()['userinfo_endpoint']) } };
    const tab = openTab(isolatedEnvironment(), 'https://app.test/', withUserinfo);
    await tab.auth.login();
    await tab.auth.handleCallback(await server.authorize(tab.location.assigned[0] ?? ''));
    await expect(tab.auth.userinfo()).resolves.toMatchObject({ sub: 'test-user' });
    const bare = openTab(isolatedEnvironment());
    await expect(bare.auth.userinfo()).rejects.toMatchObject({ code: 'unsupported_operation' });
  });
});

describe('createBrowserAuth carries the app\'s place through the redirect', () => {
  it('login({ appState, returnTo }) comes back from handleCallback(), and the address bar shows returnTo', async () => {
    startServer();
    const environment = isolatedEnvironment();
    const start = openTab(environment, 'https://app.test/orders/42');
    await start.auth.login({ appState: { cart: ['a', 'b'], step: 2 }, returnTo: '/orders/42?state=CA#top' });
    const callbackUrl = await server.authorize(start.location.assigned[0] ?? '');
    start.auth.stop();
    const tab = openTab(environment, callbackUrl);
    const result = await tab.auth.handleCallback();
    expect(result.appState).toEqual({ cart: ['a', 'b'], step: 2 });
    expect(result.returnTo).toBe('/orders/42?state=CA#top');
    expect(result.accessToken).toBe((await tab.auth.getTokens())?.accessToken);
    // The returnTo's own `state` parameter is the app's: kept, not taken for the callback's.
    expect(tab.location.href).toBe('https://app.test/orders/42?state=CA#top');
  });

  it('without returnTo, the callback page stays, cleaned, and nothing is carried', async () => {
    startServer();
    const { tab, tokens } = await signIn(isolatedEnvironment());
    expect(tab.location.href).toBe('https://app.test/callback');
    expect('appState' in tokens).toBe(false);
  });

  it.each([
    ['another origin', { returnTo: 'https://evil.example/steal' }, /origin/],
    ['a protocol-relative URL', { returnTo: '//evil.example/steal' }, /origin/],
    ['appState that is not JSON', { appState: () => 1 }, /JSON/],
    ['appState over 16 KiB', { appState: 'x'.repeat(17_000) }, /at most/],
    ['an unknown option', { returnto: '/' }, /unknown option returnto/],
  ])('login() refuses %s with a TypeError, before anything is stored or navigated', async (_, options, message) => {
    startServer();
    const environment = isolatedEnvironment();
    const tab = openTab(environment);
    await expect(tab.auth.login(options as never)).rejects.toThrow(message);
    await expect(tab.auth.login(options as never)).rejects.toBeInstanceOf(TypeError);
    expect(tab.location.assigned).toEqual([]);
    expect(server.log.filter((entry) => entry.endpoint === 'authorize')).toEqual([]);
  });
});

describe('createBrowserAuth ends the session at the provider (RP-initiated logout)', () => {
  const SIGNED_OUT = 'https://app.test/signed-out';

  function startServerWithEndSession(): void {
    server = createTestAuthorizationServer({
      paths: { end_session: '/logout' },
      clients: [
        {
          clientId: CLIENT_ID,
          authMethod: 'none',
          redirectUris: [REDIRECT_URI],
          postLogoutRedirectUris: [SIGNED_OUT],
          grants: ['authorization_code', 'refresh_token'],
          scopes: ['openid', 'profile', 'offline_access'],
        },
      ],
    });
  }

  it('logout({ endSession }) revokes, goes to end_session with id_token_hint and state, and the return is checked and cleaned', async () => {
    startServerWithEndSession();
    const environment = isolatedEnvironment();
    const provider = { ...providerOf(server), endSessionEndpoint: `${server.issuer}/logout` };
    const start = openTab(environment, 'https://app.test/', { provider });
    await start.auth.login();
    const callbackUrl = await server.authorize(start.location.assigned[0] ?? '');
    start.auth.stop();
    const tab = openTab(environment, callbackUrl, { provider });
    const tokens = await tab.auth.handleCallback();

    const result = await tab.auth.logout({ endSession: true, postLogoutRedirectUri: SIGNED_OUT });
    expect(result.revoked).toEqual(['refresh_token', 'access_token']);
    const endSessionUrl = tab.location.assigned.at(-1) ?? '';
    expect(result.endSessionUrl).toBe(endSessionUrl);
    expect(new URL(endSessionUrl).searchParams.get('id_token_hint')).toBe(tokens.idToken);
    // The provider ends its session and sends the browser back with the state.
    const answer = await server.fetch(endSessionUrl, { redirect: 'manual' });
    const back = answer.headers.get('location') ?? '';
    expect(back.startsWith(`${SIGNED_OUT}?state=`)).toBe(true);
    tab.auth.stop();

    // The post-logout page: a forged return is refused (the real one still works), the real one is taken once.
    const forged = openTab(environment, `${SIGNED_OUT}?state=forged`, { provider });
    await expect(forged.auth.handleLogoutCallback()).rejects.toMatchObject({ code: 'state_mismatch' });
    expect(forged.location.href).toBe(SIGNED_OUT);
    const page = openTab(environment, back, { provider });
    await expect(page.auth.handleLogoutCallback()).resolves.toBeUndefined();
    expect(page.location.href).toBe(SIGNED_OUT);
    await expect(page.auth.handleLogoutCallback(back)).rejects.toMatchObject({ code: 'pending_missing' });
    expect(await page.auth.getTokens()).toBeUndefined();
  });

  it('refuses logout({ endSession }) without an end-session endpoint before revoking anything, and bad options with a TypeError', async () => {
    startServerWithEndSession();
    const { tab } = await signIn(isolatedEnvironment());
    await expect(tab.auth.logout({ endSession: true })).rejects.toMatchObject({ code: 'unsupported_operation' });
    expect(server.log.filter((entry) => entry.endpoint === 'revoke')).toEqual([]);
    await expect(tab.auth.logout({ postLogoutRedirectUri: SIGNED_OUT })).rejects.toThrow(TypeError);
    await expect(tab.auth.logout({ endSession: true, postLogoutRedirectUri: '/relative' })).rejects.toThrow(TypeError);
    await expect(tab.auth.logout({ endsession: true } as never)).rejects.toThrow(/unknown option endsession/);
    expect(await tab.auth.getTokens()).toBeDefined();
  });
});

describe('createBrowserAuth: login in a popup window', () => {
  /** A window the popup stands for, and the page's message events, both driven by the test. */
  function popupWorld() {
    const listeners = new Set<(event: MessageEvent) => void>();
    const popup = { closed: false, location: { href: 'about:blank' }, close() { this.closed = true; } };
    const messages = {
      addEventListener: (_type: 'message', listener: (event: MessageEvent) => void) => void listeners.add(listener),
      removeEventListener: (_type: 'message', listener: (event: MessageEvent) => void) => void listeners.delete(listener),
    };
    const post = (data: unknown, origin: string, source: unknown) => {
      for (const listener of [...listeners]) listener({ data, origin, source } as MessageEvent);
    };
    return { popup, messages, post, listeners };
  }

  it('redeems only the callback its own window posts from this origin; others are ignored', async () => {
    startServer();
    const world = popupWorld();
    const tab = openTab(isolatedEnvironment({ open: () => world.popup, messages: world.messages }));
    const tokens = tab.auth.loginPopup();
    await vi.waitFor(() => expect(world.popup.location.href).toContain('/authorize'));
    const callbackUrl = await server.authorize(world.popup.location.href);
    // A message from another window, another origin, or of another shape changes nothing.
    world.post({ type: 'oauth-machines:callback', url: callbackUrl }, 'https://app.test', {});
    world.post({ type: 'oauth-machines:callback', url: callbackUrl }, 'https://evil.example', world.popup);
    world.post({ type: 'something-else', url: callbackUrl }, 'https://app.test', world.popup);
    expect(server.tokenRequests('authorization_code')).toHaveLength(0);
    world.post({ type: 'oauth-machines:callback', url: callbackUrl }, 'https://app.test', world.popup);
    await expect(tokens).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(world.popup.closed).toBe(true);
    expect(world.listeners.size).toBe(0);
    expect(tab.location.assigned).toEqual([]);
  });

  it('a window closed before the provider answered ends the login with popup_closed, found on the clock', async () => {
    startServer();
    const world = popupWorld();
    const tab = openTab(isolatedEnvironment({ open: () => world.popup, messages: world.messages }));
    const tokens = tab.auth.loginPopup();
    await vi.waitFor(() => expect(world.popup.location.href).toContain('/authorize'));
    world.popup.closed = true;
    server.clock.advance(500);
    await expect(tokens).rejects.toMatchObject({ code: 'popup_closed' });
    await vi.waitFor(() => expect(tab.auth.actor.getSnapshot().hasTag('awaitingCallback')).toBe(false));
    expect(world.listeners.size).toBe(0);
  });

  it('popup_blocked when the browser opens no window, before anything is stored; handlePopupCallback() needs an opener', async () => {
    startServer();
    const environment = isolatedEnvironment({ open: () => null });
    const tab = openTab(environment);
    await expect(tab.auth.loginPopup()).rejects.toMatchObject({ code: 'popup_blocked' });
    expect(tab.auth.actor.getSnapshot().hasTag('awaitingCallback')).toBe(false);
    await expect(tab.auth.handlePopupCallback('https://app.test/callback?code=c&state=s')).rejects.toThrow(TypeError);
    const posted: Array<{ message: unknown; origin: string }> = [];
    let closed = false;
    const inPopup = openTab(isolatedEnvironment({ opener: { postMessage: (message, origin) => void posted.push({ message, origin }) }, close: () => void (closed = true) }), 'https://app.test/callback?code=c&state=s');
    await inPopup.auth.handlePopupCallback();
    expect(posted).toEqual([{ message: { type: 'oauth-machines:callback', url: 'https://app.test/callback?code=c&state=s' }, origin: 'https://app.test' }]);
    expect(closed).toBe(true);
  });
});

describe('createBrowserAuth refuses client secrets', () => {
  const base = {
    provider: { issuer: 'https://id.example', tokenEndpoint: 'https://id.example/token', authorizationEndpoint: 'https://id.example/authorize' },
    client: { clientId: 'spa', redirectUri: REDIRECT_URI },
  };

  it.each([
    ['clientSecret', { clientSecret: 's3cret' }],
    ['client_secret', { client_secret: 's3cret' }],
    ['authMethod client_secret_post', { authMethod: 'client_secret_post' }],
    ['authMethod client_secret_basic', { authMethod: 'client_secret_basic' }],
  ])('throws a TypeError for client.%s, naming RFC 9700', (_name, extra) => {
    const options = { ...base, client: { ...base.client, ...extra } } as unknown as BrowserAuthOptions;
    expect(() => createBrowserAuth(options)).toThrow(TypeError);
    expect(() => createBrowserAuth(options)).toThrow(/RFC 9700 §2\.1/);
  });

  it('accepts authMethod none, and a clientSecret key whose value is undefined', () => {
    const environment = isolatedEnvironment({ location: fakeLocation('https://app.test/') });
    const auth = createBrowserAuth({ ...base, client: { ...base.client, authMethod: 'none' }, environment });
    started.push(auth);
    const spread = createBrowserAuth({ ...base, client: { ...base.client, ...({ clientSecret: undefined } as object) }, environment });
    started.push(spread);
    expect(auth.ready).toBeInstanceOf(Promise);
  });

  it('refuses the old flat keys and unknown ones, naming where they went', () => {
    expect(() => createBrowserAuth({ ...base, ...({ storage: 'local' } as object) })).toThrow(
      'createBrowserAuth: unknown option storage; did you mean services.storage?',
    );
    expect(() => createBrowserAuth({ ...base, ...({ redirectUri: REDIRECT_URI } as object) })).toThrow(
      'createBrowserAuth: unknown option redirectUri; did you mean client.redirectUri?',
    );
    expect(() => createBrowserAuth({ ...base, provider: { tokenEndpoint: 'https://id.example/token' } })).toThrow(
      /needs provider.authorizationEndpoint/,
    );
  });

  it('keeps handleRedirectCallback and getTokenSet as deprecated aliases of handleCallback and getTokens', async () => {
    const environment = isolatedEnvironment({ location: fakeLocation('https://app.test/') });
    const auth = createBrowserAuth({ ...base, environment });
    started.push(auth);
    expect(await auth.getTokenSet()).toBe(await auth.getTokens());
    await expect(auth.handleRedirectCallback('https://app.test/callback?code=c&state=s')).rejects.toMatchObject({ name: 'OAuthError' });
  });

  it('throws a TypeError for a storage option it does not know', () => {
    expect(() => createBrowserAuth({ ...base, services: { storage: 'cookies' as unknown as 'local' } })).toThrow(TypeError);
  });
});

describe('createBrowserAuth without the tab-sync APIs', () => {
  it('logs in, refreshes and logs out with no BroadcastChannel, no Web Locks and no Web Storage', async () => {
    startServer();
    const environment: BrowserEnvironment = { sessionStorage: null, localStorage: null, locks: null, BroadcastChannel: null };
    const tab = openTab(environment);
    await tab.auth.login();
    const callbackUrl = await server.authorize(tab.location.assigned[0] ?? '');
    // Without storage the pending login lives in this page only: the callback is handled by the same instance.
    const tokens = await tab.auth.handleCallback(callbackUrl);
    pastExpiry(tokens);
    expect(await tab.auth.getAccessToken()).not.toBe(tokens.accessToken);
    await tab.auth.logout();
    expect(await tab.auth.getTokens()).toBeUndefined();
  });

  it('uses memory when the Web Storage it is given throws on every write, as blocked site data makes it', async () => {
    startServer();
    const blocked = {
      getItem: () => {
        throw new DOMException('blocked', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      },
      removeItem: () => {
        throw new DOMException('blocked', 'SecurityError');
      },
    };
    const tab = openTab(isolatedEnvironment({ sessionStorage: blocked }));
    await tab.auth.login();
    const tokens = await tab.auth.handleCallback(await server.authorize(tab.location.assigned[0] ?? ''));
    expect(await tab.auth.getAccessToken()).toBe(tokens.accessToken);
    expect(tab.auth.actor.getSnapshot().context.error).toBeUndefined();
  });
});

describe('createBrowserAuth keeps the tabs of an origin in step', () => {
  function sharedOrigin(storage: 'shared' | 'per-tab') {
    const localStorage = fakeStorage();
    const locks = fakeLocks();
    const storageKey = uniqueKey();
    const environment = (sessionStorage = fakeStorage()): BrowserEnvironment => ({
      localStorage,
      sessionStorage,
      locks,
      BroadcastChannel,
    });
    const options: Partial<BrowserAuthOptions> = { options: { storageKey }, services: { storage: storage === 'shared' ? 'local' : 'session' } };
    return { localStorage, locks, storageKey, environment, options };
  }

  it('two tabs on localStorage: a refresh in one gives the other the new token, with one refresh request', async () => {
    startServer();
    const origin = sharedOrigin('shared');
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    await first.auth.login();
    const callbackUrl = await server.authorize(first.location.assigned[0] ?? '');
    const tokens = await first.auth.handleCallback(callbackUrl);
    const second = openTab(origin.environment(), 'https://app.test/', origin.options);
    expect(await second.auth.getAccessToken()).toBe(tokens.accessToken);

    pastExpiry(tokens); // the first tab's caller waits for the refresh
    const changed = nextTokenChange(second.auth);
    const refreshed = await first.auth.getAccessToken();
    expect((await changed)?.accessToken).toBe(refreshed);
    expect(await second.auth.getAccessToken()).toBe(refreshed);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
  });

  it('two tabs on localStorage asking at the same moment: one refresh request, one new token for both', async () => {
    startServer();
    const origin = sharedOrigin('shared');
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    await first.auth.login();
    const tokens = await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    const second = openTab(origin.environment(), 'https://app.test/', origin.options);
    await second.auth.ready;

    pastExpiry(tokens); // both callers wait for the refresh
    const [a, b] = await Promise.all([first.auth.getAccessToken(), second.auth.getAccessToken()]);
    expect(a).toBe(b);
    expect(a).not.toBe(tokens.accessToken);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(server.tokenRequests('refresh_token')[0]?.error).toBeUndefined();
    expect(origin.locks.granted.length).toBeGreaterThanOrEqual(2);
  });

  it('two tabs, each with its own sessionStorage: a login reaches the other, and a refresh is made once', async () => {
    startServer();
    const origin = sharedOrigin('per-tab');
    const secondStorage = fakeStorage();
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    const second = openTab(origin.environment(secondStorage), 'https://app.test/', origin.options);
    await second.auth.ready;
    const seen = nextTokenChange(second.auth);
    await first.auth.login();
    const tokens = await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    expect((await seen)?.accessToken).toBe(tokens.accessToken);

    pastExpiry(tokens); // both callers wait for the refresh
    const [a, b] = await Promise.all([first.auth.getAccessToken(), second.auth.getAccessToken()]);
    expect(a).toBe(b);
    expect(a).not.toBe(tokens.accessToken);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(origin.localStorage.items.size).toBe(0);
    // The second tab's own storage holds the new session too: a reload there needs no request.
    second.auth.stop();
    const requests = server.log.length;
    const reloaded = openTab(origin.environment(secondStorage), 'https://app.test/', origin.options);
    expect(await reloaded.auth.getAccessToken()).toBe(a);
    expect(server.log).toHaveLength(requests);
  });

  it('a new tab with its own sessionStorage joins the session the open tabs hold', async () => {
    startServer();
    const origin = sharedOrigin('per-tab');
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    await first.auth.login();
    const tokens = await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    const laterStorage = fakeStorage();
    const later = openTab(origin.environment(laterStorage), 'https://app.test/', origin.options);
    const joined = nextTokenChange(later.auth);
    expect((await joined)?.accessToken).toBe(tokens.accessToken);
    expect(laterStorage.items.size).toBe(1);
    expect(server.log.filter((entry) => entry.endpoint === 'token')).toHaveLength(1);
  });

  it('a tab reloaded from a stale sessionStorage copy adopts the newer session instead of spending the rotated refresh token', async () => {
    startServer();
    const origin = sharedOrigin('per-tab');
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    await first.auth.login();
    const tokens = await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    // What a tab the browser discarded kept: the session as it was before the refresh below.
    const stale = fakeStorage();
    const copy = openTab(origin.environment(stale), 'https://app.test/', origin.options);
    await nextTokenChange(copy.auth);
    copy.auth.stop();
    const staleItems = new Map(stale.items);

    pastExpiry(tokens); // the open tab's caller waits for the refresh
    const refreshed = await first.auth.getAccessToken();
    expect(server.isActive(tokens.refreshToken ?? '')).toBe(false);
    const firstSaw: (string | undefined)[] = [];
    first.auth.onTokenChange((set) => firstSaw.push(set?.accessToken));

    const reloadedStorage = fakeStorage();
    for (const [key, value] of staleItems) reloadedStorage.setItem(key, value);
    const reloaded = openTab(origin.environment(reloadedStorage), 'https://app.test/', origin.options);
    // Its restored tokens are due for refresh at once; it must take the open tab's instead.
    expect(await reloaded.auth.getAccessToken()).toBe(refreshed);
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
    // And what it restored was never announced: the open tab still holds the newer tokens.
    expect(await first.auth.getAccessToken()).toBe(refreshed);
    expect(firstSaw).toEqual([]);
    expect(server.isActive(refreshed)).toBe(true);
  });

  it('logout in one tab logs the other out', async () => {
    startServer();
    const origin = sharedOrigin('shared');
    const first = openTab(origin.environment(), 'https://app.test/', origin.options);
    await first.auth.login();
    await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    const second = openTab(origin.environment(), 'https://app.test/', origin.options);
    expect(await second.auth.getTokens()).toBeDefined();

    const changed = nextTokenChange(second.auth);
    await first.auth.logout();
    expect(await changed).toBeUndefined();
    expect(await second.auth.getTokens()).toBeUndefined();
    await expect(second.auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
    expect([...origin.localStorage.items.keys()]).toEqual([]);
  });

  it('falls back to the storage event when BroadcastChannel is missing and localStorage is used', async () => {
    startServer();
    const localStorage = fakeStorage();
    const storageKey = uniqueKey();
    // One origin's window event target: a localStorage write fires `storage` in every other tab.
    const tabs: Set<(event: StorageEvent) => void>[] = [];
    const tabEnvironment = (): BrowserEnvironment => {
      const listeners = new Set<(event: StorageEvent) => void>();
      tabs.push(listeners);
      const fire = (key: string, newValue: string | null): void => {
        const event = { key, newValue } as StorageEvent;
        for (const other of tabs) if (other !== listeners) for (const listener of other) setTimeout(() => listener(event));
      };
      return {
        localStorage: {
          getItem: localStorage.getItem,
          setItem: (key: string, value: string) => {
            localStorage.setItem(key, value);
            fire(key, value);
          },
          removeItem: (key: string) => {
            localStorage.removeItem(key);
            fire(key, null);
          },
        },
        sessionStorage: fakeStorage(),
        locks: null,
        BroadcastChannel: null,
        addEventListener: (_type, listener) => void listeners.add(listener),
        removeEventListener: (_type, listener) => void listeners.delete(listener),
      };
    };
    const options: Partial<BrowserAuthOptions> = { options: { storageKey }, services: { storage: 'local' } };
    const first = openTab(tabEnvironment(), 'https://app.test/', options);
    await first.auth.login();
    await first.auth.handleCallback(await server.authorize(first.location.assigned[0] ?? ''));
    const second = openTab(tabEnvironment(), 'https://app.test/', options);
    expect(await second.auth.getTokens()).toBeDefined();
    const changed = nextTokenChange(second.auth);
    await first.auth.logout();
    expect(await changed).toBeUndefined();
  });
});
