/**
 * Runs a built example against the test authorization server, all on
 * 127.0.0.1: `npx tsx examples/react/serve.ts [--dir DIR] [--port N]`
 * (default DIR: examples/react/dist; `--dir examples/spa-vanilla/dist` for
 * the vanilla one). Starts `createTestAuthorizationServer().listen()`,
 * registers the public client `spa` with this page's `/callback`, writes
 * `config.json` (the server's endpoints) next to the page, serves DIR (index.html for extension-less
 * paths such as /callback) and prints the URL. Ctrl-C stops both.
 *
 * The test server approves every authorization at once (it has no login
 * page): Login comes straight back signed in as `test-user`.
 */
import { createServer } from 'node:http';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestAuthorizationServer } from '../../src/testing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const flag = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const root = resolve(flag('--dir') ?? join(here, 'dist'));
const port = Number(flag('--port') ?? 5173);

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const site = createServer(async (request, response) => {
  const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  let file = resolve(root, `.${pathname}`);
  if (file !== root && !file.startsWith(root + sep)) {
    response.writeHead(403).end();
    return;
  }
  const isFile = await stat(file).then((found) => found.isFile(), () => false);
  // A single-page app's host: /callback and / are the page itself.
  if (!isFile && extname(pathname) === '') file = join(root, 'index.html');
  try {
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  } catch {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  }
});
await new Promise<void>((listening, failed) => {
  site.once('error', failed);
  site.listen(port, '127.0.0.1', () => listening());
});
const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

const server = createTestAuthorizationServer();
const authorizationServer = await server.listen();
server.registerClient({
  clientId: 'spa',
  authMethod: 'none',
  redirectUris: [`${origin}/callback`],
  grants: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'offline_access'],
});
const metadata = server.metadata();
await writeFile(
  join(root, 'config.json'),
  `${JSON.stringify(
    {
      issuer: authorizationServer.issuer,
      authorizationEndpoint: metadata['authorization_endpoint'],
      tokenEndpoint: metadata['token_endpoint'],
      revocationEndpoint: metadata['revocation_endpoint'],
      clientId: 'spa',
      redirectUri: `${origin}/callback`,
      scopes: ['openid', 'offline_access'],
    },
    null,
    2,
  )}\n`,
);

console.log(`app:                  ${origin}/  (serving ${root})`);
console.log(`authorization server: ${authorizationServer.issuer}`);
const stop = (): void => {
  site.close();
  site.closeAllConnections();
  void authorizationServer.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
