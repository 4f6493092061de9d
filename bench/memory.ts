/**
 * Memory of the library on Node:
 *
 * - 100,000 sign-in flows, each a new `createOAuthClient({ grant:
 *   'authorization_code' })` with `nodeServices()` — `login()`, the callback,
 *   the code exchange, `stop()` — in batches of 500 running side by side;
 *   RSS and heap after a forced GC at the start, every 10,000 flows and at
 *   the end. A client that is stopped must leave nothing behind, so the heap
 *   must not grow with the number of flows.
 * - the retained heap of a live signed-in client: 2,000 clients signed in
 *   and kept (each with its own memory storage, its expiry timer on the
 *   system clock), heap used after GC, minus the heap before, divided by
 *   2,000; after a warm-up round, the median of 3 rounds. Each round then
 *   stops its clients and reports what is left.
 *
 * The token endpoint is an in-memory stub answering every code with fresh
 * tokens (no server state grows, no socket is opened), so what grows is the
 * library's. Needs `--expose-gc` (`npm run bench` passes it).
 *
 * Run: `node --expose-gc --import tsx bench/memory.ts` (or `npm run bench -- memory`).
 */
import { performance } from 'node:perf_hooks';
import { createOAuthClient, type OAuthClient } from '../src/client.js';
import { nodeServices } from '../src/server/services.js';
import type { FetchLike } from '../src/services/types.js';
import { writeResult } from './benchResult.js';

const FLOWS = 100_000;
const BATCH = 500;
const SAMPLE_EVERY = 10_000;
const LIVE_CLIENTS = 2_000;
const LIVE_ROUNDS = 3;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('bench/memory.ts needs --expose-gc (node --expose-gc --import tsx bench/memory.ts, or npm run bench)');
  process.exit(1);
}

const ISSUER = 'https://id.example';
const REDIRECT_URI = 'https://app.example/callback';
const provider = {
  issuer: ISSUER,
  authorizationEndpoint: `${ISSUER}/authorize`,
  tokenEndpoint: `${ISSUER}/token`,
  authorizationResponseIssParameterSupported: true,
};

let issued = 0;
/** The token endpoint: every request gets fresh tokens; nothing is kept. */
const stubFetch: FetchLike = () => {
  issued += 1;
  const body = JSON.stringify({
    access_token: `at-${issued}-${'a'.repeat(32)}`,
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: `rt-${issued}-${'r'.repeat(32)}`,
    scope: 'offline_access',
  });
  return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } }));
};

function newClient(): OAuthClient<'authorization_code'> {
  return createOAuthClient({
    grant: 'authorization_code',
    provider,
    client: { clientId: 'spa', redirectUri: REDIRECT_URI, scopes: ['offline_access'] },
    services: nodeServices({ fetch: stubFetch, navigate: () => undefined }),
  });
}

/** login → the provider's redirect back (built here: code, state, iss) → the exchange. */
async function signIn(client: OAuthClient<'authorization_code'>, n: number): Promise<void> {
  const url = new URL(await client.login());
  const state = url.searchParams.get('state') ?? '';
  const callback = `${REDIRECT_URI}?${new URLSearchParams({ code: `code-${n}`, state, iss: ISSUER }).toString()}`;
  const tokens = await client.handleCallback(callback);
  if (!tokens.accessToken) throw new Error('no access token');
}

interface MemorySample {
  flows: number;
  rssMiB: number;
  heapUsedMiB: number;
}

const MiB = 1024 * 1024;
/**
 * Memory after a full collection: several GCs with a macrotask turn between them, so that what only
 * a later cycle frees (finalization callbacks, weak references, timer lists) is gone before reading.
 */
async function sample(flows: number): Promise<MemorySample> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { flows, rssMiB: Number((usage.rss / MiB).toFixed(1)), heapUsedMiB: Number((usage.heapUsed / MiB).toFixed(2)) };
}

// ── 100,000 flows ──────────────────────────────────────────────────────────

// A warm-up, so that the start is measured with the code compiled and the pools allocated.
for (let i = 0; i < 2 * BATCH; i += BATCH) {
  await Promise.all(Array.from({ length: BATCH }, async (_, k) => {
    const client = newClient();
    await signIn(client, i + k);
    client.stop();
  }));
}

const samples: MemorySample[] = [await sample(0)];
const started = performance.now();
const cpuStart = process.cpuUsage();
for (let done = 0; done < FLOWS; done += BATCH) {
  await Promise.all(
    Array.from({ length: BATCH }, async (_, k) => {
      const client = newClient();
      await signIn(client, done + k);
      client.stop();
    }),
  );
  if ((done + BATCH) % SAMPLE_EVERY === 0) samples.push(await sample(done + BATCH));
}
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
const first = samples[0] as MemorySample;
const last = samples[samples.length - 1] as MemorySample;
// Growth over the second half: a leak grows steadily; allocator warm-up happens early.
const middle = samples[Math.floor(samples.length / 2)] as MemorySample;

// ── retained heap per live signed-in client ────────────────────────────────

