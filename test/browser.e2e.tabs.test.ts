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
import { expect, it } from 'vitest';
import { describeBrowser, saveScreenshot } from './support/browser.js';
import type { ProviderRequest } from './support/oidcProvider.js';
import { expectOverlappingRefreshesAdopted, useSpaScenario } from './support/spaScenario.js';

/** Rounds of overlapping refreshes: each one must send exactly one refresh request. */
const ROUNDS = 10;

describeBrowser('the vanilla SPA in Chromium against oidc-provider: refresh and two tabs', () => {
  // Every test starts in one tab, signed out everywhere: no app storage, no provider session cookie.
  // The example's login sends no prompt=consent, which oidc-provider needs before it grants offline_access.
  const spa = useSpaScenario({ app: 'spa-vanilla', tmpPrefix: 'oauth-machines-tabs-', refreshTokensForPublicClient: true, signOutBeforeEach: true });

  const refreshRequests = (): ProviderRequest[] => spa.tokenRequests('refresh_token');

  it('refreshes on the button: a new access token, the rotated refresh token in sessionStorage, the old one inactive at the provider', async () => {
    await spa.configure({ storage: 'session' });
    const { page } = spa.browser;
    await spa.logIn(page);
    const before = await spa.stored(page, 'sessionStorage');
    expect(before?.tokens?.refreshToken).toEqual(expect.any(String));
    expect(await spa.isActive(before?.tokens?.refreshToken)).toBe(true);
    const shownBefore = await page.textContent('#token');
    const refreshes = refreshRequests().length;

    await page.click('#refresh');
    await expect.poll(() => page.textContent('#token'), { message: spa.failureContext() }).not.toBe(shownBefore);
    await expect.poll(() => spa.state(page)).toBe('authenticated');

    const after = await spa.stored(page, 'sessionStorage');
    expect(after?.tokens?.accessToken).not.toBe(before?.tokens?.accessToken);
    expect(after?.tokens?.refreshToken).toEqual(expect.any(String));
    expect(after?.tokens?.refreshToken).not.toBe(before?.tokens?.refreshToken);
    expect(refreshRequests()).toHaveLength(refreshes + 1);
    expect(refreshRequests().at(-1)?.status).toBe(200);
    // Rotation (RFC 9700 §4.14.2): the spent refresh token is dead, its successor alive.
    expect(await spa.isActive(before?.tokens?.refreshToken)).toBe(false);
    expect(await spa.isActive(after?.tokens?.refreshToken)).toBe(true);
    expect(await spa.isActive(after?.tokens?.accessToken)).toBe(true);
    // The session survives a reload with the rotated tokens.
    await page.reload();
    await expect.poll(() => spa.state(page)).toBe('authenticated');
    expect((await spa.stored(page, 'sessionStorage'))?.tokens?.refreshToken).toBe(after?.tokens?.refreshToken);
    await saveScreenshot(page, 'e2e-oidc-provider refreshed');
  });

  it('a refresh in one tab reaches the other with one refresh request, and the other tab then spends the new refresh token', async () => {
    await spa.configure({ storage: 'local' });
    const first = spa.browser.page;
    await spa.logIn(first);
    const second = await spa.openTab();
    const shown = await first.textContent('#token');
    expect(await second.textContent('#token')).toBe(shown);
    const original = await spa.stored(first, 'localStorage');
    const refreshes = refreshRequests().length;

    await first.click('#refresh');
    await expect.poll(() => first.textContent('#token'), { message: spa.failureContext() }).not.toBe(shown);
    const refreshed = await first.textContent('#token');
    // The second tab shows the new tokens without a reload, and asked the server for nothing.
    await expect.poll(() => second.textContent('#token'), { message: spa.failureContext() }).toBe(refreshed);
    expect(await second.textContent('#refresh-token')).toBe(await first.textContent('#refresh-token'));
    expect(refreshRequests()).toHaveLength(refreshes + 1);
    const rotated = await spa.stored(second, 'localStorage');
    expect(rotated?.tokens?.refreshToken).not.toBe(original?.tokens?.refreshToken);

    // Had the second tab kept the old refresh token, spending it would be reuse: oidc-provider would revoke the
    // whole grant and answer invalid_grant. Its refresh succeeding proves it holds the rotated one.
    await second.click('#refresh');
    await expect.poll(() => second.textContent('#token'), { message: spa.failureContext() }).not.toBe(refreshed);
    await expect.poll(() => first.textContent('#token')).toBe(await second.textContent('#token'));
    expect(await spa.state(second)).toBe('authenticated');
    expect(refreshRequests().slice(refreshes).map((request) => request.status)).toEqual([200, 200]);
    expect(await spa.isActive((await spa.stored(first, 'localStorage'))?.tokens?.refreshToken)).toBe(true);
    await saveScreenshot(first, 'e2e-oidc-provider tabs refreshed first tab');
    await saveScreenshot(second, 'e2e-oidc-provider tabs refreshed second tab');
  });

  /**
   * The same scenario with storage 'local', where each tab's copy of localStorage lags behind the other
   * tab's writes, runs 60 rounds in test/browser.e2e.tabs.localLock.test.ts.
   */
  it('with sessionStorage, a tab told to refresh while the other tab is refreshing waits and adopts its tokens: one refresh request, round after round', () =>
    expectOverlappingRefreshesAdopted(spa, { storage: 'session', rounds: ROUNDS }));

  it('logout in one tab revokes the session and signs the other tab out without a reload', async () => {
    await spa.configure({ storage: 'local' });
    const first = spa.browser.page;
    await spa.logIn(first);
    const second = await spa.openTab();
    const session = await spa.stored(first, 'localStorage');
    expect(await spa.isActive(session?.tokens?.refreshToken)).toBe(true);

    await second.click('#logout');
    await expect.poll(() => spa.state(second), { message: spa.failureContext() }).toBe('idle');
    // The first tab follows on its own: no reload, no click.
    await expect.poll(() => spa.state(first), { message: spa.failureContext() }).toBe('idle');
    expect(await first.textContent('#token')).toBe('—');
    expect(await first.textContent('#refresh-token')).toBe('—');
    expect(await first.textContent('#tags')).not.toContain('signedIn');
    expect(await spa.stored(first, 'localStorage')).toBeNull();
    // RFC 7009: the logout revoked the grant at the provider.
    expect(await spa.isActive(session?.tokens?.refreshToken)).toBe(false);
    await saveScreenshot(first, 'e2e-oidc-provider tabs signed out by the other tab');
    await saveScreenshot(second, 'e2e-oidc-provider tabs logged out');
  });
});
