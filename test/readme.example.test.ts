/**
 * The README's short example, as written there (imports adjusted to the
 * source tree, the browser's globals given as `environment`), across the
 * redirect: `login()` on one page, `handleCallback()` on the callback
 * page — a new page load with a new `auth` — and the session on a page after
 * that. And why the README does not show `createOAuthClient` for this: its
 * default storage is memory, so the callback page finds no pending login.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBrowserAuth, isOAuthError, type BrowserAuth, type BrowserEnvironment } from '../src/browser/index.js';
import { createOAuthClient, type OAuthClient } from '../src/client.js';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT_URI = 'https://app.example/callback';

let server: TestAuthorizationServer;
const stops: Array<() => void> = [];

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

function startServer(): TestAuthorizationServer {
  server = createTestAuthorizationServer({
    clients: [
      {
        clientId: 'app',
        authMethod: 'none',
        redirectUris: [REDIRECT_URI],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'offline_access'],
      },
      { clientId: 'reporting-service', clientSecret: 'reporting-secret', authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['reports:read'] },
    ],
  });
  return server;
}

/** The tab: one sessionStorage for every page load in it. */
function sessionStorageOfTab() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, String(value)),
    removeItem: (key: string) => void items.delete(key),
  };
}

/** One page load at `href`: its own location (navigations recorded) and history. */
function page(href: string, sessionStorage: ReturnType<typeof sessionStorageOfTab>) {
  const location = {
    href,
    assigned: [] as string[],
    assign(url: string) {
      this.assigned.push(url);
    },
    replace(url: string) {
      this.assigned.push(new URL(url, this.href).href);
    },
  };
  const history = {
    state: null as unknown,
    replaceState(_data: unknown, _unused: string, url?: string | URL | null) {
      if (url !== undefined && url !== null) location.href = new URL(String(url), location.href).href;
    },
  };
  const environment: BrowserEnvironment = { location, history, sessionStorage, localStorage: null, locks: null, BroadcastChannel: null };
  return { location, environment };
}

/** auth.ts of the README, on one page load. */
function readmeAuth(environment: BrowserEnvironment): BrowserAuth {
  const auth = createBrowserAuth({
    provider: { issuer: server.issuer }, // discovery, as in the README
    client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
    services: { fetch: server.fetch, clock: server.clock },
    environment,
  });
  stops.push(() => auth.stop());
  return auth;
}

describe("the README's short example", () => {
  it('signs in across the redirect with createBrowserAuth: login on one page, the callback on a new one', async () => {
    startServer();
    const tab = sessionStorageOfTab();

    // The login page.
    const loginPage = page('https://app.example/', tab);
    await readmeAuth(loginPage.environment).login();
    const authorizationUrl = loginPage.location.assigned.at(-1);
    expect(authorizationUrl).toMatch(/^https:\/\/auth\.test\//);

    // The user signs in at the provider, which redirects the browser to the callback page: a new page load.
    const callbackPage = page(await server.authorize(authorizationUrl ?? ''), tab);
    const auth = readmeAuth(callbackPage.environment);
    try {
      await auth.handleCallback();
      callbackPage.location.replace('/');
    } catch (error) {
      if (isOAuthError(error)) console.warn(error.code);
      throw error;
    }
    expect(callbackPage.location.href).toBe(REDIRECT_URI); // the code left the address bar
    expect(callbackPage.location.assigned).toEqual(['https://app.example/']);

    // Any page afterwards: the session comes back from the tab's storage.
    const later = readmeAuth(page('https://app.example/', tab).environment);
    const accessToken = await later.getAccessToken();
    expect(server.tokenRequests('authorization_code')).toHaveLength(1);
    expect(accessToken).toBe((await auth.getTokens())?.accessToken);

    await later.logout();
    expect(await later.getTokens()).toBeUndefined();
  });

  it("runs the server example's client credentials with createOAuthClient in memory", async () => {
    startServer();
    const client = createOAuthClient({
      grant: 'client_credentials',
      provider: { issuer: server.issuer },
      client: { clientId: 'reporting-service', clientSecret: 'reporting-secret', scopes: ['reports:read'] },
      services: { fetch: server.fetch, clock: server.clock },
    });
    stops.push(() => client.stop());
    const [first, second] = await Promise.all([client.getAccessToken(), client.getAccessToken()]);
    expect(first).toBe(second);
    expect(server.tokenRequests('client_credentials')).toHaveLength(1);
  });

  it('is not createOAuthClient with its default memory storage: the callback page would find no pending login', async () => {
    startServer();
    const clientOnPage = (): OAuthClient<'authorization_code'> => {
      const navigated: string[] = [];
      const client = createOAuthClient({
        grant: 'authorization_code',
        provider: { issuer: server.issuer },
        client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
        services: { fetch: server.fetch, clock: server.clock, navigate: (url) => void navigated.push(url) },
      });
      stops.push(() => client.stop());
      return client;
    };
    const authorizationUrl = await clientOnPage().login();
    const callbackUrl = await server.authorize(authorizationUrl);
    await expect(clientOnPage().handleCallback(callbackUrl)).rejects.toMatchObject({ name: 'OAuthError', code: 'pending_missing' });
  });
});
