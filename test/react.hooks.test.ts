// @vitest-environment happy-dom
/**
 * `oauth-machines/react` rendered by React 19 into happy-dom, over a real
 * `createBrowserAuth` against the in-memory test authorization server with
 * its manual clock: the provider redeems a callback once under StrictMode,
 * keeps one actor and one renewal timer, the hooks re-render a component
 * only on what it reads, the guard starts one login and never loops, and
 * every failure shows as a typed `OAuthError`.
 */
import { createElement as h, StrictMode, type ReactNode } from 'react';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBrowserAuth, type BrowserAuth } from '../src/browser/index.js';
import { OAuthError } from '../src/errors.js';
import type { ProviderConfig, TokenSet } from '../src/protocol/types.js';
import {
  AuthProvider,
  RequireAuth,
  useAccessToken,
  useAuth,
  useAuthSelector,
  withAuthenticationRequired,
  type AuthProviderProps,
  type AuthState,
} from '../src/react/index.js';
import type { TestAuthorizationServer } from '../src/testing/index.js';
import { fakeStorage, providerOf, spaServer, SPA_CLIENT_ID, SPA_REDIRECT_URI } from './support/browserFakes.js';

const REDIRECT_URI = SPA_REDIRECT_URI;
const CLIENT_ID = SPA_CLIENT_ID;

beforeAll(() => {
  // React's act() warns unless the environment says it is a test.
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
});

// ---------------------------------------------------------------------------
// A page of the app: its own address bar, sessionStorage shared by the pages of the tab.

interface Page {
  auth: BrowserAuth;
  location: { href: string; assigned: string[]; assign(url: string): void };
}

let server: TestAuthorizationServer;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function startServer(): TestAuthorizationServer {
  server = spaServer();
  return server;
}

function provider(): ProviderConfig {
  return providerOf(server);
}

const tabStorage = { current: fakeStorage() };

