// Runs every benchmark in bench/ (`node --expose-gc --import tsx bench/<name>.ts`,
// one process each so they do not disturb one another; --expose-gc for the
// memory benchmark's forced collections), collects bench/results/<name>.json
// into bench/results/summary.json and prints a table. bench/support/ and
// bench/entries/ hold helpers and bundle entries, not benchmarks.
// Usage: npm run bench [-- name ...]   (names without .ts run only those)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const resultsDir = join(benchDir, 'results');

// Modules shared by the benchmarks, not benchmarks themselves.
const NOT_BENCHMARKS = new Set(['benchResult']);

const requested = process.argv.slice(2);
const names = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
  .map((file) => file.slice(0, -3))
  .filter((name) => !NOT_BENCHMARKS.has(name))
  .filter((name) => requested.length === 0 || requested.includes(name))
  .sort();

const summary = { generatedAt: new Date().toISOString(), node: process.version, benchmarks: {} };
let failed = false;

for (const name of names) {
  console.log(`\n── ${name} ──`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(benchDir, `${name}.ts`)], {
    cwd: root,
    stdio: 'inherit',
    timeout: 5 * 60_000,
  });
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const resultFile = join(resultsDir, `${name}.json`);
  const status = run.status === 0 ? 'ok' : `failed (exit ${run.status ?? run.signal})`;
  if (run.status !== 0) failed = true;
  let result;
  if (existsSync(resultFile)) {
    try {
      result = JSON.parse(readFileSync(resultFile, 'utf8'));
    } catch {
      result = undefined;
    }
  }
  if (result && result.ok === false) failed = true;
  summary.benchmarks[name] = { status, result: result ?? null };
}

writeFileSync(join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

// The table: one line per row of every benchmark, its numbers as columns.
console.log('\n══ summary (bench/results/summary.json) ══');
for (const [name, { status, result }] of Object.entries(summary.benchmarks)) {
  console.log(`\n${name}: ${status}${result?.description ? ` — ${result.description}` : ''}`);
  const rows = Array.isArray(result?.rows) ? result.rows : flatten(result ?? {});
  for (const row of rows) {
    const label = String(row.name ?? row.entry ?? row.case ?? '');
    const cells = Object.entries(row)
      .filter(([key, value]) => typeof value === 'number' && key !== 'name')
      .map(([key, value]) => `${key}=${format(value)}`);
    console.log(`  ${label.padEnd(40)} ${cells.join('  ')}`);
  }
}
process.exitCode = failed ? 1 : 0;

function format(value) {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);
}

/** For result files that do not follow { rows }: their numeric leaves, one row each. */
function flatten(value, path = '') {
  if (typeof value === 'number') return [{ name: path, value }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => flatten(child, path ? `${path}.${key}` : key));
}
