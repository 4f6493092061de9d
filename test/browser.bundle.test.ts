/**
 * The library's protocol layer, bundled for the browser with esbuild, runs
 * in real Chromium on a loopback origin: WebCrypto PKCE there gives the
 * challenge RFC 7636 prescribes (checked with node:crypto here), and a
 * bundle that reaches a Node built-in is refused.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchBrowser, serveStatic } from './support/browser.js';
import type { LaunchedBrowser, StaticServer } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';

const ENTRY = `
import { createPkce, buildAuthorizationUrl, parseCallback } from './src/protocol/index.js';
import { webCrypto } from './src/services/webCrypto.js';

const crypto = webCrypto();
const results = [];
for (let i = 0; i < 5; i++) results.push(await createPkce(crypto));
const url = buildAuthorizationUrl(
  { issuer: location.origin, authorizationEndpoint: location.origin + '/auth', tokenEndpoint: location.origin + '/token' },
  { clientId: 'spa', redirectUri: location.origin + '/callback', scopes: ['openid'] },
  { state: 'st', codeChallenge: results[0].challenge, codeChallengeMethod: 'S256' },
);
const callback = parseCallback(location.href);
window.pkceResults = { pkce: results, authorizationUrl: url, callback };
`;

describeBrowser('the protocol bundled for Chromium', () => {
  let dir: string;
  let site: StaticServer;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-bundle-'));
    await bundleForBrowser({ contents: ENTRY, outdir: dir });
    await writeFile(join(dir, 'index.html'), '<!DOCTYPE html><script type="module" src="/app.js"></script>');
    site = await serveStatic(dir);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates S256 PKCE pairs in the page whose challenge is the base64url SHA-256 of the verifier', async () => {
    await browser.page.goto(`${site.origin}/callback?code=c1&state=st`);
    const results = (await browser.page.waitForFunction(() => (window as unknown as { pkceResults?: unknown }).pkceResults)
      .then((handle) => handle.jsonValue())) as {
      pkce: Array<{ verifier: string; challenge: string; method: string }>;
      authorizationUrl: string;
      callback: { type: string; code?: string; state?: string };
    };
    expect(results.pkce).toHaveLength(5);
    for (const { verifier, challenge, method } of results.pkce) {
      expect(method).toBe('S256');
      expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
      expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
    expect(new Set(results.pkce.map((p) => p.verifier)).size).toBe(5);
    expect(new URL(results.authorizationUrl).searchParams.get('code_challenge')).toBe(results.pkce[0]?.challenge);
    expect(results.callback).toMatchObject({ type: 'success', code: 'c1', state: 'st' });
    expect(browser.blocked).toEqual([]);
  });

  it('refuses to bundle an entry that reaches a Node built-in', async () => {
    await expect(
      bundleForBrowser({ contents: "import { createServer } from 'node:http'; console.log(createServer);", outdir: join(dir, 'refused') }),
    ).rejects.toThrow(/node:http/);
  });
});
