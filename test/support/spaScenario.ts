/**
 * The setup the Chromium e2e tests share: a single-page app (one of the
 * examples, built by its own build script, or a test's own bundle) served on
 * 127.0.0.1, oidc-provider 8 on another loopback port recording every
 * request it answers, and headless Chromium held to loopback — plus the page
 * helpers the tests use on it: play the user on the provider's login and
 * consent pages, read the session the app stored, count token requests by
 * grant type where they land (in the provider, not in the browser), ask the
 * provider whether a token is still active.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { launchBrowser, saveScreenshot, serveStatic, type LaunchedBrowser, type StaticServer } from './browser.js';
import { startOidcProvider, type ProviderRequest, type StartedOidcProvider } from './oidcProvider.js';

const run = promisify(execFile);

/** The examples whose `build.mjs` takes `--outdir` and `--no-minify`, and whose page shows its state in `#state`. */
export type SpaExample = 'spa-vanilla' | 'react' | 'vue' | 'svelte';

export interface SpaScenarioOptions {
  /** An example under `examples/`, or a function that writes the app (index.html and its scripts) into the directory. */
  app: SpaExample | ((dir: string) => Promise<void>);
  /** Prefix of the temporary directory the app is built into (removed by `close`). */
  tmpPrefix: string;
  /** Passed to `startOidcProvider`: a refresh token for the public client without `prompt=consent` (the vanilla example's login sends none). */
  refreshTokensForPublicClient?: boolean;
  /** Passed to `startOidcProvider`: the test's own provider features (DPoP…). */
  configureProvider?: StartOptions['configure'];
}

type StartOptions = NonNullable<Parameters<typeof startOidcProvider>[0]>;

/** The examples' storage key (the machines' default) and the session blob they write there. */
export const STORAGE_KEY = 'oauth-machines';
export interface StoredSession {
  state: string;
  tokens?: { accessToken: string; refreshToken?: string };
}

export interface SpaScenario {
  /** Where the app was built; also the root `site` serves. */
  dir: string;
  site: StaticServer;
  op: StartedOidcProvider;
  browser: LaunchedBrowser;
  /** Every request the provider answered, in order. */
  requests: ProviderRequest[];
  /**
   * Writes the examples' `config.json` (read on every page load, served
   * no-store): the provider's issuer, its public client, the site's
   * `/callback` and the scopes `openid offline_access`, plus `extra`.
   */
  configure(extra?: Record<string, unknown>): Promise<void>;
  /** Brings the browser back to one tab, signed out everywhere: no app storage, no provider session cookie, no logs. */
  signOutEverywhere(): Promise<void>;
  /** The pages' console and errors, for a failure message (a browser failure is otherwise opaque). */
  failureContext(): string;
  /** What an example page shows in `#state`. */
  state(page: Page): Promise<string | null>;
  /** The `/token` requests of one grant type the provider received (preflights apart). */
  tokenRequests(grantType: string): ProviderRequest[];
  /** The session an example stored in one of the page's storage areas, or null. */
  stored(page: Page, area: 'sessionStorage' | 'localStorage'): Promise<StoredSession | null>;
  /** RFC 7662 introspection from Node, as the confidential client: whether the provider still takes `token`. */
  isActive(token: string | undefined): Promise<unknown>;
  /** Opens the example in a new tab of the same profile and waits until it shows the session it found. */
  openTab(): Promise<Page>;
  /** Clicks an example's Login and plays the user on the provider's pages until the app is back and signed in. */
  logIn(page: Page): Promise<void>;
  /**
   * Plays the user on the provider's pages of a login sent with
   * `prompt=consent`: the login form, then the consent form (which always
   * follows), until the browser is back at the app's `/callback`.
   */
  logInAndConsent(page: Page): Promise<void>;
  /** Closes Chromium, the provider and the site, and removes the app's directory. */
  close(): Promise<void>;
}

/**
 * Builds the app into a fresh temporary directory, serves it, starts the
 * provider with the site's `/callback` registered (its origin is what CORS
 * checks) and launches Chromium. Every port is chosen by the system. If a
 * step fails, what was started is stopped before the error is thrown.
 */
