/**
 * The React example (examples/react: React 19, `@xstate/react`'s
 * `useSelector` on `auth.actor`, StrictMode), built by its own build script,
 * in real Chromium against oidc-provider 8 on 127.0.0.1: login on the
 * provider's pages, the callback redeemed once despite StrictMode's double
 * effects, refresh, logout, and a forged callback's typed error — every one
 * of them shown by React re-rendering from the actor.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeBrowser, saveScreenshot } from './support/browser.js';
import { useSpaScenario } from './support/spaScenario.js';

describeBrowser('the React example in Chromium against oidc-provider', () => {
  const spa = useSpaScenario({ app: 'react', tmpPrefix: 'oauth-machines-react-', signOutBeforeEach: true });
  // OpenID Connect Core §11: oidc-provider grants offline_access (a refresh token) only with prompt=consent.
  beforeAll(() => spa.configure({ extraParams: { prompt: 'consent' } }));

  const storedRefreshToken = async (page: Page): Promise<string | undefined> =>
    (await spa.stored(page, 'sessionStorage'))?.tokens?.refreshToken;

  it('is rendered by React from the actor: login on the provider pages, one code exchange under StrictMode, refresh, logout', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    // The page is React's: index.html has only a placeholder in #root, replaced by the rendered app.
    expect(await readFile(join(spa.dir, 'index.html'), 'utf8')).not.toContain('data-testid="state"');
    expect(await page.getAttribute('#root > main', 'data-renderer')).toBe('react');
    expect(await page.textContent('#tags')).toContain('ready');
    expect(await page.locator('#error').count()).toBe(0);
    const exchanges = spa.tokenRequests('authorization_code').length;

    await page.click('#login');
    await spa.logInAndConsent(page);
    await expect.poll(() => spa.state(page), { timeout: 10_000, message: spa.failureContext() }).toBe('authenticated');
    expect(await page.textContent('#tags')).toContain('signedIn');
    expect(await page.textContent('#token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(await page.textContent('#refresh-token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(page.url()).toBe(`${spa.site.origin}/callback`);
    // StrictMode mounted the callback effect twice; the helper shared one exchange, and the server saw one.
    expect(spa.tokenRequests('authorization_code').slice(exchanges).map((request) => request.status)).toEqual([200]);
    expect(await page.locator('#error').count()).toBe(0);
    await saveScreenshot(page, 'react signed in');

    const before = await storedRefreshToken(page);
    const shown = await page.textContent('#token');
    const refreshes = spa.tokenRequests('refresh_token').length;
    await page.click('#refresh');
    await expect.poll(() => page.textContent('#token'), { message: spa.failureContext() }).not.toBe(shown);
    await expect.poll(() => spa.state(page)).toBe('authenticated');
    const after = await storedRefreshToken(page);
    expect(after).not.toBe(before);
    expect(spa.tokenRequests('refresh_token').slice(refreshes).map((request) => request.status)).toEqual([200]);
    expect(await spa.isActive(before)).toBe(false);
    expect(await spa.isActive(after)).toBe(true);
    await saveScreenshot(page, 'react refreshed');

    await page.click('#logout');
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    expect(await page.textContent('#token')).toBe('—');
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    expect(await spa.isActive(after)).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('oauth-machines'))).toBeNull();
    await saveScreenshot(page, 'react signed out');
    // React's development build reports misuse (keys, effects, updates after unmount) on the console: none here.
    // The discovery probe's CORS failure is expected (docs/e2e.md) and logged by Chromium itself.
    const complaints = spa.browser.logs.filter(
      (line) => /^(error|warning|pageerror):/.test(line) && !/Failed to load resource|blocked by CORS policy/.test(line),
    );
    expect(complaints).toEqual([]);
  });

  it('renders the typed state_mismatch error of a forged callback while a login is pending, and cleans the address bar', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    const exchanges = spa.tokenRequests('authorization_code').length;
    await page.click('#login');
    await page.waitForURL(`${spa.op.issuer}/interaction/**`);
    // An attacker's link back to the app, with their own code and a state this browser never made.
    await page.goto(`${spa.site.origin}/callback?code=attacker-code&state=forged&iss=${encodeURIComponent(spa.op.issuer)}&keep=1`);
    await expect.poll(() => page.getAttribute('#error', 'data-code'), { message: spa.failureContext() }).toBe('state_mismatch');
    expect(await page.textContent('#error')).toMatch(/^state_mismatch/);
    expect(await page.getAttribute('#error', 'role')).toBe('alert');
    expect(page.url()).toBe(`${spa.site.origin}/callback?keep=1`);
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    // The forged code never reached the token endpoint.
    expect(spa.tokenRequests('authorization_code')).toHaveLength(exchanges);
    await saveScreenshot(page, 'react forged callback');

    // The attacker's link did not cancel the user's login: it is still pending, its own callback may still come.
    await page.goto(`${spa.site.origin}/`);
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('awaitingCallback');
    // The user gives up on it; the example's own "forged callback" link, with no login under way, is refused too.
    await page.click('#logout');
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    await page.click('#forge');
    // Nothing pending in this tab: the typed error says so.
    await expect.poll(() => page.getAttribute('#error', 'data-code'), { message: spa.failureContext() }).toBe('pending_missing');
    expect(new URL(page.url()).search).toBe('');
    expect(spa.tokenRequests('authorization_code')).toHaveLength(exchanges);
  });
});
