/**
 * Single-flight under load: 10,000 concurrent `getAccessToken()` callers
 * arriving while the token must be renewed, against the in-memory test
 * server. Reports the time until every caller has its token and how many
 * token requests the server saw per round (the point: exactly one).
 *
 * - the server token cache: renewal of a client-credentials token;
 * - the `createOAuthClient` façade: a refresh-token grant of an
 *   authorization-code session (if the client is available).
 *
 * Run: `npx tsx bench/refreshSingleFlight.ts`.
 */
import { performance } from 'node:perf_hooks';
import { createClientCredentialsCache } from '../src/server/tokenCache.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';
import { writeResult } from './benchResult.js';

const CALLERS = 10_000;
const ROUNDS = 20;
const TTL_SECONDS = 3600;

interface Row {
  name: string;
  callers?: number;
  rounds?: number;
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  maxTokenRequestsPerRound?: number;
  unavailable?: string;
  [key: string]: unknown;
}

async function rounds(
  name: string,
  expire: () => void,
  call: () => Promise<string>,
  requestsSoFar: () => number,
): Promise<Row> {
  const durations: number[] = [];
  let maxRequests = 0;
  let previous = await call();
  for (let round = 0; round < ROUNDS; round++) {
    expire();
    const before = requestsSoFar();
    const start = performance.now();
    const tokens = await Promise.all(Array.from({ length: CALLERS }, call));
    durations.push(performance.now() - start);
    maxRequests = Math.max(maxRequests, requestsSoFar() - before);
    const distinct = new Set(tokens);
    if (distinct.size !== 1 || distinct.has(previous)) throw new Error(`${name}: round ${round} did not hand one new token to every caller`);
    previous = tokens[0] ?? '';
  }
  durations.sort((a, b) => a - b);
  return {
    name,
    callers: CALLERS,
    rounds: ROUNDS,
    medianMs: Number((durations[Math.floor(durations.length / 2)] ?? 0).toFixed(2)),
    minMs: Number((durations[0] ?? 0).toFixed(2)),
    maxMs: Number((durations[durations.length - 1] ?? 0).toFixed(2)),
    maxTokenRequestsPerRound: maxRequests,
  };
}

const rows: Row[] = [];

{
  const server = createTestAuthorizationServer({
    clients: [
      {
        clientId: 'svc',
        clientSecret: 'svc-secret',
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: ['read'],
      },
    ],
    accessTokenTtl: TTL_SECONDS,
  });
  const cache = createClientCredentialsCache({
    provider: { issuer: 'https://auth.test', tokenEndpoint: 'https://auth.test/token' },
    client: { clientId: 'svc', clientSecret: 'svc-secret', scopes: ['read'] },
    services: { fetch: server.fetch, clock: server.clock },
  });
  rows.push(
    await rounds(
      'tokenCache renewal (client_credentials)',
      () => server.clock.advance(TTL_SECONDS * 1000),
      () => cache.getAccessToken(),
      () => server.tokenRequests('client_credentials').length,
    ),
  );
  cache.clear(); // stops the keys' machines (and their expiry timers)
}

try {
  const { createOAuthClient } = await import('../src/client.js');
  const server = createTestAuthorizationServer({
    clients: [
      {
        clientId: 'spa',
        authMethod: 'none',
        redirectUris: ['https://app.example/callback'],
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['offline_access'],
      },
    ],
    accessTokenTtl: TTL_SECONDS,
  });
  const client = createOAuthClient({
    grant: 'authorization_code',
    provider: {
      issuer: 'https://auth.test',
      authorizationEndpoint: 'https://auth.test/authorize',
      tokenEndpoint: 'https://auth.test/token',
      authorizationResponseIssParameterSupported: true,
    },
    client: { clientId: 'spa', redirectUri: 'https://app.example/callback', scopes: ['offline_access'] },
    services: { fetch: server.fetch, clock: server.clock, navigate: () => undefined },
  });
  const authorizationUrl = await client.login();
  await client.handleCallback(await server.authorize(authorizationUrl));
  rows.push(
    await rounds(
      'createOAuthClient refresh (refresh_token)',
      () => server.clock.advance(TTL_SECONDS * 1000),
      () => client.getAccessToken(),
      () => server.tokenRequests('refresh_token').length,
    ),
  );
  client.stop();
} catch (error) {
  rows.push({ name: 'createOAuthClient refresh (refresh_token)', unavailable: error instanceof Error ? error.message : String(error) });
}

for (const row of rows) {
  if (row.unavailable) console.log(`${row.name.padEnd(45)} unavailable: ${row.unavailable}`);
  else console.log(`${row.name.padEnd(45)} median ${row.medianMs} ms (min ${row.minMs}, max ${row.maxMs}) for ${CALLERS} callers; token requests per round ≤ ${row.maxTokenRequestsPerRound}`);
}
writeResult('refreshSingleFlight', {
  benchmark: 'refreshSingleFlight',
  description: `${CALLERS} concurrent getAccessToken() during one renewal, ${ROUNDS} rounds, in-memory test server`,
  rows,
  ok: rows.every((row) => row.unavailable !== undefined || row.maxTokenRequestsPerRound === 1),
});
