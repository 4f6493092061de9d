/**
 * The runtime matrix: the smoke cases (test/runtime/smoke/cases.mjs) run
 * against the packed package installed in a fresh project, on Node 20 (the
 * Node running this suite), Node 22 and 24, Deno, Bun and workerd (module
 * syntax, no `nodejs_compat`), all at once, each against its own test
 * authorization server listening on 127.0.0.1 in this process. The runtimes
 * come from test/runtime/runtimes (`npm run runtimes:install`); what a
 * runtime cannot run is a test of its own whose name says why.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Testing from '../../src/testing/index.js';
import { redisAvailable, startRedisServer, type RunningRedis } from '../support/redis.js';
import { packedPackage, ROOT } from './packedPackage.js';

const run = promisify(execFile);

const RUNTIMES_DIR = join(ROOT, 'test', 'runtime', 'runtimes', 'node_modules');
const CASES = {
  clientCredentials: 'client credentials with the token cache',
  code: 'code + PKCE with refresh and logout',
  exchange: 'code-exchange handler serving a request',
  redis: 'Redis adapter',
  require: 'require(esm)',
} as const;
type CaseName = (typeof CASES)[keyof typeof CASES];

interface Runtime {
  name: string;
  /** The executable; absent when it is not installed. */
  command: string;
  args: (main: string, argument: string) => string[];
}

