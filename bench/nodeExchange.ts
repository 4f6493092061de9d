/**
 * CPU per operation of a code exchange and of a refresh on Node, for the
 * library and for its baselines, side by side in this one process against
 * one loopback token server (the test authorization server of
 * `oauth-machines/testing`, `listen()`ed in a child process so that
 * `process.cpuUsage()` here counts the clients only):
 *
 * - oauth-machines: `createOAuthClient({ grant: 'authorization_code' })` with
 *   `nodeServices()` (the `node:http` keep-alive transport, `node:crypto`);
 *   a new client per sign-in: `login()` → the authorization server's
 *   redirect → `handleCallback()` → `stop()`. The refresh: one signed-in
 *   client, its manual clock moved past expiry, `getAccessToken()`.
 * - the same client with undici's global fetch wrapped in `fetchWithTimeout`
 *   (`keepAliveFetch({ fetch })`: the transport `nodeServices()` had before);
 * - oauth4webapi: PKCE, the URL, `validateAuthResponse`,
 *   `authorizationCodeGrantRequest`, `processAuthorizationCodeResponse`;
 *   `refreshTokenGrantRequest` + `processRefreshTokenResponse`; with its
 *   default fetch (the global one) and with the library's `node:http`
 *   transport as `customFetch`;
 * - raw `node:http`: the same requests by hand (node:crypto PKCE, a
 *   keep-alive agent, `JSON.parse`), the floor.
 *
 * The authorization hop (a GET of the authorization URL that answers the
 * 302 to the callback, the part a browser plays) is the same raw GET for
 * every variant and is left out of the client CPU; `cpuWithHopUs` includes
 * it. Each variant warms up, then the variants take turns, round by round;
 * the figures are the median round.
 *
 * Run: `npx tsx bench/nodeExchange.ts` (or `npm run bench -- nodeExchange`).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { createOAuthClient } from '../src/client.js';
import { keepAliveFetch, nodeCrypto } from '../src/server/nodeServices.js';
import { nodeServices } from '../src/server/services.js';
import { manualClock } from '../src/services/clock.js';
import type { FetchLike, Services } from '../src/services/types.js';
import { writeResult } from './benchResult.js';
import { BENCH_CLIENT } from './support/benchClient.js';

const WARM_UP = 300;
const ROUNDS = 5;
const OPS_PER_ROUND = 400;

const benchDir = dirname(fileURLToPath(import.meta.url));

// ── the token server, in a child process ──────────────────────────────────

async function startTokenServer(): Promise<{ url: string; issuer: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, 'support', 'tokenServer.ts')], {
    cwd: join(benchDir, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the token server exited (${code}) before it listened`)));
  });
  const { url, issuer } = JSON.parse(line) as { url: string; issuer: string };
  return { url, issuer, stop: () => child.stdin.end() };
}

// ── raw node:http, for the hop and the raw baseline ───────────────────────

const rawAgent = new Agent({ keepAlive: true, maxSockets: 4 });

function rawSend(url: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; location: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: rawAgent,
        headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What the browser does between login and callback: the authorization endpoint approves and redirects. */
