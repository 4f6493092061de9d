/**
 * A single-page app built on `createBrowserAuth`, bundled for the browser,
 * in real Chromium against a real OpenID Provider (oidc-provider 8), all on
 * 127.0.0.1: the user clicks "log in", signs in and consents on the
 * provider's own pages, lands on /callback; the app redeems the code with a
 * cross-origin fetch (CORS), cleans the address bar, keeps the session across
 * a reload, and revokes it on logout.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeBrowser, saveScreenshot } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';
import { useSpaScenario } from './support/spaScenario.js';

const INDEX_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>spa</title><script type="module" src="/app.js"></script></head>
<body><p id="status">loading</p><button id="login">Log in</button><button id="logout">Log out</button></body></html>`;

const APP = `
import { createBrowserAuth } from './src/browser/index.js';

const config = await (await fetch('/config.json')).json();
const auth = createBrowserAuth({
  provider: config.provider,
  client: { clientId: config.clientId, redirectUri: location.origin + '/callback', scopes: ['openid', 'offline_access'] },
});
const status = document.getElementById('status');
const subjectOf = (tokens) => JSON.parse(atob(tokens.idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
const show = (tokens) => { status.textContent = tokens ? 'signed in as ' + subjectOf(tokens) : 'signed out'; };

window.app = {
  getAccessToken: () => auth.getAccessToken().then((t) => ({ ok: t }), (e) => ({ error: e.code })),
  getTokens: () => auth.getTokens(),
};
document.getElementById('login').addEventListener('click', () => { auth.login({ extraParams: { prompt: 'consent' } }); });
document.getElementById('logout').addEventListener('click', async () => {
  try { await auth.logout(); show(undefined); } catch (e) { status.textContent = 'logout failed: ' + e.code; }
});

// A reload of the cleaned /callback page has no parameters left: it is an ordinary page load.
if (location.pathname === '/callback' && location.search !== '') {
  try { show(await auth.handleCallback()); } catch (e) { console.error(e); status.textContent = 'callback failed: ' + e.code; }
} else {
  show(await auth.getTokens());
}
`;

describeBrowser('createBrowserAuth in Chromium against oidc-provider', () => {
  const spa = useSpaScenario({
    app: async (dir) => {
      await bundleForBrowser({ contents: APP, outdir: dir });
      await writeFile(join(dir, 'index.html'), INDEX_HTML);
    },
    tmpPrefix: 'oauth-machines-spa-',
  });

  beforeAll(async () => {
    const { op } = spa;
    // Endpoints written out rather than `{ issuer }` discovery in the page: oidc-provider answers the RFC 8414
    // probe (/.well-known/oauth-authorization-server) with a 404 that has no CORS headers, so in a browser
    // the probe is a network error, not a 404, and the library's 'auto' discovery never reaches OpenID's document.
    const provider = {
      issuer: op.issuer,
      authorizationEndpoint: `${op.issuer}/auth`,
      tokenEndpoint: `${op.issuer}/token`,
      revocationEndpoint: `${op.issuer}/token/revocation`,
      userinfoEndpoint: `${op.issuer}/me`,
      authorizationResponseIssParameterSupported: true,
      codeChallengeMethodsSupported: ['S256'],
    };
    await writeFile(join(spa.dir, 'config.json'), JSON.stringify({ provider, clientId: op.clients.public.clientId }));
  });

  /** Waits for the app's status line; on failure the page's console and errors go into the message (a browser failure is otherwise opaque). */
  async function waitForStatus(expected: string): Promise<void> {
    try {
      await expect.poll(() => spa.browser.page.textContent('#status')).toBe(expected);
    } catch (error) {
      throw new Error(`${String(error)}\npage logs:\n${spa.browser.logs.join('\n')}`);
    }
  }

  it('logs in through the provider pages, cleans the address bar, survives a reload, and logs out', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await waitForStatus('signed out');

    await page.click('#login');
    await spa.logInAndConsent(page);
    await waitForStatus('signed in as alice');
    await saveScreenshot(page, 'browser e2e signed in');
    // The code, state and iss are gone from the address bar (and so from history).
    expect(new URL(page.url()).search).toBe('');

    const first = (await page.evaluate(() => (window as unknown as AppWindow).app.getAccessToken())) as TokenAnswer;
    expect(first.ok).toEqual(expect.any(String));

    await page.reload();
    await waitForStatus('signed in as alice');
    const afterReload = (await page.evaluate(() => (window as unknown as AppWindow).app.getAccessToken())) as TokenAnswer;
    expect(afterReload.ok).toBe(first.ok);

    const tokens = (await page.evaluate(() => (window as unknown as AppWindow).app.getTokens())) as { refreshToken?: string };
    expect(await spa.isActive(tokens.refreshToken)).toBe(true);
    await page.click('#logout');
    await waitForStatus('signed out');
    // Logout revoked the session at the provider (RFC 7009), from the page, through CORS.
    expect(await spa.isActive(tokens.refreshToken)).toBe(false);
    const afterLogout = (await page.evaluate(() => (window as unknown as AppWindow).app.getAccessToken())) as TokenAnswer;
    expect(afterLogout.error).toBe('login_required');

    // Only the provider pages' web font was refused: everything the app needed was on loopback.
    expect(spa.browser.blocked.every((url) => new URL(url).hostname === 'fonts.googleapis.com')).toBe(true);
  });

  it('rejects a forged callback while a login is pending, and still cleans the address bar', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await waitForStatus('signed out');
    await page.click('#login');
    await page.waitForURL(`${spa.op.issuer}/interaction/**`);
    // An attacker's link to the callback, with their own code and a state this browser never made.
    await page.goto(`${spa.site.origin}/callback?code=attacker-code&state=forged&iss=${encodeURIComponent(spa.op.issuer)}`);
    await waitForStatus('callback failed: state_mismatch');
    expect(new URL(page.url()).search).toBe('');
  });
});

interface TokenAnswer {
  ok?: string;
  error?: string;
}

interface AppWindow {
  app: { getAccessToken(): Promise<TokenAnswer>; getTokens(): Promise<unknown> };
}
