/**
 * PKCE pair generation (32 random bytes → 43-character verifier → S256
 * challenge, `createPkce`) per second, with WebCrypto and with node:crypto.
 * Run: `npx tsx bench/crypto.ts` (or `npm run bench -- crypto`); writes bench/results/crypto.json.
 */
import { createPkce } from '../src/protocol/pkce.js';
import { nodeCrypto } from '../src/server/nodeServices.js';
import type { CryptoService } from '../src/services/types.js';
import { webCrypto } from '../src/services/webCrypto.js';
import { writeResult } from './benchResult.js';

const ROUND_MS = 1_000;
const ROUNDS = 5;
const BATCH = 64;

/** Operations per second over one round: `run` is called until the round's time is up. */
async function round(run: () => Promise<unknown>, perCall: number): Promise<number> {
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    await run();
    operations += perCall;
    elapsed = performance.now() - start;
  }
  return (operations / elapsed) * 1_000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function measure(name: string, crypto: CryptoService, mode: 'sequential' | 'batched') {
  const run =
    mode === 'sequential'
      ? () => createPkce(crypto)
      : () => Promise.all(Array.from({ length: BATCH }, () => createPkce(crypto)));
  const perCall = mode === 'sequential' ? 1 : BATCH;
  await round(run, perCall); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) rounds.push(await round(run, perCall));
  return {
    name: `${name} ${mode === 'sequential' ? 'sequential' : `batches of ${BATCH}`}`,
    opsPerSec: Math.round(median(rounds)),
    minOpsPerSec: Math.round(Math.min(...rounds)),
    maxOpsPerSec: Math.round(Math.max(...rounds)),
    microsecondsPerOp: Number((1e6 / median(rounds)).toFixed(2)),
  };
}

const rows = [];
for (const mode of ['sequential', 'batched'] as const) {
  rows.push(await measure('webCrypto', webCrypto(), mode));
  rows.push(await measure('nodeCrypto', nodeCrypto(), mode));
}

// Both services must produce valid pairs; a benchmark of broken output would be meaningless.
for (const crypto of [webCrypto(), nodeCrypto()]) {
  const pair = await createPkce(crypto);
  if (!/^[A-Za-z0-9_-]{43}$/.test(pair.verifier) || !/^[A-Za-z0-9_-]{43}$/.test(pair.challenge)) {
    throw new Error(`invalid PKCE pair: ${JSON.stringify(pair)}`);
  }
}

writeResult('crypto', {
  benchmark: 'crypto',
  description: `PKCE S256 pairs per second (createPkce), median of ${ROUNDS} rounds of ${ROUND_MS} ms after a warm-up round`,
  rows,
  ok: true,
});
console.table(rows);