/** One page load: a `BrowserAuth` for `href`, created outside React as the provider wants it. */
function openPage(href = 'https://app.test/'): Page {
  const assigned: string[] = [];
  const location = { href, assigned, assign: (url: string) => void assigned.push(url) };
  const history = {
    state: null as unknown,
    replaceState(data: unknown, _unused: string, url?: string | URL | null) {
      this.state = data;
      if (url !== undefined && url !== null) location.href = new URL(String(url), location.href).href;
    },
  };
  const auth = createBrowserAuth({
    provider: provider(),
    client: { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
    services: { fetch: server.fetch, clock: server.clock },
    environment: { location, history, sessionStorage: tabStorage.current, localStorage: null, locks: null, BroadcastChannel: null },
  });
  cleanups.push(() => auth.stop());
  return { auth, location };
}

/** The URL the server redirects back to after the user approved a login started on a fresh page. */
async function callbackUrl(): Promise<string> {
  tabStorage.current = fakeStorage();
  const start = openPage();
  await start.auth.login();
  const authorizationUrl = start.location.assigned.at(-1);
  if (authorizationUrl === undefined) throw new Error('login() did not navigate');
  start.auth.stop();
  return server.authorize(authorizationUrl);
}

/** The provider reads the page's address from `location`: happy-dom's follows the fake page's. */
function showAddress(href: string): void {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(href);
}

function render(element: ReactNode, strict = true): { root: Root; container: HTMLElement } {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  act(() => root.render(strict ? h(StrictMode, null, element) : element));
  cleanups.push(() => {
    act(() => root.unmount());
    container.remove();
  });
  return { root, container };
}

/** Lets the promises the actor and the hooks are waiting on settle, inside act(). */
async function settle(until: () => boolean, message: string): Promise<void> {
  for (let round = 0; round < 200 && !until(); round += 1) {
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  }
  expect(until(), message).toBe(true);
}

/** Renders `useAuth()` into a record of every render, for the assertions. */
function AuthProbe(props: { renders: AuthState[] }): ReactNode {
  const state = useAuth();
  props.renders.push(state);
  return h('p', { id: 'status', 'data-error': state.error?.code ?? '' }, `${state.status} ${state.user?.sub ?? '-'}`);
}

function TokenProbe(props: { renders: (string | undefined)[] }): ReactNode {
  const token = useAccessToken();
  props.renders.push(token);
  return h('p', { id: 'token' }, token ?? '-');
}

const last = <T>(list: T[]): T => {
  if (list.length === 0) throw new Error('nothing rendered');
  return list[list.length - 1] as T;
};

// ---------------------------------------------------------------------------

describe('AuthProvider under StrictMode', () => {
  it('redeems the callback with one code exchange, reports it once, and shows the user', async () => {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    const renders: AuthState[] = [];
    const reported: TokenSet[] = [];
    render(h(AuthProvider, { auth: page.auth, onCallback: (tokens) => void reported.push(tokens) }, h(AuthProbe, { renders })));

    await settle(() => last(renders).status === 'signedIn' && reported.length > 0, 'the callback was redeemed');
    expect(server.tokenRequests('authorization_code')).toHaveLength(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.accessToken).toBe((await page.auth.getTokens())?.accessToken);
    expect(last(renders)).toMatchObject({ status: 'signedIn', isAuthenticated: true, isLoading: false, error: undefined });
    expect(last(renders).user?.sub).toEqual(expect.any(String));
    // The helper cleaned its address bar (happy-dom's own is the app's business).
    expect(page.location.href).toBe(REDIRECT_URI);
  });

  it('keeps one actor and one renewal timer: the renewal reaches the server once, and unmounting stops nothing', async () => {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    const tokens: (string | undefined)[] = [];
    const { root } = render(h(AuthProvider, { auth: page.auth }, h(TokenProbe, { renders: tokens })));
    await settle(() => last(tokens) !== undefined, 'signed in');
    const first = last(tokens);
    const held = await page.auth.getTokens();
    if (held?.expiresAt === undefined) throw new Error('the test needs expiring tokens');

    // The machine's renewal timer fires at expiry minus the refresh skew: move the shared clock there.
    act(() => server.clock.set((held.expiresAt ?? 0) - 30_000));
    await settle(() => last(tokens) !== first, 'the token was renewed');
    expect(server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(server.isActive(last(tokens) ?? '')).toBe(true);

    // The provider does not own the helper: unmounting the tree leaves the actor (and its session) running.
    act(() => root.unmount());
    expect(page.auth.actor.getSnapshot().status).toBe('active');
    expect((await page.auth.getTokens())?.accessToken).toBe(last(tokens));
  });

  it('shows a forged callback as the typed state_mismatch error and spends no code', async () => {
    startServer();
    await callbackUrl(); // a login is pending in this tab
    const forged = `${REDIRECT_URI}?code=stolen&state=forged&iss=${encodeURIComponent(server.issuer)}`;
    const page = openPage(forged);
    showAddress(forged);
    const renders: AuthState[] = [];
    const reported: TokenSet[] = [];
    render(h(AuthProvider, { auth: page.auth, onCallback: (tokens) => void reported.push(tokens) }, h(AuthProbe, { renders })));
    await settle(() => last(renders).error !== undefined, 'the callback was refused');
    expect(last(renders).error).toBeInstanceOf(OAuthError);
    expect(last(renders).error?.code).toBe('state_mismatch');
    // The real login goes on waiting for its own callback: a forged one cannot cancel it.
    expect(last(renders).status).toBe('awaitingCallback');
    expect(last(renders).isAuthenticated).toBe(false);
    expect(reported).toEqual([]);
    expect(server.tokenRequests('authorization_code')).toHaveLength(0);
  });

  it('leaves a callback alone with skipCallback, and a page that is no callback', async () => {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    const renders: AuthState[] = [];
    render(h(AuthProvider, { auth: page.auth, skipCallback: true }, h(AuthProbe, { renders })));
    await settle(() => last(renders).status === 'awaitingCallback', 'the pending login was restored');
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
    expect(server.tokenRequests('authorization_code')).toHaveLength(0);
    expect(last(renders).status).toBe('awaitingCallback');
  });
});

describe('useAuth, useAccessToken, useAuthSelector', () => {
  async function signedIn(): Promise<{ page: Page; authRenders: AuthState[]; tokenRenders: (string | undefined)[]; renewing: boolean[] }> {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    const authRenders: AuthState[] = [];
    const tokenRenders: (string | undefined)[] = [];
    const renewing: boolean[] = [];
    function RenewingProbe(): ReactNode {
      const value = useAuthSelector((snapshot) => snapshot.hasTag('renewing'));
      renewing.push(value);
      return null;
    }
    render(
      h(
        AuthProvider,
        { auth: page.auth },
        h(AuthProbe, { renders: authRenders }),
        h(TokenProbe, { renders: tokenRenders }),
        h(RenewingProbe),
      ),
      false,
    );
    await settle(() => last(authRenders).status === 'signedIn' && last(tokenRenders) !== undefined, 'signed in');
    return { page, authRenders, tokenRenders, renewing };
  }

  it('re-render a component only on what it reads: a renewal re-renders the token reader, not the useAuth() reader', async () => {
    const { page, authRenders, tokenRenders, renewing } = await signedIn();
    const before = { auth: authRenders.length, token: tokenRenders.length, renewing: renewing.length };
    const user = last(authRenders).user;

    const idToken = (await page.auth.getTokens())?.idToken;
    // A minute later, so the renewal's ID token is a new one (new iat and exp) about the same user.
    act(() => server.clock.advance(60_000));
    act(() => page.auth.actor.send({ type: 'REFRESH' }));
    await settle(() => server.tokenRequests('refresh_token').length === 1 && !page.auth.actor.getSnapshot().hasTag('busy'), 'renewed');
    await settle(() => tokenRenders.length > before.token, 'the token reader re-rendered');

    expect(tokenRenders.length - before.token).toBe(1);
    expect(last(tokenRenders)).toBe((await page.auth.getTokens())?.accessToken);
    expect((await page.auth.getTokens())?.idToken).not.toBe(idToken);
    // The renewal's new ID token names the same user: useAuth() has nothing new to show.
    expect(authRenders.length).toBe(before.auth);
    expect(last(authRenders).user).toBe(user);
    // The tag reader saw the renewal start and end, and nothing else.
    expect(renewing.slice(before.renewing)).toEqual([true, false]);
  });

  it('login() and logout() never reject with an OAuthError: the failure shows in error, and the next command clears it', async () => {
    const { authRenders, tokenRenders } = await signedIn();
    // Signed in, a login is refused by the helper (logout first).
    await act(() => last(authRenders).login());
    expect(last(authRenders).error?.code).toBe('unsupported_operation');
    expect(last(authRenders).status).toBe('signedIn');

    await act(() => last(authRenders).logout());
    await settle(() => last(authRenders).status === 'signedOut', 'signed out');
    expect(last(authRenders).error).toBeUndefined();
    expect(last(authRenders).user).toBeUndefined();
    expect(last(tokenRenders)).toBeUndefined();
    await expect(last(authRenders).getAccessToken()).rejects.toMatchObject({ code: 'login_required' });
  });

  it('is refused outside an AuthProvider, naming the mistake', () => {
    function Orphan(): ReactNode {
      useAuth();
      return null;
    }
    const container = document.createElement('div');
    const root = createRoot(container);
    const errors: unknown[] = [];
    const onError = (event: ErrorEvent): void => {
      event.preventDefault();
      errors.push(event.error);
    };
    window.addEventListener('error', onError);
    try {
      expect(() => act(() => root.render(h(Orphan)))).toThrow('useAuth() is used outside <AuthProvider auth={…}>');
    } finally {
      window.removeEventListener('error', onError);
      act(() => root.unmount());
    }
  });
});

describe('RequireAuth and withAuthenticationRequired', () => {
  it('signed out, starts one login under StrictMode (one navigation) and shows the fallback meanwhile', async () => {
    startServer();
    tabStorage.current = fakeStorage();
    const page = openPage();
    showAddress('https://app.test/');
    const { container } = render(
      h(AuthProvider, { auth: page.auth }, h(RequireAuth, { fallback: h('p', null, 'redirecting…') }, h('p', null, 'secret'))),
    );
    await settle(() => page.location.assigned.length > 0 && page.auth.actor.getSnapshot().hasTag('awaitingCallback'), 'the login started');
    // Effects ran twice and the status went through busy and awaitingCallback: still one login.
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
    expect(page.location.assigned).toHaveLength(1);
    expect(new URL(page.location.assigned[0] ?? '').searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(container.textContent).toBe('redirecting…');
  });

  it('renders its children while signed in, through withAuthenticationRequired too, without a login', async () => {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    const Secret = withAuthenticationRequired((props: { word: string }) => h('p', null, props.word), { fallback: 'wait' });
    const { container } = render(h(AuthProvider, { auth: page.auth }, h(Secret, { word: 'secret' })));
    expect(container.textContent).toBe('wait');
    await settle(() => container.textContent === 'secret', 'the children were rendered');
    expect(page.location.assigned).toEqual([]);
    expect(Secret.displayName).toBe('withAuthenticationRequired(Component)');
  });

  it('on the callback page, leaves the pending login to the provider: no new login, the children once redeemed', async () => {
    startServer();
    const href = await callbackUrl();
    const page = openPage(href);
    showAddress(href);
    // Restored before React mounts: the guard's effect runs before the provider's (children first), and its
    // first render already sees the pending login (awaitingCallback).
    await page.auth.ready;
    expect(page.auth.actor.getSnapshot().hasTag('awaitingCallback')).toBe(true);
    const { container } = render(h(AuthProvider, { auth: page.auth }, h(RequireAuth, { fallback: 'wait' }, h('p', null, 'secret'))));
    await settle(() => container.textContent === 'secret', 'the callback was redeemed');
    expect(page.location.assigned).toEqual([]);
    expect(server.tokenRequests('authorization_code')).toHaveLength(1);
  });

  it('elsewhere, starts a login left unfinished again (the user came back without answering the provider)', async () => {
    startServer();
    await callbackUrl(); // a login is pending in this tab, and its callback never comes
    const page = openPage('https://app.test/orders');
    showAddress('https://app.test/orders');
    await page.auth.ready;
    expect(page.auth.actor.getSnapshot().hasTag('awaitingCallback')).toBe(true);
    render(h(AuthProvider, { auth: page.auth }, h(RequireAuth, { fallback: 'wait' }, 'secret')));
    await settle(() => page.location.assigned.length > 0, 'a new login started');
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
    expect(page.location.assigned).toHaveLength(1);
  });

  it('in error, shows errorFallback and starts no login by itself', async () => {
    startServer();
    await callbackUrl();
    const forged = `${REDIRECT_URI}?code=stolen&state=forged`;
    const page = openPage(forged);
    showAddress(forged);
    const { container } = render(
      h(
        AuthProvider,
        { auth: page.auth } satisfies AuthProviderProps,
        h(RequireAuth, { fallback: 'wait', errorFallback: (error) => h('p', { role: 'alert' }, error.code) }, 'secret'),
      ),
    );
    await settle(() => container.textContent === 'state_mismatch', 'the error was shown');
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 20)));
    expect(page.location.assigned).toEqual([]);
  });
});