const PROCESS_RUNTIMES: Runtime[] = [
  { name: 'node 20', command: process.execPath, args: (main, argument) => [main, argument] },
  { name: 'node 22', command: join(RUNTIMES_DIR, 'node22', 'bin', 'node'), args: (main, argument) => [main, argument] },
  { name: 'node 24', command: join(RUNTIMES_DIR, 'node24', 'bin', 'node'), args: (main, argument) => [main, argument] },
  {
    name: 'deno',
    command: join(RUNTIMES_DIR, '.bin', 'deno'),
    args: (main, argument) => ['run', '--quiet', '--no-lock', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', '--allow-sys', main, argument],
  },
  { name: 'bun', command: join(RUNTIMES_DIR, '.bin', 'bun'), args: (main, argument) => [main, argument] },
];
const WORKERD = join(RUNTIMES_DIR, '.bin', 'workerd');

const PROCESS_CASES: CaseName[] = [CASES.clientCredentials, CASES.code, CASES.exchange, CASES.redis, CASES.require];
const WORKER_CASES: CaseName[] = [CASES.clientCredentials, CASES.code];

interface CaseResult {
  name: CaseName;
  ok: boolean;
  ms: number;
  error?: string;
  expected?: { tokenRequests?: number; authorizationCode?: number; refresh?: number; revoke?: number; clientCredentials?: number };
}

interface RuntimeRun {
  version: string;
  results: Map<string, CaseResult>;
  wallMs: number;
  server: Testing.TestAuthorizationServer;
  /** The issuer of the server's loopback face. */
  issuer: string;
  /** workerd only: the worker's address. */
  workerUrl?: string;
}

const installed = [...PROCESS_RUNTIMES.map((runtime) => runtime.command), WORKERD].every((command) => existsSync(command));
const runs = new Map<string, RuntimeRun>();
let redis: RunningRedis | undefined;
let testing: typeof Testing;
const cleanups: Array<() => Promise<void> | void> = [];

function testServer(): Testing.TestAuthorizationServer {
  return testing.createTestAuthorizationServer({
    clock: { now: () => Date.now() },
    clients: [
      { clientId: 'service', clientSecret: 'service-secret', authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['read', 'write', 'fleet'] },
      { clientId: 'app', authMethod: 'none', redirectUris: ['http://127.0.0.1:5173/callback'], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
      { clientId: 'web', clientSecret: 'web-secret-value', authMethod: 'client_secret_basic', redirectUris: ['http://127.0.0.1:5173/callback'], grants: ['authorization_code'], scopes: ['read'] },
    ],
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

function parseResults(stdout: string): Map<string, CaseResult> {
  const line = stdout.trim().split('\n').at(-1) ?? '[]';
  return new Map((JSON.parse(line) as CaseResult[]).map((result) => [result.name, result]));
}

async function runProcess(runtime: Runtime, project: string): Promise<RuntimeRun> {
  const server = testServer();
  const face = await server.listen();
  cleanups.push(() => face.close());
  const { stdout: version } = await run(runtime.command, ['--version'], { timeout: 30_000 });
  const cases = PROCESS_CASES.filter((name) => name !== CASES.redis || redis !== undefined);
  const argument = JSON.stringify({ runtime: runtime.name.replace(' ', ''), issuer: face.issuer, redisUrl: redis?.url, cases });
  const started = performance.now();
  const { stdout } = await run(runtime.command, runtime.args(join(project, 'smoke', 'main.mjs'), argument), {
    cwd: project,
    timeout: 120_000,
    maxBuffer: 4 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' },
  });
  return { version: version.trim().split('\n')[0] ?? '', results: parseResults(stdout), wallMs: Math.round(performance.now() - started), server, issuer: face.issuer };
}

async function bundleWorker(project: string): Promise<string> {
  const { build } = await import('esbuild');
  const outdir = join(project, 'worker');
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(project, 'smoke', 'worker.mjs')],
    absWorkingDir: project,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    // Left to workerd, which refuses a static import of a Node built-in when the worker loads (no nodejs_compat).
    external: ['node:*'],
    outfile: join(outdir, 'worker.js'),
    logLevel: 'silent',
  });
  return outdir;
}

async function runWorkerd(project: string): Promise<RuntimeRun> {
  const server = testServer();
  const face = await server.listen();
  cleanups.push(() => face.close());
  const { stdout: version } = await run(WORKERD, ['--version'], { timeout: 30_000 });
  const outdir = await bundleWorker(project);
  const port = await freePort();
  writeFileSync(
    join(outdir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .smokeWorker),
    # The test servers listen on 127.0.0.1: the default outbound reaches public addresses only.
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const smokeWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = [],
  globalOutbound = "loopback",
);
`,
  );
  const started = performance.now();
  const child = spawn(WORKERD, ['serve', join(outdir, 'config.capnp')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  cleanups.push(() => void child.kill('SIGTERM'));
  const workerUrl = `http://127.0.0.1:${port}`;
  let ready = false;
  // Bounded by time, not attempts: on a loaded machine workerd takes longer to start.
  const deadline = Date.now() + 30_000;
  while (!ready && child.exitCode === null && Date.now() < deadline) {
    ready = await fetch(`${workerUrl}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (!ready) await new Promise((wait) => setTimeout(wait, 50));
  }
  if (!ready) throw new Error(`workerd did not start: ${stderr}`);
  const response = await fetch(`${workerUrl}/run`, {
    method: 'POST',
    body: JSON.stringify({ runtime: 'workerd', issuer: face.issuer, cases: WORKER_CASES }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`the worker answered ${response.status}: ${text}\n${stderr}`);
  return { version: version.trim(), results: parseResults(text), wallMs: Math.round(performance.now() - started), server, issuer: face.issuer, workerUrl };
}

function copySmoke(project: string): void {
  cpSync(join(ROOT, 'test', 'runtime', 'smoke'), join(project, 'smoke'), { recursive: true });
}

const describeMatrix = installed || process.env.CI ? describe : describe.skip;
if (!installed && !process.env.CI) console.log("the runtime matrix needs its runtimes: 'npm run runtimes:install' (CI installs them)");

describeMatrix('the runtime matrix, against the packed package', () => {
  beforeAll(async () => {
    if (!installed) throw new Error('the runtimes are not installed: CI must run `npm run runtimes:install` (test/runtime/runtimes)');
    const packed = await packedPackage();
    testing = (await import(join(packed.project, 'node_modules', 'oauth-machines', 'dist', 'src', 'testing', 'index.js'))) as typeof Testing;
    copySmoke(packed.project);
    if (redisAvailable()) {
      redis = await startRedisServer();
      cleanups.push(() => redis?.stop());
    } else if (process.env.CI) {
      throw new Error('redis-server is missing: CI must install it for the Redis cases');
    }
    const all = await Promise.allSettled([
      ...PROCESS_RUNTIMES.map(async (runtime) => [runtime.name, await runProcess(runtime, packed.project)] as const),
      runWorkerd(packed.project).then((result) => ['workerd', result] as const),
    ]);
    const failures: string[] = [];
    for (const outcome of all) {
      if (outcome.status === 'fulfilled') runs.set(outcome.value[0], outcome.value[1]);
      else failures.push(String(outcome.reason));
    }
    printMatrix();
    if (failures.length > 0) throw new Error(`a runtime did not run: ${failures.join('\n')}`);
  }, 240_000);

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function result(runtime: string, name: CaseName): CaseResult & { run: RuntimeRun } {
    const runtimeRun = runs.get(runtime);
    if (!runtimeRun) throw new Error(`${runtime} did not run`);
    const found = runtimeRun.results.get(name);
    if (!found) throw new Error(`${runtime} reported no result for ${name}`);
    expect(found.error, `${runtime}: ${name}`).toBeUndefined();
    expect(found.ok).toBe(true);
    return { ...found, run: runtimeRun };
  }

  function serverSaw(server: Testing.TestAuthorizationServer, grantType: string, clientId: string): number {
    return server.tokenRequests(grantType).filter((entry) => entry.clientId === clientId && entry.status === 200).length;
  }

  for (const runtime of [...PROCESS_RUNTIMES.map((entry) => entry.name), 'workerd']) {
    describe(runtime, () => {
      it(`${runtime}: ${CASES.clientCredentials}`, () => {
        const { run: runtimeRun } = result(runtime, CASES.clientCredentials);
        const major = /^node (\d+)$/.exec(runtime)?.[1];
        if (major !== undefined) expect(runtimeRun.version, `${runtime} runs Node ${major}`).toMatch(new RegExp(`^v${major}\\.`));
        // 20 concurrent callers and a later one: one request for `read`, one for `write` (and the Redis case's one for `fleet`).
        const requests = runtimeRun.server.tokenRequests('client_credentials').filter((entry) => entry.params.scope !== 'fleet');
        expect(requests.map((entry) => entry.params.scope).sort()).toEqual(['read', 'write']);
      });

      it(`${runtime}: ${CASES.code}`, () => {
        const { run: runtimeRun } = result(runtime, CASES.code);
        expect(serverSaw(runtimeRun.server, 'authorization_code', 'app')).toBe(1);
        expect(serverSaw(runtimeRun.server, 'refresh_token', 'app')).toBe(1);
        expect(runtimeRun.server.log.filter((entry) => entry.endpoint === 'revoke' && entry.clientId === 'app').length).toBeGreaterThan(0);
      });

      if (runtime !== 'workerd') {
        it(`${runtime}: ${CASES.exchange} (the runtime's own HTTP server)`, () => {
          const { run: runtimeRun } = result(runtime, CASES.exchange);
          // One code redeemed once; its replay refused by the provider, not answered from a cache.
          expect(runtimeRun.server.tokenRequests('authorization_code').filter((entry) => entry.clientId === 'web').map((entry) => entry.status)).toEqual([200, 400]);
        });

        it(`${runtime}: ${CASES.redis} (node-redis over a real redis-server)`, () => {
          if (redis === undefined) throw new Error('redis-server is not installed');
          const { run: runtimeRun } = result(runtime, CASES.redis);
          expect(runtimeRun.server.tokenRequests('client_credentials').filter((entry) => entry.params.scope === 'fleet')).toHaveLength(1);
        });

        it(`${runtime}: ${CASES.require} gives the one ESM instance`, () => {
          result(runtime, CASES.require);
        });
      } else {
        it(`workerd: ${CASES.exchange} (workerd serves the worker's handler to this process over HTTP)`, async () => {
          const runtimeRun = runs.get('workerd');
          if (!runtimeRun?.workerUrl) throw new Error('workerd did not run');
          const { createHash, randomBytes } = await import('node:crypto');
          const verifier = randomBytes(32).toString('base64url');
          const url = new URL(`${runtimeRun.issuer}/authorize`);
          url.search = new URLSearchParams({
            response_type: 'code', client_id: 'web', redirect_uri: 'http://127.0.0.1:5173/callback', scope: 'read', state: 's',
            code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
          }).toString();
          const redirect = await fetch(url, { redirect: 'manual' });
          const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
          const started = performance.now();
          const response = await fetch(`${runtimeRun.workerUrl}/api/oauth/exchange`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:5173/callback' }),
          });
          const text = await response.text();
          console.log(`workerd: ${CASES.exchange}: ${Math.round(performance.now() - started)} ms (over HTTP, timed in this process)`);
          expect(response.status, text).toBe(200);
          expect(text).not.toContain('web-secret-value');
          expect(JSON.parse(text)).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
          expect(serverSaw(runtimeRun.server, 'authorization_code', 'web')).toBe(1);
        });

        it(`workerd: ${CASES.redis} — cannot run: no Redis client without nodejs_compat (node-redis needs node:net, which the worker cannot load)`, async () => {
          const runtimeRun = runs.get('workerd');
          const builtins = (await (await fetch(`${runtimeRun?.workerUrl}/node-builtins`)).json()) as Record<string, unknown>;
          expect(builtins).toMatchObject({ 'node:net': false, 'node:crypto': false });
        });

        it(`workerd: ${CASES.require} — not applicable: a module worker has no require()`, async () => {
          const runtimeRun = runs.get('workerd');
          const builtins = (await (await fetch(`${runtimeRun?.workerUrl}/node-builtins`)).json()) as Record<string, unknown>;
          expect(builtins.require).toBe('undefined');
        });
      }
    });
  }
});

/** The figure for the closing note: runtime × case, each case's time inside the runtime. */
function printMatrix(): void {
  const names = Object.values(CASES);
  const rows = [`| runtime | version | ${names.join(' | ')} | whole run |`, `| --- | --- | ${names.map(() => '---:').join(' | ')} | ---: |`];
  for (const [runtime, runtimeRun] of runs) {
    const cells = names.map((name) => {
      const found = runtimeRun.results.get(name);
      if (!found) return runtime === 'workerd' && name === CASES.exchange ? 'over HTTP (below)' : '—';
      return found.ok ? `${found.ms} ms` : `FAILED ${found.ms} ms`;
    });
    rows.push(`| ${runtime} | ${runtimeRun.version} | ${cells.join(' | ')} | ${runtimeRun.wallMs} ms |`);
  }
  console.log(`runtime matrix (times inside each runtime; the runtimes ran at once):\n${rows.join('\n')}`);
}
