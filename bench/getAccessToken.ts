/**
 * The hot path: `getAccessToken()` while a valid token is cached, in calls per
 * second (each call awaited, one after another), for the server token cache
 * and for the `createOAuthClient` façade (client credentials), beside a bare
 * async function returning a cached string (the floor; `nsToBareAsyncFn` is
 * each row's ns per call over the floor's). Against the in-memory test
 * server; after the first token no request is made.
 *
 * Run: `npx tsx bench/getAccessToken.ts`.
 */
import { performance } from 'node:perf_hooks';
import { createClientCredentialsCache } from '../src/server/tokenCache.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import { writeResult } from './benchResult.js';

const ITERATIONS = 200_000;
const ROUNDS = 5;
const WARM_UP = 20_000;

interface Row {
  name: string;
  opsPerSecond?: number;
  minOpsPerSecond?: number;
  maxOpsPerSecond?: number;
  nsPerCall?: number;
  requestsDuringMeasurement?: number;
  unavailable?: string;
  [key: string]: unknown;
}

async function measure(name: string, call: () => Promise<string>, tokenRequests: () => number): Promise<Row> {
  const first = await call();
  const requestsBefore = tokenRequests();
  for (let i = 0; i < WARM_UP; i++) await call();
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) await call();
    samples.push(ITERATIONS / ((performance.now() - start) / 1000));
  }
  if ((await call()) !== first) throw new Error(`${name}: the token changed during the benchmark`);
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  return {
    name,
    opsPerSecond: Math.round(median),
    minOpsPerSecond: Math.round(samples[0] ?? 0),
    maxOpsPerSecond: Math.round(samples[samples.length - 1] ?? 0),
    nsPerCall: Math.round(1e9 / median),
    // With a valid token cached the hot path must not reach the server at all.
    requestsDuringMeasurement: tokenRequests() - requestsBefore,
  };
}

function testServer() {
  return createTestAuthorizationServer({
    clients: [
      {
        clientId: 'svc',
        clientSecret: 'svc-secret',
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: ['read', 'write'],
      },
    ],
    accessTokenTtl: 24 * 3600,
  });
}
const provider = { issuer: 'https://auth.test', tokenEndpoint: 'https://auth.test/token' };

const rows: Row[] = [];

{
  // The floor: an async function handing back a string it holds, awaited the same way.
  const held = 'cached-access-token';
  const bare = async (): Promise<string> => held;
  rows.push(await measure('baseline: bare async () => cachedToken', bare, () => 0));
}

{
  const server = testServer();
  const cache = createClientCredentialsCache({
    provider,
    client: { clientId: 'svc', clientSecret: 'svc-secret' },
    services: { fetch: server.fetch, clock: server.clock },
  });
  rows.push(
    await measure('tokenCache.getAccessToken() default key', () => cache.getAccessToken(), () => server.tokenRequests().length),
  );
  const request = { scopes: ['write', 'read'] };
  rows.push(
    await measure('tokenCache.getAccessToken({ scopes })', () => cache.getAccessToken(request), () => server.tokenRequests().length),
  );
  cache.clear(); // stops the keys' machines (and their expiry timers)
}

try {
  const { createOAuthClient } = await import('../src/client.js');
  const server = testServer();
  const client = createOAuthClient({
    grant: 'client_credentials',
    provider,
    client: { clientId: 'svc', clientSecret: 'svc-secret', scopes: ['read'] },
    services: { fetch: server.fetch, clock: server.clock },
  });
  await client.login();
  rows.push(await measure('createOAuthClient().getAccessToken()', () => client.getAccessToken(), () => server.tokenRequests().length));
  client.stop();
} catch (error) {
  rows.push({ name: 'createOAuthClient().getAccessToken()', unavailable: error instanceof Error ? error.message : String(error) });
}

const floor = rows[0]?.nsPerCall;
for (const row of rows) if (floor && row.nsPerCall) row['nsToBareAsyncFn'] = Number((row.nsPerCall / floor).toFixed(2));
for (const row of rows) {
  if (row.unavailable) console.log(`${row.name.padEnd(45)} unavailable: ${row.unavailable}`);
  else console.log(`${row.name.padEnd(45)} ${row.opsPerSecond?.toLocaleString('en-US').padStart(12)} calls/s (${row.nsPerCall} ns/call, token requests while measuring: ${row.requestsDuringMeasurement})`);
}
writeResult('getAccessToken', {
  benchmark: 'getAccessToken',
  description: `hot path with a valid token: ${ROUNDS} rounds of ${ITERATIONS.toLocaleString('en-US')} awaited calls, median; nsToBareAsyncFn: ns per call over a bare async function's`,
  rows,
  ok: rows.every((row) => row.unavailable !== undefined || row.requestsDuringMeasurement === 0),
});
