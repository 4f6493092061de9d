/**
 * The browser samples of docs/providers.md, bundled as written and run in
 * Chromium. Path of Exile's single-page app sample: the
 * profile's User-Agent rule cannot be met in a browser (Chromium sends its
 * own), so it is skipped there: the login completes instead of being refused
 * locally after the user consented. Path of Exile's hosts are answered by the
 * in-memory test authorization server through Playwright's routing: nothing
 * leaves the machine.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';
import { describeBrowser, launchBrowser, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';
import { bundleForBrowser } from './support/bundle.js';
import { sampleSource, writeSample } from './support/docSamples.js';

const CLIENT_ID = '<public-client-id>';

describeBrowser('the browser samples of docs/providers.md in Chromium', () => {
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

  it("the JSON token endpoint server's sample: SHA-256 with a btoa challenge, scope in the JSON code exchange, from the app's own origin", async () => {
    const appOrigin = 'https://client.server.com';
    const appDir = await mkdtemp(join(tmpdir(), 'oauth-machines-json-spa-'));
    try {
      // A page that runs the sample's two steps: start() on the app, finish() on its /callback.
      const sample = writeSample('json-token-endpoint').replace(/\.ts$/, '.js');
      await bundleForBrowser({
        outdir: appDir,
        contents: [
          `import { start, finish } from '${sample}';`,
          `if (location.pathname === '/callback') {`,
          `  const tokens = await finish(location.href);`,
          `  document.body.dataset['result'] = JSON.stringify({ scope: tokens.scope, refresh: tokens.refreshToken !== undefined });`,
          `} else {`,
          `  await start();`,
          `}`,
        ].join('\n'),
      });
      const jsonServer = createTestAuthorizationServer({
        issuer: 'https://auth.server.com',
        paths: { authorize: '/oauth2/authorize', token: '/oauth2/token' },
        quirks: { jsonTokenRequests: true, pkceMethodName: 'SHA-256', pkceChallengeEncoding: 'base64' },
        clients: [
          {
            clientId: 'c02d5bf5-993e-4c6a-a248-6c307cc7681b',
            authMethod: 'none',
            redirectUris: [`${appOrigin}/callback`],
            grants: ['authorization_code', 'refresh_token'],
            scopes: ['openid', 'email', 'profile', 'offline_access'],
          },
        ],
      });
      const cors = { 'access-control-allow-origin': appOrigin, 'access-control-allow-headers': 'content-type, accept', 'access-control-allow-methods': 'POST', vary: 'Origin' };
      // The app's origin, served from the bundle; the server, answered in memory: neither leaves the machine.
      await browser.context.route(`${appOrigin}/**`, async (route: Route) => {
        const path = new URL(route.request().url()).pathname;
        const file = path === '/app.js' ? 'app.js' : 'index.html';
        await route.fulfill({
          status: 200,
          headers: { 'content-type': file === 'app.js' ? 'text/javascript' : 'text/html' },
          body: file === 'app.js' ? await readFile(join(appDir, 'app.js')) : '<!doctype html><html><body><script type="module" src="/app.js"></script></body></html>',
        });
      });
      await browser.context.route('https://auth.server.com/**', async (route: Route) => {
        const request = route.request();
        if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
        const body = request.postData();
        const response = await jsonServer.fetch(request.url(), { method: request.method(), headers: await request.allHeaders(), ...(body === null ? {} : { body }), redirect: 'manual' });
        const headers: Record<string, string> = { ...cors };
        response.headers.forEach((value, name) => void (headers[name] = value));
        return route.fulfill({ status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) });
      });
      const page = await browser.context.newPage();
      await page.goto(`${appOrigin}/`);
      await expect
        .poll(() => page.evaluate(() => document.body.dataset['result'] ?? null), { timeout: 15_000, message: browser.logs.join('\n') })
        .toBe(JSON.stringify({ scope: ['openid', 'email', 'profile', 'offline_access'], refresh: true }));
      const authorize = jsonServer.log.find((entry) => entry.endpoint === 'authorize');
      expect(authorize?.params['code_challenge_method']).toBe('SHA-256');
      expect(authorize?.params['code_challenge']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      const exchange = jsonServer.log.find((entry) => entry.endpoint === 'token');
      expect(exchange?.headers['content-type']).toMatch(/^application\/json/);
      expect(exchange?.params['scope']).toBe('openid email profile offline_access');
      expect(page.url()).toBe(`${appOrigin}/callback`);
      await page.close();
    } finally {
      await rm(appDir, { recursive: true, force: true });
    }
  }, 30_000);
});