export async function startSpaScenario(options: SpaScenarioOptions): Promise<SpaScenario> {
  const requests: ProviderRequest[] = [];
  const dir = await mkdtemp(join(tmpdir(), options.tmpPrefix));
  let site: StaticServer | undefined;
  let op: StartedOidcProvider | undefined;
  let browser: LaunchedBrowser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close();
    await op?.close();
    await site?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { app } = options;
    if (typeof app === 'function') await app(dir);
    else await run(process.execPath, [`examples/${app}/build.mjs`, '--outdir', dir, '--no-minify']);
    site = await serveStatic(dir);
    op = await startOidcProvider({
      redirectUris: [`${site.origin}/callback`],
      ...(options.refreshTokensForPublicClient === undefined ? {} : { refreshTokensForPublicClient: options.refreshTokensForPublicClient }),
      ...(options.configureProvider === undefined ? {} : { configure: options.configureProvider }),
      onRequest: (request) => void requests.push(request),
    });
    browser = await launchBrowser();
  } catch (error) {
    await stop();
    throw error;
  }
  return scenario({ dir, site, op, browser, requests, close: stop });
}

/**
 * {@link startSpaScenario} for a suite: registers the hooks that start the
 * scenario before the suite's tests and close it after them (and, with
 * `signOutBeforeEach`, bring the browser back to one signed-out tab before
 * each test), and returns the scenario. Call it in the suite's body; use
 * what it returns only inside tests and later hooks, once it has started.
 */
export function useSpaScenario(options: SpaScenarioOptions & { signOutBeforeEach?: boolean }): SpaScenario {
  let started: SpaScenario | undefined;
  const current = (): SpaScenario => {
    if (started === undefined) throw new Error('the SPA scenario is used before its beforeAll hook started it');
    return started;
  };
  beforeAll(async () => {
    started = await startSpaScenario(options);
  });
  afterAll(() => started?.close());
  if (options.signOutBeforeEach === true) beforeEach(() => current().signOutEverywhere());
  // The suite body runs before beforeAll: what it holds forwards every property to the scenario once started.
  return new Proxy({} as SpaScenario, { get: (_target, key) => Reflect.get(current(), key) });
}

function scenario(handles: Pick<SpaScenario, 'dir' | 'site' | 'op' | 'browser' | 'requests' | 'close'>): SpaScenario {
  const { dir, site, op, browser, requests } = handles;
  const failureContext = (): string => `page logs:\n${browser.logs.join('\n')}`;
  // The top-level state the page shows (it shows `{"refreshing":{"attempt":"waitingForLock"}}` inside refreshing).
  const state = async (page: Page): Promise<string | null> => {
    const text = await page.textContent('#state');
    return text?.startsWith('{') === true ? (Object.keys(JSON.parse(text) as object)[0] ?? text) : text;
  };

  return {
    ...handles,
    failureContext,
    state,

    configure: (extra = {}) =>
      writeFile(
        join(dir, 'config.json'),
        JSON.stringify({
          // No endpoints: the page discovers them (oidc-provider serves only the OpenID document).
          issuer: op.issuer,
          clientId: op.clients.public.clientId,
          redirectUri: `${site.origin}/callback`,
          scopes: ['openid', 'offline_access'],
          ...extra,
        }),
      ),

    async signOutEverywhere() {
      for (const page of browser.context.pages().slice(1)) await page.close();
      await browser.context.clearCookies();
      await browser.page.goto(`${site.origin}/`);
      await browser.page.evaluate(() => {
        sessionStorage.clear();
        localStorage.clear();
      });
      browser.logs.length = 0;
    },

    tokenRequests: (grantType) =>
      requests.filter((request) => request.method === 'POST' && request.path === '/token' && request.grantType === grantType),

    async stored(page, area) {
      const text = await page.evaluate(([name, key]) => window[name].getItem(key), [area, STORAGE_KEY] as const);
      return text === null ? null : (JSON.parse(text) as StoredSession);
    },

    async isActive(token) {
      expect(token).toEqual(expect.any(String));
      const response = await fetch(`${op.issuer}/token/introspection`, {
        method: 'POST',
        body: new URLSearchParams({ token: token ?? '', client_id: op.clients.post.clientId, client_secret: op.clients.post.clientSecret }),
      });
      return ((await response.json()) as { active?: unknown }).active;
    },

    async openTab() {
      const page = await browser.context.newPage();
      await page.goto(`${site.origin}/`);
      await expect.poll(() => state(page), { message: failureContext() }).toBe('authenticated');
      return page;
    },

    async logIn(page) {
      await page.goto(`${site.origin}/`);
      await expect.poll(() => state(page), { message: failureContext() }).toBe('idle');
      await page.click('#login');
      await page.waitForURL(`${op.issuer}/interaction/**`);
      // Two pages at most: the login form, then the consent form (only a submit button).
      for (let step = 0; step < 2 && page.url().startsWith(`${op.issuer}/interaction/`); step += 1) {
        const from = page.url();
        if ((await page.locator('input[name=login]').count()) > 0) {
          await page.fill('input[name=login]', 'alice');
          await page.fill('input[name=password]', 'pw');
        }
        await page.click('button[type=submit]');
        await page.waitForURL((url) => url.href !== from);
      }
      await page.waitForURL(`${site.origin}/callback**`);
      await expect.poll(() => state(page), { timeout: 10_000, message: failureContext() }).toBe('authenticated');
    },

    async logInAndConsent(page) {
      await page.waitForURL(`${op.issuer}/interaction/**`);
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', 'pw');
      await page.click('button[type=submit]');
      // prompt=consent: the consent page (a new interaction, only a Continue button) always follows the login.
      await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
      await page.click('button[type=submit]');
      await page.waitForURL(`${site.origin}/callback**`);
    },
  };
}

