/**
 * Bundle size of each browser-facing entry: esbuild (bundle, minify, platform
 * browser, xstate and valibot included), raw and gzip bytes. Fails when any
 * `node:` module (or a bare Node built-in) would end up in one of them
 * (DESIGN.md: no Node built-ins in any entry but server/redis/testing's
 * loopback server).
 *
 * Run: `npx tsx bench/bundleSize.ts` (or `npm run bench` for all benchmarks).
 */
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeResult, type BenchResult } from './benchResult.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface BundleEntry {
  /** The package specifier users import. */
  name: string;
  file: string;
  /** Modules left out of this face (imported dynamically by a Node-only method). */
  exclude?: RegExp;
}

const ENTRIES: BundleEntry[] = [
  { name: 'oauth-machines', file: 'src/index.ts' },
  { name: 'oauth-machines/browser', file: 'src/browser/index.ts' },
  // The in-memory face: `listen()` loads the loopback server (node:http) with a dynamic import, left out here.
  { name: 'oauth-machines/testing (in-memory)', file: 'src/testing/index.ts', exclude: /(^|\/)loopback(\.js|\.ts)?$/ },
  { name: 'oauth-machines/providers', file: 'src/providers/index.ts' },
  { name: 'oauth-machines/inspect', file: 'src/inspect/index.ts' },
  { name: 'oauth-machines/legacy', file: 'machines/legacy/index.ts' },
];

const NODE_BUILTINS = new Set(builtinModules);

/** Records every Node built-in a bundle would import, and keeps it out of the bundle. */
function nodeImportRecorder(found: string[], exclude: RegExp | undefined): Plugin {
  return {
    name: 'record-node-imports',
    setup(buildApi) {
      buildApi.onResolve({ filter: /.*/ }, (args) => {
        if (exclude && exclude.test(args.path)) return { path: args.path, external: true };
        if (args.path.startsWith('node:') || NODE_BUILTINS.has(args.path)) {
          found.push(`${args.path} (from ${relative(root, args.importer)})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

interface Row {
  entry: string;
  file: string;
  rawBytes: number;
  gzipBytes: number;
  nodeImports: string[];
  [key: string]: unknown;
}

type Failure = { entry: string; file: string; missing: true } | { entry: string; file: string; buildError: string };

async function measure(entry: BundleEntry): Promise<Row | Failure> {
  const path = join(root, entry.file);
  if (!existsSync(path)) return { entry: entry.name, file: entry.file, missing: true };
  const nodeImports: string[] = [];
  let result;
  try {
    result = await build({
    entryPoints: [path],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [nodeImportRecorder(nodeImports, entry.exclude)],
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : String(error);
    return { entry: entry.name, file: entry.file, buildError: message };
  }
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${entry.file}`);
  return {
    entry: entry.name,
    file: entry.file,
    rawBytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength,
    nodeImports,
  };
}

const rows = [];
for (const entry of ENTRIES) rows.push(await measure(entry));

const offenders = rows.filter((row): row is Row => 'nodeImports' in row && row.nodeImports.length > 0);
// package.json promises every entry: a missing one, or one that does not build, is a defect too.
const missing = rows.filter((row): row is Failure => 'missing' in row || 'buildError' in row);
const result: BenchResult = {
  benchmark: 'bundleSize',
  description: 'esbuild --bundle --minify --platform=browser, xstate and valibot included; gzip level 9',
  rows: rows.map((row) => ({ ...row })),
  ok: offenders.length === 0 && missing.length === 0,
};
writeResult('bundleSize', result);
for (const row of rows) {
  if ('missing' in row) console.log(`${row.entry.padEnd(40)} (entry ${row.file} not present)`);
  else if ('buildError' in row) console.log(`${row.entry.padEnd(40)} (does not build: ${row.buildError})`);
  else console.log(`${row.entry.padEnd(40)} ${String(row.rawBytes).padStart(8)} B  ${String(row.gzipBytes).padStart(7)} B gzip`);
}
for (const row of missing) console.error(`FAIL ${row.entry}: ${'missing' in row ? `${row.file} does not exist` : row.buildError}`);
if (offenders.length > 0 || missing.length > 0) {
  for (const row of offenders) console.error(`FAIL ${row.entry} imports Node built-ins: ${row.nodeImports.join(', ')}`);
  process.exitCode = 1;
}
