/**
 * The vanilla SPA example (examples/spa-vanilla, built by its own build
 * script) in real Chromium against oidc-provider 8, all on 127.0.0.1:
 * refresh with rotation in one tab, and two tabs of one browser profile on a
 * session kept in localStorage — one refresh request for both, the new
 * refresh token used by the tab that did not refresh, logout everywhere.
 *
 * Refresh requests are counted where they land, in the provider (its
 * `onRequest` hook), not in the browser: what matters is what the server saw.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeBrowser, launchBrowser, saveScreenshot, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';
import { startOidcProvider, type ProviderRequest, type StartedOidcProvider } from './support/oidcProvider.js';

const run = promisify(execFile);

/** Rounds of overlapping refreshes: each one must send exactly one refresh request. */
const ROUNDS = 10;

/** The example's storage key (the machines' default) and the session blob it writes there. */
const STORAGE_KEY = 'oauth-machines';
interface StoredSession {
  state: string;
  tokens?: { accessToken: string; refreshToken?: string };
}

describeBrowser('the vanilla SPA in Chromium against oidc-provider: refresh and two tabs', () => {
  let dir: string;
  let site: StaticServer;
  let op: StartedOidcProvider;
  let browser: LaunchedBrowser;
  const requests: ProviderRequest[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-tabs-'));
    await run(process.execPath, ['examples/spa-vanilla/build.mjs', '--outdir', dir, '--no-minify']);
    site = await serveStatic(dir);
    op = await startOidcProvider({
      redirectUris: [`${site.origin}/callback`],
      // The example's login sends no prompt=consent, which oidc-provider needs before it grants offline_access.
      refreshTokensForPublicClient: true,
      onRequest: (request) => void requests.push(request),
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await op?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The example reads config.json on every load (served no-store): each test picks its storage. */
  async function configure(storage: 'session' | 'local'): Promise<void> {
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        // No endpoints: the page discovers them (oidc-provider serves only the OpenID document).
        issuer: op.issuer,
        clientId: op.clients.public.clientId,
        redirectUri: `${site.origin}/callback`,
        scopes: ['openid', 'offline_access'],
        storage,
      }),
    );
  }

  beforeEach(async () => {
    // Every test starts in one tab, signed out everywhere: no app storage, no provider session cookie.
    for (const page of browser.context.pages().slice(1)) await page.close();
    await browser.context.clearCookies();
    await browser.page.goto(`${site.origin}/`);
    await browser.page.evaluate(() => {
      sessionStorage.clear();
      localStorage.clear();
    });
    browser.logs.length = 0;
  });

  const failureContext = (): string => `page logs:\n${browser.logs.join('\n')}`;
  const state = (page: Page): Promise<string | null> => page.textContent('#state');
  const refreshRequests = (): ProviderRequest[] =>
    requests.filter((request) => request.method === 'POST' && request.path === '/token' && request.grantType === 'refresh_token');

  async function stored(page: Page, area: 'sessionStorage' | 'localStorage'): Promise<StoredSession | null> {
    const text = await page.evaluate(([name, key]) => window[name].getItem(key), [area, STORAGE_KEY] as const);
    return text === null ? null : (JSON.parse(text) as StoredSession);
  }

  /** RFC 7662 introspection from Node, as the confidential client. */
  async function isActive(token: string | undefined): Promise<unknown> {
    expect(token).toEqual(expect.any(String));
    const response = await fetch(`${op.issuer}/token/introspection`, {
      method: 'POST',
      body: new URLSearchParams({ token: token ?? '', client_id: op.clients.post.clientId, client_secret: op.clients.post.clientSecret }),
    });
    return ((await response.json()) as { active?: unknown }).active;
  }

  /** Clicks Login and plays the user on the provider's login and consent pages until the app is back and signed in. */
  async function logIn(page: Page): Promise<void> {
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
  }

  it('refreshes on the button: a new access token, the rotated refresh token in sessionStorage, the old one inactive at the provider', async () => {
    await configure('session');
    const { page } = browser;
    await logIn(page);
    const before = await stored(page, 'sessionStorage');
    expect(before?.tokens?.refreshToken).toEqual(expect.any(String));
    expect(await isActive(before?.tokens?.refreshToken)).toBe(true);
    const shownBefore = await page.textContent('#token');
    const refreshes = refreshRequests().length;

    await page.click('#refresh');
    await expect.poll(() => page.textContent('#token'), { message: failureContext() }).not.toBe(shownBefore);
    await expect.poll(() => state(page)).toBe('authenticated');

    const after = await stored(page, 'sessionStorage');
    expect(after?.tokens?.accessToken).not.toBe(before?.tokens?.accessToken);
    expect(after?.tokens?.refreshToken).toEqual(expect.any(String));
    expect(after?.tokens?.refreshToken).not.toBe(before?.tokens?.refreshToken);
    expect(refreshRequests()).toHaveLength(refreshes + 1);
    expect(refreshRequests().at(-1)?.status).toBe(200);
    // Rotation (RFC 9700 §4.14.2): the spent refresh token is dead, its successor alive.
    expect(await isActive(before?.tokens?.refreshToken)).toBe(false);
    expect(await isActive(after?.tokens?.refreshToken)).toBe(true);
    expect(await isActive(after?.tokens?.accessToken)).toBe(true);
    // The session survives a reload with the rotated tokens.
    await page.reload();
    await expect.poll(() => state(page)).toBe('authenticated');
    expect((await stored(page, 'sessionStorage'))?.tokens?.refreshToken).toBe(after?.tokens?.refreshToken);
    await saveScreenshot(page, 'e2e-oidc-provider refreshed');
  });

  it('a refresh in one tab reaches the other with one refresh request, and the other tab then spends the new refresh token', async () => {
    await configure('local');
    const first = browser.page;
    await logIn(first);
    const second = await browser.context.newPage();
    await second.goto(`${site.origin}/`);
    await expect.poll(() => state(second), { message: failureContext() }).toBe('authenticated');
    const shown = await first.textContent('#token');
    expect(await second.textContent('#token')).toBe(shown);
    const original = await stored(first, 'localStorage');
    const refreshes = refreshRequests().length;

    await first.click('#refresh');
    await expect.poll(() => first.textContent('#token'), { message: failureContext() }).not.toBe(shown);
    const refreshed = await first.textContent('#token');
    // The second tab shows the new tokens without a reload, and asked the server for nothing.
    await expect.poll(() => second.textContent('#token'), { message: failureContext() }).toBe(refreshed);
    expect(await second.textContent('#refresh-token')).toBe(await first.textContent('#refresh-token'));
    expect(refreshRequests()).toHaveLength(refreshes + 1);
    const rotated = await stored(second, 'localStorage');
    expect(rotated?.tokens?.refreshToken).not.toBe(original?.tokens?.refreshToken);

    // Had the second tab kept the old refresh token, spending it would be reuse: oidc-provider would revoke the
    // whole grant and answer invalid_grant. Its refresh succeeding proves it holds the rotated one.
    await second.click('#refresh');
    await expect.poll(() => second.textContent('#token'), { message: failureContext() }).not.toBe(refreshed);
    await expect.poll(() => first.textContent('#token')).toBe(await second.textContent('#token'));
    expect(await state(second)).toBe('authenticated');
    expect(refreshRequests().slice(refreshes).map((request) => request.status)).toEqual([200, 200]);
    expect(await isActive((await stored(first, 'localStorage'))?.tokens?.refreshToken)).toBe(true);
    await saveScreenshot(first, 'e2e-oidc-provider tabs refreshed first tab');
    await saveScreenshot(second, 'e2e-oidc-provider tabs refreshed second tab');
  });

  /**
   * The same scenario with storage 'local', where each tab's copy of localStorage lags behind the other
   * tab's writes, runs 60 rounds in test/browser.e2e.tabs.localLock.test.ts.
   */
  it('with sessionStorage, a tab told to refresh while the other tab is refreshing waits and adopts its tokens: one refresh request, round after round', async () => {
    const storage = 'session';
    await configure(storage);
    const first = browser.page;
    await logIn(first);
    const second = await browser.context.newPage();
    await second.goto(`${site.origin}/`);
    await expect.poll(() => state(second), { message: failureContext() }).toBe('authenticated');

    // Hold each round's first refresh request in the browser until the second tab has been told to refresh
    // too, so the two refreshes overlap for certain (on loopback one would otherwise be over before the next click).
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
      for (let round = 1; round <= ROUNDS; round += 1) {
        const shown = await first.textContent('#token');
        const refreshes = refreshRequests().length;
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
        const statuses = refreshRequests().slice(refreshes).map((request) => request.status);
        expect(statuses, `round ${round}: refresh requests the server received`).toEqual([200]);
        expect(await second.textContent('#token')).toBe(await first.textContent('#token'));
      }
    } finally {
      gate?.release();
      await browser.context.unroute(`${op.issuer}/token`);
    }
    expect(await isActive((await stored(first, `${storage}Storage`))?.tokens?.refreshToken)).toBe(true);
    await saveScreenshot(second, `e2e-oidc-provider tabs overlapping refresh adopted ${storage}Storage`);
  });

  it('logout in one tab revokes the session and signs the other tab out without a reload', async () => {
    await configure('local');
    const first = browser.page;
    await logIn(first);
    const second = await browser.context.newPage();
    await second.goto(`${site.origin}/`);
    await expect.poll(() => state(second), { message: failureContext() }).toBe('authenticated');
    const session = await stored(first, 'localStorage');
    expect(await isActive(session?.tokens?.refreshToken)).toBe(true);

    await second.click('#logout');
    await expect.poll(() => state(second), { message: failureContext() }).toBe('idle');
    // The first tab follows on its own: no reload, no click.
    await expect.poll(() => state(first), { message: failureContext() }).toBe('idle');
    expect(await first.textContent('#token')).toBe('—');
    expect(await first.textContent('#refresh-token')).toBe('—');
    expect(await first.textContent('#tags')).not.toContain('signedIn');
    expect(await stored(first, 'localStorage')).toBeNull();
    // RFC 7009: the logout revoked the grant at the provider.
    expect(await isActive(session?.tokens?.refreshToken)).toBe(false);
    await saveScreenshot(first, 'e2e-oidc-provider tabs signed out by the other tab');
    await saveScreenshot(second, 'e2e-oidc-provider tabs logged out');
  });
});
