/**
 * ID-token signatures in Chromium: a single-page app on `createBrowserAuth`,
 * bundled for the browser, against oidc-provider 8 on 127.0.0.1, with the
 * provider's `jwksUri`. The page reads the key set (cross-origin) and
 * verifies the ID token's RS256 signature with `jose` in the browser's
 * WebCrypto before it shows the user signed in; an ID token whose signature
 * was altered on the way is refused with `invalid_id_token` and no session.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeBrowser } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';
import { useSpaScenario } from './support/spaScenario.js';

const INDEX_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>spa</title><script type="module" src="/app.js"></script></head>
<body><p id="status">loading</p><button id="login">Log in</button></body></html>`;

// The app's fetch counts the key-set reads and, when the page was opened with #tamper, alters one character
// of the ID token's signature in the token response: what a compromised path to the token endpoint could do.
const APP = `
import { createBrowserAuth } from './src/browser/index.js';

const config = await (await fetch('/config.json')).json();
const tamper = sessionStorage.getItem('tamper') === 'yes';
window.jwksReads = Number(sessionStorage.getItem('jwksReads') ?? '0');
const appFetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  if (url.endsWith('/jwks')) sessionStorage.setItem('jwksReads', String(++window.jwksReads));
  const response = await fetch(input, init);
  if (!tamper || !url.endsWith('/token') || !response.ok) return response;
  const body = await response.json();
  const [header, payload, signature] = body.id_token.split('.');
  body.id_token = header + '.' + payload + '.' + signature.slice(0, 5) + (signature[5] === 'A' ? 'B' : 'A') + signature.slice(6);
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
};
const auth = createBrowserAuth({
  provider: config.provider,
  client: { clientId: config.clientId, redirectUri: location.origin + '/callback', scopes: ['openid'] },
  services: { fetch: appFetch },
});
const status = document.getElementById('status');
const subjectOf = (tokens) => JSON.parse(atob(tokens.idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
document.getElementById('login').addEventListener('click', () => { auth.login(); });
if (location.pathname === '/callback' && location.search !== '') {
  try { const tokens = await auth.handleCallback(); status.textContent = 'signed in as ' + subjectOf(tokens); }
  catch (e) { status.textContent = 'callback failed: ' + e.code + (await auth.getTokens() === undefined ? ', no session' : ', a session'); }
} else {
  status.textContent = 'signed out';
}
`;

describeBrowser('ID-token signatures in Chromium against oidc-provider', () => {
  const spa = useSpaScenario({
    app: async (dir) => {
      await bundleForBrowser({ contents: APP, outdir: dir });
      await writeFile(join(dir, 'index.html'), INDEX_HTML);
    },
    tmpPrefix: 'oauth-machines-spa-jose-',
    signOutBeforeEach: true,
  });

  beforeAll(async () => {
    const { op } = spa;
    // Endpoints written out (the browser cannot run 'auto' discovery against oidc-provider: see
    // browser.e2e.oidcProvider.test.ts), with the key set's URL as discovery would give it.
    const provider = {
      issuer: op.issuer,
      authorizationEndpoint: `${op.issuer}/auth`,
      tokenEndpoint: `${op.issuer}/token`,
      jwksUri: `${op.issuer}/jwks`,
      idTokenSigningAlgValuesSupported: ['RS256'],
      authorizationResponseIssParameterSupported: true,
    };
    await writeFile(join(spa.dir, 'config.json'), JSON.stringify({ provider, clientId: op.clients.public.clientId }));
  });

  async function waitForStatus(expected: string): Promise<void> {
    try {
      await expect.poll(() => spa.browser.page.textContent('#status'), { timeout: 10_000 }).toBe(expected);
    } catch (error) {
      throw new Error(`${String(error)}\npage logs:\n${spa.browser.logs.join('\n')}`);
    }
  }

  it('verifies the ID token signature against the provider key set before signing the user in', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await page.evaluate(() => sessionStorage.setItem('tamper', 'no'));
    await waitForStatus('signed out');
    await page.click('#login');
    await spa.logInAndConsent(page);
    await waitForStatus('signed in as alice');
    expect(await page.evaluate(() => sessionStorage.getItem('jwksReads'))).toBe('1');
  });

  it('refuses an ID token whose signature was altered on the way, and keeps no session', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await page.evaluate(() => sessionStorage.setItem('tamper', 'yes'));
    await page.reload();
    await waitForStatus('signed out');
    await page.click('#login');
    await spa.logInAndConsent(page);
    await waitForStatus('callback failed: invalid_id_token, no session');
  });
});
