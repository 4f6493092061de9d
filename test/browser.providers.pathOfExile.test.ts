/**
 * Path of Exile's single-page app sample, rewritten with oauth-machines as
 * docs/providers.md shows it, bundled as written and run in Chromium. The
 * profile's User-Agent rule cannot be met in a browser (Chromium sends its
 * own), so it is skipped there: the login completes instead of being refused
 * locally after the user consented. Path of Exile's hosts are answered by the
 * in-memory test authorization server through Playwright's routing: nothing
 * leaves the machine.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';
import { describeBrowser, launchBrowser, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';
import { sampleSource } from './support/docSamples.js';

const CLIENT_ID = '<public-client-id>';

describeBrowser("Path of Exile's SPA sample in Chromium", () => {
  let dir: string;
  let site: StaticServer;
  let server: TestAuthorizationServer;
  let browser: LaunchedBrowser;
  /** The Authorization headers the Path of Exile API saw. */
  const apiBearers: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-poe-spa-'));
    await bundleForBrowser({ contents: sampleSource('path-of-exile-spa'), outdir: dir });
    await writeFile(join(dir, 'index.html'), '<!doctype html><html><body><script type="module" src="/app.js"></script></body></html>');
    site = await serveStatic(dir);
    server = createTestAuthorizationServer({
      issuer: 'https://www.pathofexile.com',
      paths: { authorize: '/oauth/authorize', token: '/oauth/token', revoke: '/oauth/token/revoke', introspect: '/oauth/token/introspect' },
      quirks: { clientSecretPostOnly: true, grantOnlyScopes: { 'service:*': ['client_credentials'] } },
      clients: [
        {
          clientId: CLIENT_ID,
          authMethod: 'none',
          redirectUris: [`${site.origin}/callback`],
          grants: ['authorization_code', 'refresh_token'],
          scopes: ['account:profile'],
        },
      ],
    });
    browser = await launchBrowser();
    const cors = { 'access-control-allow-origin': site.origin, 'access-control-allow-headers': 'authorization, content-type', vary: 'Origin' };
    // Registered after the loopback guard, so these win for Path of Exile's hosts: answered here, never sent.
    await browser.context.route('https://www.pathofexile.com/**', async (route: Route) => {
      const request = route.request();
      const body = request.postData();
      const response = await server.fetch(request.url(), {
        method: request.method(),
        headers: await request.allHeaders(),
        ...(body === null ? {} : { body }),
        redirect: 'manual',
      });
      const headers: Record<string, string> = { ...cors };
      response.headers.forEach((value, name) => void (headers[name] = value));
      await route.fulfill({ status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) });
    });
    await browser.context.route('https://api.pathofexile.com/**', async (route: Route) => {
      if (route.request().method() === 'OPTIONS') return route.fulfill({ status: 204, headers: { ...cors, 'access-control-allow-methods': 'GET' } });
      const bearer = (await route.request().headerValue('authorization'))?.replace(/^Bearer /, '') ?? '';
      apiBearers.push(bearer);
      const active = server.issuedTokens().some((token) => token.token === bearer && token.active);
      return route.fulfill({
        status: active ? 200 : 401,
        headers: { ...cors, 'content-type': 'application/json' },
        body: JSON.stringify(active ? { uuid: 'test-user', name: 'exile' } : { error: 'invalid_token' }),
      });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs in, redeems the code without a User-Agent of its own, and calls the API with the access token', async () => {
    const { page } = browser;
    await page.goto(`${site.origin}/`);
    await expect
      .poll(() => page.evaluate(() => document.body.dataset['profile'] ?? null), { timeout: 15_000, message: browser.logs.join('\n') })
      .toBe(JSON.stringify({ uuid: 'test-user', name: 'exile' }));
    expect(page.url()).toBe(`${site.origin}/callback`);
    const exchange = server.log.find((entry) => entry.endpoint === 'token');
    expect(exchange).toMatchObject({ grantType: 'authorization_code', status: 200 });
    // The browser's own User-Agent went: the page could not set one, and the library did not pretend to.
    expect(exchange?.headers['user-agent']).toMatch(/Chrom/);
    expect(exchange?.params).toHaveProperty('code_verifier');
    const accessToken = server.issuedTokens().find((token) => token.kind === 'access_token')?.token;
    expect(apiBearers).toEqual([accessToken]);
    expect(browser.blocked).toEqual([]);
  }, 30_000);
});
