/**
 * Real Chromium for the browser tests, through playwright-core (no bundled
 * browsers: the system's Debian chromium), held to loopback: every request
 * to another host is aborted and recorded, so a test can never reach the
 * network and can prove that it did not try.
 */
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, it } from 'vitest';

/** Where Chromium is looked for; `CHROMIUM_PATH` overrides the Debian location. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const SKIP_MESSAGE = "Chromium not found: install it with 'sudo apt-get install -y chromium' to run the browser tests";

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a Chromium executable is where the browser tests look for it. */
export function browserAvailable(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need Chromium. Without it: on CI
 * (`process.env.CI` set) the suite fails, because a browser suite that
 * silently skips proves nothing; on a developer's machine it is skipped with
 * one line saying how to install Chromium.
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (browserAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('has Chromium to run in', () => {
        throw new Error(`${CHROMIUM_PATH} is missing: CI must install Chromium (apt-get install -y chromium) for the browser tests`);
      });
    });
    return;
  }
  console.log(SKIP_MESSAGE);
  describe.skipIf(true)(name, fn);
}

export interface LaunchedBrowser {
  context: BrowserContext;
  /** The page the persistent context opens with. */
  page: Page;
  /** Every URL the loopback guard aborted, in order. */
  blocked: string[];
  /** Console messages and uncaught errors of every page, as `type: text` lines (for failure messages). */
  logs: string[];
  /** Closes Chromium and deletes its profile directory. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile. Every http(s) request
 * whose host is not 127.0.0.1, localhost or [::1] is aborted (and listed in
 * `blocked`); the flags turn off Chromium's own background traffic.
 */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'oauth-machines-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const blocked: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    const isNetwork = url.protocol === 'http:' || url.protocol === 'https:';
    if (!isNetwork || LOOPBACK_HOSTS.has(url.hostname)) {
      await route.continue();
      return;
    }
    blocked.push(url.href);
    await route.abort('blockedbyclient');
  });
  const logs: string[] = [];
  const listen = (page: Page): void => {
    page.on('console', (message) => void logs.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => void logs.push(`pageerror: ${error.stack ?? error.message}`));
  };
  context.pages().forEach(listen);
  context.on('page', listen);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    blocked,
    logs,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1. A path without a file extension that is not a
 * file (such as `/callback`) gets `index.html`, as a single-page app's host
 * would; a missing file with an extension is a 404.
 */
export async function serveStatic(dir: string, options: { port?: number } = {}): Promise<StaticServer> {
  const root = resolve(dir);
  const server = createServer(async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    let file = resolve(root, `.${pathname}`);
    if (file !== root && !file.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile) {
      const isDirectory = await stat(file).then((s) => s.isDirectory(), () => false);
      if (isDirectory || extname(pathname) === '') file = join(root, 'index.html');
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    }
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}

/** `test-artifacts/screenshots/` at the repository root (ignored by git, kept by CI as an artifact). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

/** Saves a full-page PNG as `test-artifacts/screenshots/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