async function authorizationHop(url: string): Promise<string> {
  const answer = await rawSend(url, 'GET');
  if (answer.status !== 302 || answer.location === undefined) throw new Error(`the authorization endpoint answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  return answer.location;
}

// ── the variants ───────────────────────────────────────────────────────────

interface Started {
  url: string;
  finish(callback: string): Promise<string>;
}

interface Variant {
  name: string;
  /** Starts a sign-in: everything up to the authorization URL. */
  begin(): Promise<Started>;
  /** Signs in once, for the refreshes. */
  signIn(): Promise<void>;
  /** One refresh; resolves with the new access token. */
  refresh(): Promise<string>;
  stop(): void;
}

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

const noNavigation = (): void => undefined;

function libraryVariant(name: string, metadata: Metadata, services: () => Partial<Services>): Variant {
  const provider = {
    issuer: metadata.issuer,
    authorizationEndpoint: metadata.authorization_endpoint,
    tokenEndpoint: metadata.token_endpoint,
    authorizationResponseIssParameterSupported: true,
  };
  const options = (extra: Partial<Services>) => ({
    grant: 'authorization_code' as const,
    provider,
    client: { clientId: BENCH_CLIENT.clientId, redirectUri: BENCH_CLIENT.redirectUri, scopes: [BENCH_CLIENT.scope] },
    services: nodeServices({ ...services(), navigate: noNavigation, ...extra }),
  });
  const clock = manualClock(Date.now());
  const signedIn = createOAuthClient(options({ clock }));
  let current = '';
  return {
    name,
    async begin() {
      const client = createOAuthClient(options({}));
      const url = await client.login();
      return {
        url,
        async finish(callback) {
          const tokens = await client.handleCallback(callback);
          client.stop();
          return tokens.accessToken;
        },
      };
    },
    async signIn() {
      const callback = await authorizationHop(await signedIn.login());
      current = (await signedIn.handleCallback(callback)).accessToken;
    },
    async refresh() {
      clock.advance(BENCH_CLIENT.accessTokenTtl * 1000);
      const token = await signedIn.getAccessToken();
      if (token === current) throw new Error(`${name}: the token was not refreshed`);
      current = token;
      return token;
    },
    stop: () => signedIn.stop(),
  };
}

function oauth4webapiVariant(name: string, metadata: Metadata, fetch: FetchLike | undefined): Variant {
  const as: oauth.AuthorizationServer = { ...metadata, authorization_response_iss_parameter_supported: true };
  const client: oauth.Client = { client_id: BENCH_CLIENT.clientId };
  const options: oauth.TokenEndpointRequestOptions = { [oauth.allowInsecureRequests]: true };
  if (fetch) options[oauth.customFetch] = (url, init) => fetch(url, init as RequestInit);
  let refreshToken = '';
  const begin = async (): Promise<Started> => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint ?? '');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', BENCH_CLIENT.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', BENCH_CLIENT.scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return {
      url: url.href,
      async finish(callback) {
        const params = oauth.validateAuthResponse(as, client, new URL(callback), state);
        const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, BENCH_CLIENT.redirectUri, verifier, options);
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
        refreshToken = tokens.refresh_token ?? refreshToken;
        return tokens.access_token;
      },
    };
  };
  return statelessVariant(name, begin, async () => {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, options);
    const tokens = await oauth.processRefreshTokenResponse(as, client, response);
    refreshToken = tokens.refresh_token ?? refreshToken;
    return tokens.access_token;
  });
}

/** A variant that keeps no client between calls: signs in with `begin`, refreshes with `refreshOnce`, checking the token changed. */
function statelessVariant(name: string, begin: () => Promise<Started>, refreshOnce: () => Promise<string>): Variant {
  let current = '';
  return {
    name,
    begin,
    async signIn() {
      const started = await begin();
      current = await started.finish(await authorizationHop(started.url));
    },
    async refresh() {
      const token = await refreshOnce();
      if (token === current) throw new Error(`${name}: the token was not refreshed`);
      current = token;
      return current;
    },
    stop: () => undefined,
  };
}

/** The floor: the requests by hand, with node:crypto, a keep-alive agent and JSON.parse, checking only what must be checked. */
function rawVariant(name: string, metadata: Metadata): Variant {
  let refreshToken = '';
  const tokenRequest = async (params: Record<string, string>): Promise<{ access_token: string; refresh_token?: string }> => {
    const answer = await rawSend(metadata.token_endpoint, 'POST', new URLSearchParams(params).toString());
    const body = JSON.parse(answer.text) as { access_token?: unknown; token_type?: unknown; refresh_token?: string };
    if (answer.status !== 200 || typeof body.access_token !== 'string' || String(body.token_type).toLowerCase() !== 'bearer') {
      throw new Error(`${name}: token request failed: ${answer.status} ${answer.text.slice(0, 200)}`);
    }
    return body as { access_token: string; refresh_token?: string };
  };
  const begin = async (): Promise<Started> => {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const url = new URL(metadata.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: BENCH_CLIENT.clientId,
      redirect_uri: BENCH_CLIENT.redirectUri,
      response_type: 'code',
      scope: BENCH_CLIENT.scope,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return {
      url: url.href,
      async finish(callback) {
        const params = new URL(callback).searchParams;
        if (params.get('state') !== state || params.get('iss') !== metadata.issuer) throw new Error(`${name}: callback state or iss mismatch`);
        const tokens = await tokenRequest({
          grant_type: 'authorization_code',
          code: params.get('code') ?? '',
          redirect_uri: BENCH_CLIENT.redirectUri,
          client_id: BENCH_CLIENT.clientId,
          code_verifier: verifier,
        });
        refreshToken = tokens.refresh_token ?? refreshToken;
        return tokens.access_token;
      },
    };
  };
  return statelessVariant(name, begin, async () => {
    const tokens = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: BENCH_CLIENT.clientId });
    refreshToken = tokens.refresh_token ?? refreshToken;
    return tokens.access_token;
  });
}

// ── measurement ────────────────────────────────────────────────────────────

interface Sample {
  /** Client CPU (user + system), µs, over the round. */
  cpuUs: number;
  /** The same with the authorization hop. */
  cpuWithHopUs: number;
  wallMs: number;
}

const cpuNow = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

async function exchangeRound(variant: Variant, ops: number): Promise<Sample> {
  let cpuUs = 0;
  const startCpu = cpuNow();
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const c0 = cpuNow();
    const started = await variant.begin();
    const c1 = cpuNow();
    const callback = await authorizationHop(started.url);
    const c2 = cpuNow();
    const token = await started.finish(callback);
    cpuUs += c1 - c0 + (cpuNow() - c2);
    if (typeof token !== 'string' || token === '') throw new Error(`${variant.name}: no access token`);
  }
  return { cpuUs, cpuWithHopUs: cpuNow() - startCpu, wallMs: performance.now() - start };
}

async function refreshRound(variant: Variant, ops: number): Promise<Sample> {
  const startCpu = cpuNow();
  const start = performance.now();
  for (let i = 0; i < ops; i++) await variant.refresh();
  const cpuUs = cpuNow() - startCpu;
  return { cpuUs, cpuWithHopUs: cpuUs, wallMs: performance.now() - start };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface Row {
  /** Operation and variant, for the summary table. */
  name: string;
  variant: string;
  operation: 'code exchange' | 'refresh';
  ops: number;
  cpuUsPerOp: number;
  minCpuUsPerOp: number;
  maxCpuUsPerOp: number;
  cpuWithHopUsPerOp?: number;
  wallUsPerOp: number;
  opsPerSecond: number;
  cpuToOauth4webapi?: number;
  cpuToRawNodeHttp?: number;
  [key: string]: unknown;
}

async function measure(operation: Row['operation'], variants: Variant[], round: (variant: Variant, ops: number) => Promise<Sample>): Promise<Row[]> {
  for (const variant of variants) await round(variant, WARM_UP);
  const samples = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order every round, so no variant always runs first (or right after the same one).
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(r + k) % variants.length] as Variant;
      samples.get(variant)?.push(await round(variant, OPS_PER_ROUND));
    }
  }
  const rows = variants.map((variant): Row => {
    const taken = samples.get(variant) ?? [];
    const perOp = taken.map((sample) => sample.cpuUs / OPS_PER_ROUND);
    const wall = median(taken.map((sample) => (sample.wallMs * 1000) / OPS_PER_ROUND));
    const row: Row = {
      name: `${operation}: ${variant.name}`,
      variant: variant.name,
      operation,
      ops: ROUNDS * OPS_PER_ROUND,
      cpuUsPerOp: Math.round(median(perOp)),
      minCpuUsPerOp: Math.round(Math.min(...perOp)),
      maxCpuUsPerOp: Math.round(Math.max(...perOp)),
      wallUsPerOp: Math.round(wall),
      opsPerSecond: Math.round(1e6 / wall),
    };
    if (operation === 'code exchange') row.cpuWithHopUsPerOp = Math.round(median(taken.map((sample) => sample.cpuWithHopUs / OPS_PER_ROUND)));
    return row;
  });
  const reference = rows.find((row) => row.variant === OAUTH4WEBAPI);
  const raw = rows.find((row) => row.variant === RAW);
  for (const row of rows) {
    if (reference) row.cpuToOauth4webapi = Number((row.cpuUsPerOp / reference.cpuUsPerOp).toFixed(2));
    if (raw) row.cpuToRawNodeHttp = Number((row.cpuUsPerOp / raw.cpuUsPerOp).toFixed(2));
  }
  return rows;
}

const LIBRARY = 'oauth-machines, nodeServices() (node:http)';
const LIBRARY_UNDICI = 'oauth-machines, undici fetch + fetchWithTimeout';
const OAUTH4WEBAPI = 'oauth4webapi (global fetch)';
const OAUTH4WEBAPI_NODE_HTTP = 'oauth4webapi, node:http transport';
const RAW = 'raw node:http by hand';

const server = await startTokenServer();
try {
  const metadata = JSON.parse((await rawSend(`${server.issuer}/.well-known/oauth-authorization-server`, 'GET')).text) as Metadata;
  const undici = keepAliveFetch({ fetch: globalThis.fetch.bind(globalThis) });
  const crypto = nodeCrypto();
  const variants = [
    libraryVariant(LIBRARY, metadata, () => ({})),
    libraryVariant(LIBRARY_UNDICI, metadata, () => ({ fetch: undici, crypto })),
    oauth4webapiVariant(OAUTH4WEBAPI, metadata, undefined),
    oauth4webapiVariant(OAUTH4WEBAPI_NODE_HTTP, metadata, keepAliveFetch()),
    rawVariant(RAW, metadata),
  ];
  const exchange = await measure('code exchange', variants, exchangeRound);
  for (const variant of variants) await variant.signIn();
  const refresh = await measure('refresh', variants, refreshRound);
  for (const variant of variants) variant.stop();

  const rows = [...exchange, ...refresh];
  for (const row of rows) {
    console.log(
      `${row.operation.padEnd(14)} ${row.variant.padEnd(48)} ${String(row.cpuUsPerOp).padStart(5)} µs CPU/op  ${String(row.wallUsPerOp).padStart(5)} µs wall/op  ×${String(row.cpuToOauth4webapi)} oauth4webapi  ×${String(row.cpuToRawNodeHttp)} raw`,
    );
  }
  const cpu = cpus();
  writeResult('nodeExchange', {
    benchmark: 'nodeExchange',
    description:
      `client CPU (process.cpuUsage user+system) and wall time per operation against the test authorization server listening on loopback in a child process; ` +
      `${WARM_UP} warm-up ops, then ${ROUNDS} rounds of ${OPS_PER_ROUND} per variant taking turns, median round. Code exchange: a new client per sign-in ` +
      `(the library), login → authorization hop (a raw GET answered 302, same for all, left out of cpuUsPerOp, counted in cpuWithHopUsPerOp) → callback → token request. ` +
      `Refresh: one signed-in client, one refresh_token grant per op. Ratios are of cpuUsPerOp. CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    rows,
    ok: true,
  });
} finally {
  server.stop();
  rawAgent.destroy();
}
