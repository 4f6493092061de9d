/**
 * The React example (examples/react: React 19, `oauth-machines/react`'s
 * `AuthProvider`, `useAuth`, `useAccessToken`, `RequireAuth`, in
 * StrictMode), built by its own build script, in real Chromium against
 * oidc-provider 8 on 127.0.0.1: the suite every framework example passes
 * (login on the provider's pages, one code exchange despite StrictMode's
 * double effects, refresh, logout, a forged callback's typed error), then
 * the guard and the renewal timer under StrictMode.
 */
import { expect, it } from 'vitest';
import { describeBrowser, saveScreenshot } from './support/browser.js';
import { useFrameworkExample } from './support/exampleSuite.js';

describeBrowser('the React example in Chromium against oidc-provider', () => {
  const spa = useFrameworkExample({ app: 'react', renderer: 'react', name: 'react' });

  it('guards /protected: a signed-out visitor is sent to the provider once, and the guarded part shows after login', async () => {
    const { page } = spa.browser;
    const authorizations = (): number => spa.requests.filter((request) => request.method === 'GET' && request.path === '/auth').length;
    const before = authorizations();
    await page.goto(`${spa.site.origin}/protected`);
    // StrictMode mounted the guard's effect twice: one authorization request left the browser.
    await page.waitForURL(`${spa.op.issuer}/interaction/**`);
    expect(authorizations() - before).toBe(1);
    await spa.logInAndConsent(page);
    await expect.poll(() => page.textContent('#status'), { timeout: 10_000, message: spa.failureContext() }).toBe('signedIn');
    await page.goto(`${spa.site.origin}/protected`);
    await expect.poll(() => page.textContent('#profile'), { message: spa.failureContext() }).toContain('alice');
    expect(authorizations() - before).toBe(1);
    await saveScreenshot(page, 'react protected');
  });

  it('renews once under StrictMode: with the page clock moved past the renewal time, one refresh reaches the provider', async () => {
    const page = await spa.browser.context.newPage();
    // The machine's renewal timer runs on the page's clock: install a fake one before the app loads.
    await page.clock.install();
    await spa.logIn(page);
    const shown = await page.textContent('#token');
    const refreshes = spa.tokenRequests('refresh_token').length;
    // oidc-provider's access tokens live an hour: the renewal is due at expiry minus the minute of skew. (Not
    // later: the provider's new ID token must still be valid by the page's clock.)
    await page.clock.fastForward('59:10');
    await expect.poll(() => page.textContent('#token'), { message: spa.failureContext() }).not.toBe(shown);
    await expect.poll(() => spa.state(page)).toBe('authenticated');
    // Ten more minutes: the new tokens are not due yet, and no second timer fires.
    await page.clock.fastForward('10:00');
    await page.waitForTimeout(200);
    expect(spa.tokenRequests('refresh_token').slice(refreshes).map((request) => request.status)).toEqual([200]);
  });
});
