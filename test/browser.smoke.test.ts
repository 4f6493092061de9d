/**
 * Proves the browser harness: Chromium runs a page that serveStatic serves
 * on 127.0.0.1, the loopback guard aborts anything else, screenshots land in
 * test-artifacts/. If this fails, a browser e2e failure says nothing about
 * the library.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchBrowser, saveScreenshot, serveStatic } from './support/browser.js';
import type { LaunchedBrowser, StaticServer } from './support/browser.js';

const INDEX_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>smoke</title><script type="module" src="/app.js"></script></head>
<body><h1 id="heading">waiting</h1></body></html>`;

const APP_JS = `
document.getElementById('heading').textContent = 'ran at ' + location.pathname + location.search;
window.outsideFetch = fetch('http://example.com/ping').then(() => 'reached', (error) => 'failed: ' + error.name);
`;

describeBrowser('Chromium on loopback', () => {
  let dir: string;
  let site: StaticServer;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-site-'));
    await writeFile(join(dir, 'index.html'), INDEX_HTML);
    await writeFile(join(dir, 'app.js'), APP_JS);
    site = await serveStatic(dir);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves files with their content types, index.html for a path without extension, 404 for a missing file', async () => {
    const script = await fetch(`${site.origin}/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const callback = await fetch(`${site.origin}/callback?code=abc`);
    expect(callback.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await callback.text()).toBe(INDEX_HTML);
    expect((await fetch(`${site.origin}/missing.js`)).status).toBe(404);
  });

  it('loads a page from 127.0.0.1 and runs its module script, also on the SPA callback path', async () => {
    await browser.page.goto(`${site.origin}/callback?code=abc&state=xyz`);
    await expect.poll(() => browser.page.textContent('#heading')).toBe('ran at /callback?code=abc&state=xyz');
    expect(await browser.page.evaluate(() => window.location.origin)).toBe(site.origin);
  });

  it('aborts a request to a non-loopback host and records it', async () => {
    await browser.page.goto(`${site.origin}/`);
    const outcome = await browser.page.evaluate(() => (window as unknown as { outsideFetch: Promise<string> }).outsideFetch);
    expect(outcome).toBe('failed: TypeError');
    expect(browser.blocked).toContain('http://example.com/ping');
  });

  it('saves a screenshot as a PNG under test-artifacts/screenshots', async () => {
    await browser.page.goto(`${site.origin}/`);
    const path = await saveScreenshot(browser.page, 'browser smoke');
    expect(path).toMatch(/test-artifacts\/screenshots\/browser-smoke\.png$/);
    const bytes = await readFile(path);
    // PNG signature (ISO/IEC 15948 §5.2).
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});
