/**
 * The Chromium tests every UI-framework example passes (React, Vue,
 * Svelte), on the shared SPA scenario: each example is built once per test
 * file by its own build script, served on 127.0.0.1 and driven against
 * oidc-provider 8. The examples show the same page — `#state`, `#tags`,
 * `#status`, `#user`, `#token`, `#refresh-token`, `#error[data-code]`, the
 * buttons `#login`, `#refresh`, `#logout` and the link `#forge` — so one
 * suite drives them all: login on the provider's pages with one code
 * exchange, refresh, logout, and the typed error of a forged callback.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { saveScreenshot } from './browser.js';
import { useSpaScenario, type SpaExample, type SpaScenario } from './spaScenario.js';

export interface FrameworkExampleOptions {
  /** The example under `examples/`. */
  app: SpaExample;
  /** What its `<main data-renderer>` says: the framework rendered the page, not index.html. */
  renderer: string;
  /** Prefix of screenshot names and of the temporary directory. */
  name: string;
}

/**
 * The provider's endpoints written out in the example's `config.json` (from
 * its discovery document, read from Node): the examples render from the
 * first line on, so the actor must exist before discovery could finish.
 */
async function endpointsOf(spa: SpaScenario): Promise<Record<string, string>> {
  const response = await fetch(`${spa.op.issuer}/.well-known/openid-configuration`);
  const metadata = (await response.json()) as Record<string, unknown>;
  const endpoint = (name: string): string => {
    const value = metadata[name];
    if (typeof value !== 'string') throw new Error(`oidc-provider's metadata has no ${name}`);
    return value;
  };
  return {
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    revocationEndpoint: endpoint('revocation_endpoint'),
  };
}

/**
 * Registers the scenario (signed out before each test) and the tests every
 * framework example passes; returns the scenario for the file's own tests.
 * Call it in a `describeBrowser` body.
 */
export function useFrameworkExample(options: FrameworkExampleOptions): SpaScenario {
  const spa = useSpaScenario({ app: options.app, tmpPrefix: `oauth-machines-${options.name}-`, signOutBeforeEach: true });
  // OpenID Connect Core §11: oidc-provider grants offline_access (a refresh token) only with prompt=consent.
  beforeAll(async () => spa.configure({ ...(await endpointsOf(spa)), extraParams: { prompt: 'consent' } }));

  const storedRefreshToken = async (page: Page): Promise<string | undefined> =>
    (await spa.stored(page, 'sessionStorage'))?.tokens?.refreshToken;

  it('is rendered by the framework from the actor: login on the provider pages with one code exchange, refresh, logout', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    // The page is the framework's: index.html has only a placeholder, replaced by the rendered app.
    expect(await readFile(join(spa.dir, 'index.html'), 'utf8')).not.toContain('id="state"');
    expect(await page.getAttribute('main', 'data-renderer')).toBe(options.renderer);
    expect(await page.textContent('#tags')).toContain('ready');
    expect(await page.textContent('#status')).toBe('signedOut');
    expect(await page.locator('#error').count()).toBe(0);
    const exchanges = spa.tokenRequests('authorization_code').length;

    await page.click('#login');
    await spa.logInAndConsent(page);
    await expect.poll(() => spa.state(page), { timeout: 10_000, message: spa.failureContext() }).toBe('authenticated');
    expect(await page.textContent('#status')).toBe('signedIn');
    expect(await page.textContent('#tags')).toContain('signedIn');
    expect(await page.textContent('#user')).toBe('alice');
    expect(await page.textContent('#token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(await page.textContent('#refresh-token')).toMatch(/^.{4}….{2} \(\d+ chars\)$/);
    expect(page.url()).toBe(`${spa.site.origin}/callback`);
    // The callback was redeemed once: the server saw one code exchange.
    expect(spa.tokenRequests('authorization_code').slice(exchanges).map((request) => request.status)).toEqual([200]);
    expect(await page.locator('#error').count()).toBe(0);
    await saveScreenshot(page, `${options.name} signed in`);

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
    await saveScreenshot(page, `${options.name} refreshed`);

    await page.click('#logout');
    await expect.poll(() => spa.state(page), { message: spa.failureContext() }).toBe('idle');
    expect(await page.textContent('#status')).toBe('signedOut');
    expect(await page.textContent('#token')).toBe('—');
    expect(await page.textContent('#user')).toBe('—');
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    expect(await spa.isActive(after)).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('oauth-machines'))).toBeNull();
    await saveScreenshot(page, `${options.name} signed out`);
    // The frameworks' development builds report misuse on the console: none here.
    const complaints = spa.browser.logs.filter(
      (line) => /^(error|warning|pageerror):/.test(line) && !/Failed to load resource|blocked by CORS policy/.test(line),
    );
    expect(complaints).toEqual([]);
  });

  it('shows the typed state_mismatch error of a forged callback while a login is pending, and cleans the address bar', async () => {
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
    // Refused, and the real login goes on waiting for its own callback: an attacker's link cannot cancel it.
    expect(await page.textContent('#status')).toBe('awaitingCallback');
    expect(page.url()).toBe(`${spa.site.origin}/callback?keep=1`);
    expect(await page.textContent('#tags')).not.toContain('signedIn');
    // The forged code never reached the token endpoint.
    expect(spa.tokenRequests('authorization_code')).toHaveLength(exchanges);
    await saveScreenshot(page, `${options.name} forged callback`);

    // The example's own "forged callback" link is refused too; the pending login is still there after a reload.
    await page.goto(`${spa.site.origin}/`);
    await expect.poll(() => spa.state(page)).toBe('awaitingCallback');
    await page.click('#forge');
    await expect.poll(() => page.getAttribute('#error', 'data-code'), { message: spa.failureContext() }).toBe('state_mismatch');
    expect(new URL(page.url()).search).toBe('');
    expect(spa.tokenRequests('authorization_code')).toHaveLength(exchanges);
  });

  return spa;
}
