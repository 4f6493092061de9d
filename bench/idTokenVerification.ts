/**
 * The cost of ID-token signature verification: µs per verification with the
 * library's `verifyIdTokenSignature` (key set cached, as after the first
 * login) for RS256, ES256 and EdDSA, beside `jose`'s own `compactVerify` with
 * the key already imported (the floor: the signature check alone); and the
 * bytes it adds to the SPA, loaded on demand (`lazyGzipBytes` of the bundle
 * measure: the verifier, the key-set cache and the parts of `jose` they use).
 * Run: `npx tsx bench/idTokenVerification.ts` (or `npm run bench -- idTokenVerification`);
 * writes bench/results/idTokenVerification.json.
 */
import { compactVerify, exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { verifyIdTokenSignature } from '../src/protocol/idTokenSignature.js';
import { defaultServices } from '../src/services/defaultServices.js';
import { measureBundle, SPA_CODE_GRANT_ENDPOINTS_ENTRY, SPA_CODE_GRANT_ENTRY } from '../test/support/bundle.js';
import { writeResult } from './benchResult.js';

const ROUND_MS = 500;
const ROUNDS = 3;
const ISSUER = 'https://as.example';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Microseconds per call, the median of `ROUNDS` rounds of `ROUND_MS` each (after one warm-up round). */
async function microseconds(run: () => Promise<unknown>): Promise<number> {
  const rounds: number[] = [];
  for (let index = 0; index <= ROUNDS; index += 1) {
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < ROUND_MS) {
      await run();
      calls += 1;
    }
    if (index > 0) rounds.push(((performance.now() - start) * 1_000) / calls);
  }
  return Number(median(rounds).toFixed(1));
}

const rows: Record<string, unknown>[] = [];
for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  const pair = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg, use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const idToken = await new SignJWT({ sub: 'alice', nonce: 'n' })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('spa')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(pair.privateKey);
  const keySet = JSON.stringify({ keys: [jwk] });
  let keySetReads = 0;
  const services = defaultServices({
    fetch: async () => {
      keySetReads += 1;
      return new Response(keySet, { headers: { 'content-type': 'application/json' } });
    },
  });
  const context = { provider: { issuer: ISSUER, tokenEndpoint: `${ISSUER}/token`, jwksUri: `${ISSUER}/jwks` }, client: { clientId: 'spa' }, services };
  const library = await microseconds(() => verifyIdTokenSignature(context, idToken));
  const joseFloor = await microseconds(() => compactVerify(idToken, pair.publicKey as KeyLike, { algorithms: [alg] }));
  rows.push({ alg, libraryMicroseconds: library, joseCompactVerifyMicroseconds: joseFloor, keySetReads });
}

for (const [name, file] of [
  ['SPA: createBrowserAuth, code grant', SPA_CODE_GRANT_ENTRY],
  ['SPA: createBrowserAuth, endpoints, no openid', SPA_CODE_GRANT_ENDPOINTS_ENTRY],
] as const) {
  const size = await measureBundle(file);
  rows.push({
    entry: name,
    appGzipKiB: Number((size.gzipBytes / 1024).toFixed(2)),
    onDemandGzipKiB: Number((size.lazyGzipBytes / 1024).toFixed(2)),
    joseInApp: size.modules.some((module) => module.includes('node_modules/jose/')),
  });
}

const ok = rows.every((row) => row.joseInApp !== true && (row.keySetReads === undefined || row.keySetReads === 1));
writeResult('idTokenVerification', {
  benchmark: 'idTokenVerification',
  description:
    'ID-token signature verification: µs per verification (key set cached) with verifyIdTokenSignature and with jose compactVerify alone; the SPA bundle (min+gzip) and what verification loads on demand',
  rows,
  ok,
});
console.table(rows);
if (!ok) process.exitCode = 1;
