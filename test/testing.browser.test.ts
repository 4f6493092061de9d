/**
 * The test authorization server in real Chromium: the loopback face serves a
 * single-page app on another loopback origin (a real redirect, cross-origin
 * token and userinfo requests under CORS, a refused origin), and the
 * in-memory face runs inside the page from an esbuild browser bundle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestAuthorizationServer, type ListeningServer, type TestAuthorizationServer } from '../src/testing/index.js';
import { describeBrowser, launchBrowser, serveStatic, type LaunchedBrowser, type StaticServer } from './support/browser.js';

const INDEX_HTML = '<!DOCTYPE html><html><head><meta charset="utf-8"><script type="module" src="/app.js"></script></head><body></body></html>';

/** On /callback: exchange the code cross-origin, then call userinfo (a preflighted request). Elsewhere: try the token endpoint. */
function appScript(authUrl: string, redirectUri: string, verifier: string): string {
  return `
window.result = (async () => {
  try {
    const params = new URLSearchParams(location.search);
    if (location.pathname !== '/callback') {
      const response = await fetch('${authUrl}/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'spa' }) });
      return { reached: true, status: response.status };
    }
    const token = await fetch('${authUrl}/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code: params.get('code'), redirect_uri: '${redirectUri}', code_verifier: '${verifier}' }),
    });
    const tokens = await token.json();
    const userinfo = await fetch('${authUrl}/userinfo', { headers: { authorization: 'Bearer ' + tokens.access_token } });
    return { iss: params.get('iss'), state: params.get('state'), tokenStatus: token.status, tokenType: tokens.token_type, userinfo: await userinfo.json() };
  } catch (error) {
    return { failed: error.name };
  }
})();
`;
}

/** The in-memory face inside the page: authorize and exchange with PKCE computed by crypto.subtle. */
const MEMORY_HTML = `<!DOCTYPE html><html><head><meta charset="utf-8"><script type="module">
import { createTestAuthorizationServer } from '/testing.js';
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
window.result = (async () => {
  const server = createTestAuthorizationServer({ clients: [{ clientId: 'spa', authMethod: 'none', redirectUris: ['https://app.test/cb'], grants: ['authorization_code'], scopes: ['openid'] }] });
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const query = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: 'https://app.test/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
  const callback = new URL(await server.authorize(server.issuer + '/authorize?' + query));
  const response = await server.fetch(server.issuer + '/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code: callback.searchParams.get('code'), redirect_uri: 'https://app.test/cb', code_verifier: verifier }) });
  const body = await response.json();
  return { status: response.status, hasIdToken: typeof body.id_token === 'string', iss: callback.searchParams.get('iss') };
})();
</script></head><body></body></html>`;

describeBrowser('test authorization server in Chromium', () => {
  let dir: string;
  let otherDir: string;
  let site: StaticServer;
  let otherSite: StaticServer;
  let browser: LaunchedBrowser;
  let server: TestAuthorizationServer;
  let auth: ListeningServer;
  const verifier = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauth-machines-testing-site-'));
    otherDir = await mkdtemp(join(tmpdir(), 'oauth-machines-testing-other-'));
    site = await serveStatic(dir);
    otherSite = await serveStatic(otherDir);
    server = createTestAuthorizationServer({
      user: { sub: 'browser-user' },
      clients: [{ clientId: 'spa', authMethod: 'none', redirectUris: [`${site.origin}/callback`], grants: ['authorization_code', 'client_credentials'], scopes: ['openid'] }],
    });
    auth = await server.listen();
    await writeFile(join(dir, 'index.html'), INDEX_HTML);
    await writeFile(join(dir, 'app.js'), appScript(auth.url, `${site.origin}/callback`, verifier));
    await writeFile(join(otherDir, 'index.html'), INDEX_HTML);
    await writeFile(join(otherDir, 'app.js'), appScript(auth.url, `${site.origin}/callback`, verifier));
    await writeFile(join(dir, 'memory.html'), MEMORY_HTML);
    const bundle = await build({ entryPoints: ['src/testing/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
    await writeFile(join(dir, 'testing.js'), bundle.outputFiles[0]?.text ?? '');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await auth?.close();
    await site?.close();
    await otherSite?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (otherDir) await rm(otherDir, { recursive: true, force: true });
  });

  it('redirects the browser to the app, which exchanges the code and calls userinfo across origins', async () => {
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: `${site.origin}/callback`, scope: 'openid', state: 'browser-state', code_challenge: challenge, code_challenge_method: 'S256' });
    await browser.page.goto(`${auth.url}/authorize?${query.toString()}`);
    expect(new URL(browser.page.url()).origin).toBe(site.origin);
    const result = await browser.page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result);
    expect(result).toEqual({ iss: auth.issuer, state: 'browser-state', tokenStatus: 200, tokenType: 'Bearer', userinfo: { sub: 'browser-user' } });
    expect(browser.blocked).toEqual([]);
  });

  it('gives an origin that is no registered redirect URI no CORS access', async () => {
    await browser.page.goto(`${otherSite.origin}/`);
    const result = await browser.page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result);
    expect(result).toEqual({ failed: 'TypeError' });
  });

  it('runs the in-memory face inside the page from a browser bundle', async () => {
    await browser.page.goto(`${site.origin}/memory.html`);
    const result = await browser.page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result);
    expect(result).toEqual({ status: 200, hasIdToken: true, iss: 'https://auth.test' });
  });
});
