/**
 * The vanilla SPA example (examples/spa-vanilla), bundled by its own build
 * script, in real Chromium against the test authorization server on
 * loopback: real sessionStorage, Web Locks, BroadcastChannel, history and
 * navigation.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestAuthorizationServer, type ListeningServer, type TestAuthorizationServer } from '../src/testing/index.js';
import { describeBrowser, launchBrowser, saveScreenshot, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';

const run = promisify(execFile);

describeBrowser('the vanilla SPA example in Chromium', () => {
  let dir: string;
  let site: StaticServer;
  let server: TestAuthorizationServer;
  let listening: ListeningServer;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-spa-'));
    await run(process.execPath, ['examples/spa-vanilla/build.mjs', '--outdir', dir, '--no-minify']);
    site = await serveStatic(dir);
    server = createTestAuthorizationServer();
    listening = await server.listen();
    server.registerClient({
      clientId: 'spa',
      authMethod: 'none',
      redirectUris: [`${site.origin}/callback`],
      grants: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'offline_access'],
    });
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ issuer: listening.issuer, clientId: 'spa', redirectUri: `${site.origin}/callback`, scopes: ['openid', 'offline_access'] }),
    );
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await listening?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // Every test starts signed out, in one tab with empty storage.
    for (const page of browser.context.pages().slice(1)) await page.close();
    await browser.page.goto(`${site.origin}/`);
    await browser.page.evaluate(() => {
      sessionStorage.clear();
      localStorage.clear();
    });
    await browser.page.goto(`${site.origin}/`);
    await expect.poll(() => browser.page.textContent('#state')).toBe('idle');
  });

  const state = (page: Page) => page.textContent('#state');
  const failureContext = () => browser.logs.join('\n');

  async function logIn(page: Page): Promise<void> {
    await page.click('#login');
    await expect.poll(() => state(page), { timeout: 10_000, message: failureContext() }).toBe('authenticated');
  }

  it('logs in through the server and back, with the callback parameters gone from the address bar and no whole token on the page', async () => {
    await logIn(browser.page);
    expect(browser.page.url()).toBe(`${site.origin}/callback`);
    const accessTokens = server.issuedTokens().filter((token) => token.kind === 'access_token');
    expect(accessTokens).toHaveLength(1);
    const html = await browser.page.content();
    expect(html).not.toContain(accessTokens[0]?.token);
    expect(await browser.page.textContent('#token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(await browser.page.textContent('#tags')).toContain('signedIn');
    await saveScreenshot(browser.page, 'spa-vanilla signed in');
  });

  it('refreshes on the button, and a second tab joins the session and follows the refresh and the logout', async () => {
    await logIn(browser.page);
    const second = await browser.context.newPage();
    await second.goto(`${site.origin}/`);
    // sessionStorage is per tab: the new tab gets the session from the open one.
    await expect.poll(() => state(second), { message: failureContext() }).toBe('authenticated');
    const before = await second.textContent('#token');
    expect(await browser.page.textContent('#token')).toBe(before);

    const refreshes = server.tokenRequests('refresh_token').length;
    await browser.page.click('#refresh');
    await expect.poll(() => browser.page.textContent('#token')).not.toBe(before);
    await expect.poll(() => second.textContent('#token')).toBe(await browser.page.textContent('#token'));
    expect(server.tokenRequests('refresh_token')).toHaveLength(refreshes + 1);

    await second.click('#logout');
    await expect.poll(() => state(second)).toBe('idle');
    await expect.poll(() => state(browser.page)).toBe('idle');
    expect(await browser.page.textContent('#token')).toBe('—');
    expect(await browser.page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('shows state_mismatch for a forged callback while a login is pending, and cleans the address bar', async () => {
    const exchanges = server.tokenRequests('authorization_code').length;
    // The user is at the authorization server (which here shows a page and never redirects) …
    await browser.page.route(`${listening.url}/**`, (route) =>
      route.request().url().includes('/authorize') ? route.fulfill({ contentType: 'text/html', body: '<p>consent</p>' }) : route.fallback(),
    );
    await browser.page.click('#login');
    await browser.page.waitForURL(`${listening.url}/**`);
    await browser.page.unroute(`${listening.url}/**`);
    // … when a link planted elsewhere brings them back with someone else's code.
    await browser.page.goto(`${site.origin}/callback?code=attacker-code&state=attacker-state&keep=1`);
    await expect.poll(() => browser.page.getAttribute('#error', 'data-code'), { message: failureContext() }).toBe('state_mismatch');
    expect(browser.page.url()).toBe(`${site.origin}/callback?keep=1`);
    expect(server.tokenRequests('authorization_code')).toHaveLength(exchanges);
    await saveScreenshot(browser.page, 'spa-vanilla forged callback');
  });

  it('logs in through a popup window: the window hands the callback back, closes, and this page redeems it', async () => {
    const exchanges = server.tokenRequests('authorization_code').length;
    const [popup] = await Promise.all([browser.context.waitForEvent('page'), browser.page.click('#login-popup')]);
    await popup.waitForEvent('close', { timeout: 10_000 });
    await expect.poll(() => state(browser.page), { timeout: 10_000, message: failureContext() }).toBe('authenticated');
    // This page never left: no redirect, no callback parameters in its address bar.
    expect(browser.page.url()).toBe(`${site.origin}/`);
    expect(server.tokenRequests('authorization_code')).toHaveLength(exchanges + 1);
    expect(await browser.page.textContent('#token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
  });

  it('ends the login with popup_closed when the user closes the window before the provider answers', async () => {
    // The authorization server shows its page and waits for the user, who closes the window instead.
    await browser.context.route(`${listening.url}/**`, (route) =>
      route.request().url().includes('/authorize') ? route.fulfill({ contentType: 'text/html', body: '<p>consent</p>' }) : route.fallback(),
    );
    const [popup] = await Promise.all([browser.context.waitForEvent('page'), browser.page.click('#login-popup')]);
    await popup.waitForURL(`${listening.url}/**`);
    await popup.close();
    await browser.context.unroute(`${listening.url}/**`);
    await expect.poll(() => browser.page.getAttribute('#error', 'data-code'), { timeout: 10_000, message: failureContext() }).toBe('popup_closed');
    // The login was cancelled in the chart: the page is back at rest, with no login pending.
    await expect.poll(() => state(browser.page)).toBe('idle');
  });
});
