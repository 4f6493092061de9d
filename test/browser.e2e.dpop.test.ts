/**
 * A DPoP-bound session (RFC 9449) in real Chromium against oidc-provider 8
 * with its `dPoP` feature on, all on 127.0.0.1: the app gives
 * `createBrowserAuth` `services.dpop = dpop()`, whose keys go to IndexedDB in a browser.
 * The key pair lives in IndexedDB, its private key non-extractable; a reload
 * keeps the binding (the reloaded page signs with the same key, and the
 * provider accepts its proofs), and a refresh in a second tab spends the
 * key-bound refresh token with the same key.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeBrowser } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';
import { useSpaScenario } from './support/spaScenario.js';

const INDEX_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>dpop spa</title><script type="module" src="/app.js"></script></head>
<body><p id="status">loading</p><button id="login">Log in</button></body></html>`;

const APP = `
import { createBrowserAuth } from './src/browser/index.js';
import { dpop, indexedDbDpopKeyStore } from './src/index.js';

const config = await (await fetch('/config.json')).json();
// dpop()'s default key store in a browser is IndexedDB; the page reads the key back through a store of its own.
const keys = indexedDbDpopKeyStore();
const auth = createBrowserAuth({
  provider: config.provider,
  client: { clientId: config.clientId, redirectUri: location.origin + '/callback', scopes: ['openid', 'offline_access'] },
  services: { storage: 'local', dpop: dpop() },
});
const status = document.getElementById('status');
const show = (tokens) => { status.textContent = tokens ? 'signed in (' + tokens.tokenType + ')' : 'signed out'; };

const thumbprint = async (publicKey) => {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
  return btoa(String.fromCharCode(...digest)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
};

window.app = {
  getTokens: () => auth.getTokens(),
  refresh: () => auth.actor.send({ type: 'REFRESH' }),
  userinfo: async () => {
    const response = await auth.authorizedFetch(config.provider.userinfoEndpoint);
    return { status: response.status, body: response.ok ? await response.json() : await response.text() };
  },
  key: async () => {
    const key = await keys.get('oauth-machines:dpop');
    if (!key) return null;
    let exported = 'exported';
    try { await crypto.subtle.exportKey('jwk', key.privateKey); } catch (e) { exported = e.name; }
    return { alg: key.alg, extractable: key.privateKey.extractable, exported, jkt: await thumbprint(key.publicKey) };
  },
};
document.getElementById('login').addEventListener('click', () => { auth.login({ extraParams: { prompt: 'consent' } }); });

if (location.pathname === '/callback' && location.search !== '') {
  try { show(await auth.handleCallback()); } catch (e) { console.error(e); status.textContent = 'callback failed: ' + e.code; }
} else {
  show(await auth.getTokens());
}
auth.onTokenChange((tokens) => show(tokens));
`;

interface AppWindow {
  app: {
    getTokens(): Promise<{ accessToken: string; tokenType: string; refreshToken?: string } | undefined>;
    refresh(): void;
    userinfo(): Promise<{ status: number; body: unknown }>;
    key(): Promise<{ alg: string; extractable: boolean; exported: string; jkt: string } | null>;
  };
}

describeBrowser('a DPoP-bound session in Chromium against oidc-provider', () => {
  const spa = useSpaScenario({
    app: async (dir) => {
      await bundleForBrowser({ contents: APP, outdir: dir });
      await writeFile(join(dir, 'index.html'), INDEX_HTML);
    },
    tmpPrefix: 'oauth-machines-dpop-',
    configureProvider: (configuration) => {
      configuration.features = { ...configuration.features, dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => false } };
    },
  });

  beforeAll(async () => {
    const { op } = spa;
    // Endpoints written out: in a browser the RFC 8414 probe of discovery is a CORS failure (see browser.e2e.oidcProvider).
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

  async function waitForStatus(page: Page, expected: string): Promise<void> {
    try {
      await expect.poll(() => page.textContent('#status')).toBe(expected);
    } catch (error) {
      throw new Error(`${String(error)}\npage logs:\n${spa.browser.logs.join('\n')}`);
    }
  }

  const app = (page: Page) => ({
    tokens: () => page.evaluate(() => (window as unknown as AppWindow).app.getTokens()),
    key: () => page.evaluate(() => (window as unknown as AppWindow).app.key()),
    userinfo: () => page.evaluate(() => (window as unknown as AppWindow).app.userinfo()),
    refresh: () => page.evaluate(() => (window as unknown as AppWindow).app.refresh()),
  });

  it('keeps a non-extractable key in IndexedDB, survives a reload with its binding, and refreshes from another tab with the same key', async () => {
    const { page } = spa.browser;
    await page.goto(`${spa.site.origin}/`);
    await waitForStatus(page, 'signed out');
    await page.click('#login');
    await spa.logInAndConsent(page);
    await waitForStatus(page, 'signed in (DPoP)');

    const key = await app(page).key();
    expect(key).toMatchObject({ alg: 'ES256', extractable: false, exported: 'InvalidAccessError' });
    const tokens = await app(page).tokens();
    expect(tokens?.tokenType).toBe('DPoP');
    // The access token is bound to the key in IndexedDB (RFC 9449 §6: cnf.jkt).
    const introspection = await fetch(`${spa.op.issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens?.accessToken ?? '', client_id: spa.op.clients.post.clientId, client_secret: spa.op.clients.post.clientSecret }),
    }).then((response) => response.json() as Promise<{ active: boolean; cnf?: { jkt?: string } }>);
    expect(introspection).toMatchObject({ active: true, cnf: { jkt: key?.jkt } });
    expect(await app(page).userinfo()).toMatchObject({ status: 200, body: { sub: 'alice' } });

    // A reload: a new page, a new actor; the key comes back from IndexedDB, and the provider accepts its proofs.
    await page.reload();
    await waitForStatus(page, 'signed in (DPoP)');
    expect((await app(page).key())?.jkt).toBe(key?.jkt);
    expect(await app(page).userinfo()).toMatchObject({ status: 200, body: { sub: 'alice' } });

    // Another tab refreshes: the key-bound refresh token is spent with a proof of the same key.
    const second = await spa.browser.context.newPage();
    await second.goto(`${spa.site.origin}/`);
    await waitForStatus(second, 'signed in (DPoP)');
    await app(second).refresh();
    await expect.poll(async () => (await app(second).tokens())?.accessToken, { message: spa.failureContext() }).not.toBe(tokens?.accessToken);
    const refreshed = await app(second).tokens();
    expect(refreshed?.tokenType).toBe('DPoP');
    expect(spa.tokenRequests('refresh_token').at(-1)?.status).toBe(200);
    // The first tab takes the new tokens (tab sync) and calls the API with them, signing with the same key.
    await expect.poll(async () => (await app(page).tokens())?.accessToken).toBe(refreshed?.accessToken);
    expect(await app(page).userinfo()).toMatchObject({ status: 200, body: { sub: 'alice' } });
    await second.close();
  });
});
