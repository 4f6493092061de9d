/**
 * Bundle size of each browser-facing entry, of a single-page app using
 * `createBrowserAuth` for the code grant, and of the same app written with
 * oidc-client-ts and with oauth4webapi (plus XState alone, the floor of any
 * statechart library): esbuild (bundle, minify, platform browser, every
 * dependency included), raw and gzip bytes. Fails when any `node:` module
 * (or a bare Node built-in) would end up in one of them — no Node built-in
 * may reach a browser-facing entry (only server, redis and the testing
 * entry's loopback server may import them) — or when either SPA (with
 * discovery and `openid`; with the endpoints written out and no `openid`) is
 * over its budget in `bench/budget.json`.
 *
 * Run: `npx tsx bench/bundleSize.ts` (or `npm run bench -- bundleSize`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { measureBundle, readBudget, REPO_ROOT, SPA_CODE_GRANT_ENDPOINTS_ENTRY, SPA_CODE_GRANT_ENTRY } from '../test/support/bundle.js';
import { writeResult, type BenchResult } from './benchResult.js';

interface BundleEntry {
  /** The package specifier users import, or what the app is. */
  name: string;
  file: string;
  /** Modules left out of this face (imported dynamically by a Node-only method). */
  exclude?: RegExp;
  /** A baseline of another library, not part of this package. */
  baseline?: boolean;
}

const SPA = 'SPA: createBrowserAuth, code grant';
const SPA_ENDPOINTS = 'SPA: createBrowserAuth, endpoints, no openid';
/** The SPA entries with a budget, by their key in `bench/budget.json`. */
const BUDGETED = [
  { name: SPA, key: 'spaCodeGrant' },
  { name: SPA_ENDPOINTS, key: 'spaCodeGrantEndpoints' },
] as const;

const ENTRIES: BundleEntry[] = [
  { name: 'oauth-machines', file: 'src/index.ts' },
  { name: 'oauth-machines/browser', file: 'src/browser/index.ts' },
  // The in-memory face: `listen()` loads the loopback server (node:http) with a dynamic import, left out here.
  { name: 'oauth-machines/testing (in-memory)', file: 'src/testing/index.ts', exclude: /(^|\/)loopback(\.js|\.ts)?$/ },
  { name: 'oauth-machines/providers', file: 'src/providers/index.ts' },
  { name: 'oauth-machines/inspect', file: 'src/inspect/index.ts' },
  { name: 'oauth-machines/legacy', file: 'machines/legacy/index.ts' },
  { name: SPA, file: SPA_CODE_GRANT_ENTRY },
  { name: SPA_ENDPOINTS, file: SPA_CODE_GRANT_ENDPOINTS_ENTRY },
  { name: 'baseline SPA: oidc-client-ts UserManager', file: 'bench/entries/oidcClientTs.ts', baseline: true },
  { name: 'baseline SPA: oauth4webapi code flow', file: 'bench/entries/oauth4webapi.ts', baseline: true },
  { name: 'baseline: xstate createActor(createMachine({}))', file: 'bench/entries/xstateOnly.ts', baseline: true },
];

interface Row {
  entry: string;
  file: string;
  rawBytes: number;
  gzipBytes: number;
  gzipKiB: number;
  nodeImports: string[];
  [key: string]: unknown;
}

type Failure = { entry: string; file: string; missing: true } | { entry: string; file: string; buildError: string };

async function measure(entry: BundleEntry): Promise<Row | Failure> {
  if (!existsSync(join(REPO_ROOT, entry.file))) return { entry: entry.name, file: entry.file, missing: true };
  try {
    const size = await measureBundle(entry.file, entry.exclude ? { exclude: entry.exclude } : {});
    return { entry: entry.name, file: entry.file, ...size, gzipKiB: Number((size.gzipBytes / 1024).toFixed(2)) };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : String(error);
    return { entry: entry.name, file: entry.file, buildError: message };
  }
}

const rows: Array<Row | Failure> = [];
for (const entry of ENTRIES) rows.push(await measure(entry));

const measured = rows.filter((row): row is Row => 'gzipBytes' in row);
const spa = measured.find((row) => row.entry === SPA);
const spaEndpoints = measured.find((row) => row.entry === SPA_ENDPOINTS);
// Ratios of each SPA to each baseline app, by gzip size.
for (const row of measured) {
  if (!ENTRIES.find((entry) => entry.name === row.entry)?.baseline) continue;
  if (spa) row['spaToThis'] = Number((spa.gzipBytes / row.gzipBytes).toFixed(2));
  if (spaEndpoints) row['spaEndpointsToThis'] = Number((spaEndpoints.gzipBytes / row.gzipBytes).toFixed(2));
}
const budgets = readBudget();
const overBudget = BUDGETED.flatMap(({ name, key }) => {
  const row = measured.find((candidate) => candidate.entry === name);
  const { maxGzipKiB } = budgets[key];
  return row !== undefined && row.gzipBytes > maxGzipKiB * 1024 ? [{ row, maxGzipKiB }] : [];
});
const budgetText = BUDGETED.map(({ name, key }) => `${name}: ${budgets[key].maxGzipKiB} KiB, target ${budgets[key].targetGzipKiB} KiB`).join('; ');

const offenders = measured.filter((row) => row.nodeImports.length > 0);
// package.json promises every entry: a missing one, or one that does not build, is a defect too.
const missing = rows.filter((row): row is Failure => 'missing' in row || 'buildError' in row);
const result: BenchResult = {
  benchmark: 'bundleSize',
  description: `esbuild --bundle --minify --platform=browser --target=es2022, every dependency included; gzip level 9. Budgets (bench/budget.json): ${budgetText}`,
  rows: rows.map((row) => ({ ...row })),
  ok: offenders.length === 0 && missing.length === 0 && overBudget.length === 0,
};
writeResult('bundleSize', result);
for (const row of rows) {
  if ('missing' in row) console.log(`${row.entry.padEnd(50)} (entry ${row.file} not present)`);
  else if ('buildError' in row) console.log(`${row.entry.padEnd(50)} (does not build: ${row.buildError})`);
  else console.log(`${row.entry.padEnd(50)} ${String(row.rawBytes).padStart(8)} B  ${String(row.gzipBytes).padStart(7)} B gzip (${row.gzipKiB.toFixed(2)} KiB)${row['spaToThis'] ? `  SPA is ${String(row['spaToThis'])}×, endpoints SPA ${String(row['spaEndpointsToThis'])}×` : ''}`);
}
for (const row of missing) console.error(`FAIL ${row.entry}: ${'missing' in row ? `${row.file} does not exist` : row.buildError}`);
for (const row of offenders) console.error(`FAIL ${row.entry} imports Node built-ins: ${row.nodeImports.join(', ')}`);
for (const { row, maxGzipKiB } of overBudget) {
  console.error(`FAIL ${row.entry}: ${row.gzipBytes} B gzip is over the budget of ${maxGzipKiB} KiB (bench/budget.json)`);
}
if (!result.ok) process.exitCode = 1;