/**
 * Two tabs of one profile signed in to the vanilla example with `storage`,
 * then `rounds` times: the first tab's refresh request is held in the
 * browser until the second tab has been told to refresh too, so the two
 * refreshes overlap for certain (on loopback one would otherwise be over
 * before the next click). Asserts, round after round, that the server
 * received exactly one refresh request and that both tabs show its tokens;
 * at the end, that the refresh token both hold is still active.
 */
export async function expectOverlappingRefreshesAdopted(
  spa: SpaScenario,
  { storage, rounds }: { storage: 'session' | 'local'; rounds: number },
): Promise<void> {
  const { browser, op, failureContext, state } = spa;
  await spa.configure({ storage });
  const first = browser.page;
  await spa.logIn(first);
  const second = await spa.openTab();

  let gate: { held: Promise<void>; release: () => void; arrived: () => void; inFlight: Promise<void> } | undefined;
  const newGate = (): NonNullable<typeof gate> => {
    let release = (): void => undefined;
    let arrived = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    return { held, release: () => release(), arrived: () => arrived(), inFlight };
  };
  await browser.context.route(`${op.issuer}/token`, async (route) => {
    const request = route.request();
    const current = gate;
    if (current && request.method() === 'POST' && new URLSearchParams(request.postData() ?? '').get('grant_type') === 'refresh_token') {
      current.arrived();
      await current.held;
    }
    await route.continue();
  });
  try {
    for (let round = 1; round <= rounds; round += 1) {
      const shown = await first.textContent('#token');
      const refreshes = spa.tokenRequests('refresh_token').length;
      const current = newGate();
      gate = current;
      // dispatchEvent: a real click's actionability checks wait for animation frames, which a page in the
      // background gets seldom; the button's handler is what is under test, not Chromium's hit testing.
      await first.dispatchEvent('#refresh', 'click');
      await current.inFlight;
      await second.dispatchEvent('#refresh', 'click');
      await expect.poll(() => state(second)).toBe('refreshing');
      current.release();
      await expect.poll(() => first.textContent('#token'), { message: failureContext() }).not.toBe(shown);
      await expect.poll(() => state(first)).toBe('authenticated');
      await expect.poll(() => state(second)).not.toBe('refreshing');
      const statuses = spa.tokenRequests('refresh_token').slice(refreshes).map((request) => request.status);
      expect(statuses, `round ${round}: refresh requests the server received`).toEqual([200]);
      expect(await second.textContent('#token')).toBe(await first.textContent('#token'));
    }
  } finally {
    gate?.release();
    await browser.context.unroute(`${op.issuer}/token`);
  }
  expect(await spa.isActive((await spa.stored(first, `${storage}Storage`))?.tokens?.refreshToken)).toBe(true);
  await saveScreenshot(second, `e2e-oidc-provider tabs overlapping refresh adopted ${storage}Storage`);
}
