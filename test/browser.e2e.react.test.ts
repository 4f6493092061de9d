/**
 * The React example (examples/react: React 19, `@xstate/react`'s
 * `useSelector` on `auth.actor`, StrictMode), built by its own build script,
 * in real Chromium against oidc-provider 8 on 127.0.0.1: login on the
 * provider's pages, the callback redeemed once despite StrictMode's double
 * effects, refresh, logout, and a forged callback's typed error — every one
 * of them shown by React re-rendering from the actor.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeBrowser, launchBrowser, saveScreenshot, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';
import { startOidcProvider, type ProviderRequest, type StartedOidcProvider } from './support/oidcProvider.js';

const run = promisify(execFile);

describeBrowser('the React example in Chromium against oidc-provider', () => {
  let dir: string;
  let site: StaticServer;
  let op: StartedOidcProvider;
  let browser: LaunchedBrowser;
  const requests: ProviderRequest[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-react-'));
    await run(process.execPath, ['examples/react/build.mjs', '--outdir', dir, '--no-minify']);
    site = await serveStatic(dir);
    op = await startOidcProvider({ redirectUris: [`${site.origin}/callback`], onRequest: (request) => void requests.push(request) });
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({
        issuer: op.issuer,
        clientId: op.clients.public.clientId,
        redirectUri: `${site.origin}/callback`,
        scopes: ['openid', 'offline_access'],
        // OpenID Connect Core §11: oidc-provider grants offline_access (a refresh token) only with prompt=consent.
        extraParams: { prompt: 'consent' },
      }),
    );
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await op?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
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
  const tokenRequests = (grantType: string): ProviderRequest[] =>
    requests.filter((request) => request.method === 'POST' && request.path === '/token' && request.grantType === grantType);

  async function storedRefreshToken(page: Page): Promise<string | undefined> {
    const text = await page.evaluate(() => sessionStorage.getItem('oauth-machines'));
    return text === null ? undefined : (JSON.parse(text) as { tokens?: { refreshToken?: string } }).tokens?.refreshToken;
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

  it('is rendered by React from the actor: login on the provider pages, one code exchange under StrictMode, refresh, logout', async () => {
    const { page } = browser;
    await page.goto(`${site.origin}/`);
    await expect.poll(() => state(page), { message: failureContext() }).toBe('idle');
    // The page is React's: index.html has only a placeholder in #root, replaced by the rendered app.
    expect(await readFile(join(dir, 'index.html'), 'utf8')).not.toContain('data-testid="state"');
    expect(await page.getAttribute('#root > main', 'data-renderer')).toBe('react');
    expect(await page.textContent('#tags')).toContain('ready');
    expect(await page.locator('#error').count()).toBe(0);
    const exchanges = tokenRequests('authorization_code').length;

    await page.click('#login');
    await page.waitForURL(`${op.issuer}/interaction/**`);
    await page.fill('input[name=login]', 'alice');
    await page.fill('input[name=password]', 'pw');
    await page.click('button[type=submit]');
    // prompt=consent: the consent page always follows the login.
    await page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' });
    await page.click('button[type=submit]');

    await page.waitForURL(`${site.origin}/callback**`);
    await expect.poll(() => state(page), { timeout: 10_000, message: failureContext() }).toBe('authenticated');
    expect(await page.textContent('#tags')).toContain('signedIn');
    expect(await page.textContent('#token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(await page.textContent('#refresh-token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(page.url()).toBe(`${site.origin}/callback`);
    // StrictMode mounted the callback effect twice; the helper shared one exchange, and the server saw one.
    expect(tokenRequests('authorization_code').slice(exchanges).map((request) => request.status)).toEqual([200]);
    expect(await page.locator('#error').count()).toBe(0);
    await saveScreenshot(page, 'react signed in');

    const before = await storedRefreshToken(page);
    const shown = await page.textContent('#token');
    const refreshes = tokenRequests('refresh_token').length;
    await page.click('#refresh');
    await expect.poll(() => page.textContent('#token'), { message: failureContext() }).not.toBe(shown);
    await expect.poll(() => state(page)).toBe('authenticated');
    const after = await storedRefreshToken(page);
    expect(after).not.toBe(before);
    expect(tokenRequests('refresh_token').slice(refreshes).map((request) => request.status)).toEqual([200]);
    expect(await isActive(before)).toBe(false);
    expect(await isActive(after)).toBe(true);
    await saveScreenshot(page, 'react refreshed');

    await page.click('#logout');
    await expect.poll(() => state(page), { message: failureContext() }).toBe('idle');
    expect(await page.textContent('#token')).toBe('—');
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    expect(await isActive(after)).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('oauth-machines'))).toBeNull();
    await saveScreenshot(page, 'react signed out');
    // React's development build reports misuse (keys, effects, updates after unmount) on the console: none here.
    // The discovery probe's CORS failure is expected (docs/e2e.md) and logged by Chromium itself.
    const complaints = browser.logs.filter(
      (line) => /^(error|warning|pageerror):/.test(line) && !/Failed to load resource|blocked by CORS policy/.test(line),
    );
    expect(complaints).toEqual([]);
  });

  it('renders the typed state_mismatch error of a forged callback while a login is pending, and cleans the address bar', async () => {
    const { page } = browser;
    await page.goto(`${site.origin}/`);
    await expect.poll(() => state(page), { message: failureContext() }).toBe('idle');
    const exchanges = tokenRequests('authorization_code').length;
    await page.click('#login');
    await page.waitForURL(`${op.issuer}/interaction/**`);
    // An attacker's link back to the app, with their own code and a state this browser never made.
    await page.goto(`${site.origin}/callback?code=attacker-code&state=forged&iss=${encodeURIComponent(op.issuer)}&keep=1`);
    await expect.poll(() => page.getAttribute('#error', 'data-code'), { message: failureContext() }).toBe('state_mismatch');
    expect(await page.textContent('#error')).toMatch(/^state_mismatch/);
    expect(await page.getAttribute('#error', 'role')).toBe('alert');
    expect(page.url()).toBe(`${site.origin}/callback?keep=1`);
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    // The forged code never reached the token endpoint.
    expect(tokenRequests('authorization_code')).toHaveLength(exchanges);
    await saveScreenshot(page, 'react forged callback');

    // The example's own "forged callback" link, from a page with no login under way, is refused too.
    await page.goto(`${site.origin}/`);
    await expect.poll(() => state(page)).toBe('idle');
    await page.click('#forge');
    // Nothing pending in this tab (the previous attempt was spent): the typed error says so.
    await expect.poll(() => page.getAttribute('#error', 'data-code'), { message: failureContext() }).toBe('pending_missing');
    expect(new URL(page.url()).search).toBe('');
    expect(tokenRequests('authorization_code')).toHaveLength(exchanges);
  });
});