interface LiveRound {
  heapBeforeMiB: number;
  heapWithClientsMiB: number;
  heapAfterStopMiB: number;
  retainedBytesPerClient: number;
  leftAfterStopBytesPerClient: number;
}

/** `count` clients signed in side by side (in a function of their own, so no local of the caller keeps a batch alive). */
async function signedInClients(count: number, offset: number): Promise<OAuthClient<'authorization_code'>[]> {
  const batch = Array.from({ length: count }, newClient);
  await Promise.all(batch.map((client, k) => signIn(client, offset + k)));
  return batch;
}

async function liveRound(clients: number): Promise<LiveRound> {
  const before = await sample(0);
  const live: OAuthClient<'authorization_code'>[] = [];
  for (let i = 0; i < clients; i += BATCH) live.push(...(await signedInClients(Math.min(BATCH, clients - i), i)));
  const withClients = await sample(clients);
  for (const client of live) client.stop();
  live.length = 0;
  const after = await sample(0);
  return {
    heapBeforeMiB: before.heapUsedMiB,
    heapWithClientsMiB: withClients.heapUsedMiB,
    heapAfterStopMiB: after.heapUsedMiB,
    retainedBytesPerClient: Math.round(((withClients.heapUsedMiB - before.heapUsedMiB) * MiB) / clients),
    leftAfterStopBytesPerClient: Math.round(((after.heapUsedMiB - before.heapUsedMiB) * MiB) / clients),
  };
}

// The first round of this pattern carries one-off growth (code, feedback, pools): a warm-up, not counted.
await liveRound(LIVE_CLIENTS / 2);
const liveRounds: LiveRound[] = [];
for (let round = 0; round < LIVE_ROUNDS; round++) liveRounds.push(await liveRound(LIVE_CLIENTS));
const medianRound = [...liveRounds].sort((a, b) => a.retainedBytesPerClient - b.retainedBytesPerClient)[Math.floor(LIVE_ROUNDS / 2)] as LiveRound;
const retainedBytesPerClient = medianRound.retainedBytesPerClient;

const rows = [
  {
    name: `${FLOWS.toLocaleString('en-US')} sign-in flows (new client, login, callback, exchange, stop)`,
    flows: FLOWS,
    batch: BATCH,
    startRssMiB: first.rssMiB,
    endRssMiB: last.rssMiB,
    rssGrowthMiB: Number((last.rssMiB - first.rssMiB).toFixed(1)),
    startHeapUsedMiB: first.heapUsedMiB,
    endHeapUsedMiB: last.heapUsedMiB,
    heapGrowthMiB: Number((last.heapUsedMiB - first.heapUsedMiB).toFixed(2)),
    heapGrowthSecondHalfMiB: Number((last.heapUsedMiB - middle.heapUsedMiB).toFixed(2)),
    flowsPerSecond: Math.round(FLOWS / (elapsedMs / 1000)),
    cpuUsPerFlow: Math.round((cpu.user + cpu.system) / FLOWS),
    samples,
  },
  {
    name: `retained heap per live signed-in client (${LIVE_CLIENTS.toLocaleString('en-US')} clients, median of ${LIVE_ROUNDS} rounds)`,
    clients: LIVE_CLIENTS,
    ...medianRound,
    retainedKiBPerClient: Number((retainedBytesPerClient / 1024).toFixed(1)),
    minRetainedBytesPerClient: Math.min(...liveRounds.map((round) => round.retainedBytesPerClient)),
    maxRetainedBytesPerClient: Math.max(...liveRounds.map((round) => round.retainedBytesPerClient)),
  },
];
console.log(
  `${FLOWS} flows in ${(elapsedMs / 1000).toFixed(1)} s: RSS ${first.rssMiB} → ${last.rssMiB} MiB, heap ${first.heapUsedMiB} → ${last.heapUsedMiB} MiB (second half ${rows[0]?.['heapGrowthSecondHalfMiB']} MiB)`,
);
console.log(
  `retained heap per live signed-in client: ${retainedBytesPerClient} B, median of ${liveRounds.map((round) => round.retainedBytesPerClient).join(', ')} (${LIVE_CLIENTS} clients: ${medianRound.heapBeforeMiB} → ${medianRound.heapWithClientsMiB} MiB; after stop ${medianRound.heapAfterStopMiB} MiB)`,
);

// A leak of a few hundred bytes per flow would be tens of MiB here.
const LEAK_LIMIT_MIB = 8;
const leaking = last.heapUsedMiB - first.heapUsedMiB > LEAK_LIMIT_MIB;
if (leaking) console.error(`FAIL heap grew by more than ${LEAK_LIMIT_MIB} MiB over ${FLOWS} flows`);
writeResult('memory', {
  benchmark: 'memory',
  description: `heap and RSS after forced GC (--expose-gc); in-memory token endpoint stub, nodeServices() otherwise; ok unless the heap grew more than ${LEAK_LIMIT_MIB} MiB over the flows`,
  rows,
  ok: !leaking,
});
