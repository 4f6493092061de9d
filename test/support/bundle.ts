/**
 * Bundles TypeScript for Chromium with esbuild, the way an application's
 * bundler would: platform `browser`, so any Node built-in reached from the
 * entry fails the build (the rule: no Node built-in — `node:` or bare — in
 * any browser-facing entry). Also measures minified, gzipped bundles for the
 * size benchmark and the size budget test, and holds the budget.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

/** The repository root, so entries can import `./src/...`. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BundleOptions {
  /** TypeScript source of the entry module; relative imports resolve from the repository root. */
  contents: string;
  /** Directory the bundle is written to (created if missing). */
  outdir: string;
  /** File name of the bundle inside `outdir`. Default `app.js`. */
  fileName?: string;
}

/**
 * Writes `outdir/<fileName>`, an ES module with everything the entry
 * imports. Rejects (with esbuild's messages) when the entry or anything it
 * imports needs a Node built-in.
 */
export async function bundleForBrowser(options: BundleOptions): Promise<string> {
  const outfile = join(options.outdir, options.fileName ?? 'app.js');
  await mkdir(dirname(outfile), { recursive: true });
  await build({
    stdin: { contents: options.contents, loader: 'ts', resolveDir: REPO_ROOT, sourcefile: 'entry.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return outfile;
}

/** The single-page app that uses `createBrowserAuth` for the code grant (discovery, `openid`), the entry the size budget is about. */
export const SPA_CODE_GRANT_ENTRY = 'bench/entries/spaCodeGrant.ts';
/** The same app with the endpoints written out and no `openid` scope. */
export const SPA_CODE_GRANT_ENDPOINTS_ENTRY = 'bench/entries/spaCodeGrantEndpoints.ts';

/** The budget of one SPA entry, in KiB min+gzip. */
export interface SpaBudget {
  maxGzipKiB: number;
  targetGzipKiB: number;
}

interface Budget {
  spaCodeGrant: SpaBudget;
  spaCodeGrantEndpoints: SpaBudget;
}

/** The SPA entries with a budget, by their key in `bench/budget.json`. */
export const SPA_BUDGET_ENTRIES: ReadonlyArray<{ key: keyof Budget; file: string }> = [
  { key: 'spaCodeGrant', file: SPA_CODE_GRANT_ENTRY },
  { key: 'spaCodeGrantEndpoints', file: SPA_CODE_GRANT_ENDPOINTS_ENTRY },
];

/**
 * The size budget, kept in one place — `bench/budget.json` — and read by both
 * `bench/bundleSize.ts` and `test/bundle.budget.test.ts`.
 */
export function readBudget(): Budget {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'bench', 'budget.json'), 'utf8')) as Budget;
}

export interface BundleSize {
  /** What the application loads before it runs (modules loaded with a dynamic `import()` apart). */
  rawBytes: number;
  /** gzip, level 9. */
  gzipBytes: number;
  /** The modules loaded on demand (dynamic imports: the ID-token verifier and the client's signing code, with `jose`), raw and gzip. */
  lazyRawBytes: number;
  lazyGzipBytes: number;
  /** Every Node built-in the entry would import (each kept out of the bundle): must be empty for a browser entry. */
  nodeImports: string[];
  /** The input files that put bytes in the bundle (esbuild's metafile), relative to the repository root. */
  modules: string[];
  /** The input files of the modules loaded on demand. */
  lazyModules: string[];
}

const NODE_BUILTINS = new Set(builtinModules);

/** Records every Node built-in a bundle would import and keeps it out; `exclude` leaves modules out on purpose. */
function nodeImportRecorder(found: string[], exclude: RegExp | undefined): Plugin {
  return {
    name: 'record-node-imports',
    setup(buildApi) {
      buildApi.onResolve({ filter: /.*/ }, (args) => {
        if (exclude && exclude.test(args.path)) return { path: args.path, external: true };
        if (args.path.startsWith('node:') || NODE_BUILTINS.has(args.path)) {
          found.push(`${args.path} (from ${relative(REPO_ROOT, args.importer)})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

/**
 * The size of `file` (relative to the repository root) bundled as an
 * application ships it: esbuild bundle, minify, ESM, platform browser,
 * es2022, every dependency included; then gzip level 9. Modules imported with
 * a dynamic `import()` (the ID-token verifier and the client's signing code,
 * with `jose`) are what a splitting bundler puts in chunks loaded on demand:
 * they are left out of the bundle (`gzipBytes`, what the budget is about)
 * and measured apart, bundled together with all they import
 * (`lazyGzipBytes`, an upper bound of what loading them costs).
 */
export async function measureBundle(file: string, options: { exclude?: RegExp } = {}): Promise<BundleSize> {
  const nodeImports: string[] = [];
  const lazyImports = new Set<string>();
  const common = { bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', metafile: true, absWorkingDir: REPO_ROOT } as const;
  const deferDynamicImports: Plugin = {
    name: 'defer-dynamic-imports',
    setup(buildApi) {
      buildApi.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import' || args.path.startsWith('node:') || (options.exclude && options.exclude.test(args.path))) return undefined;
        lazyImports.add(join(args.resolveDir, args.path).replace(/\.js$/, '.ts'));
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({ ...common, entryPoints: [join(REPO_ROOT, file)], plugins: [nodeImportRecorder(nodeImports, options.exclude), deferDynamicImports] });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${file}`);
  const modulesOf = (metafile: { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> }) =>
    Object.values(metafile.outputs).flatMap((out) =>
      Object.entries(out.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );
  let lazy = { raw: 0, gzip: 0, modules: [] as string[] };
  if (lazyImports.size > 0) {
    const contents = [...lazyImports].map((path, index) => `export * as m${index} from ${JSON.stringify(path)};`).join('\n');
    const lazyResult = await build({
      ...common,
      stdin: { contents, loader: 'ts', resolveDir: REPO_ROOT, sourcefile: 'lazy.ts' },
      plugins: [nodeImportRecorder(nodeImports, options.exclude)],
    });
    const lazyOutput = lazyResult.outputFiles[0];
    if (lazyOutput) {
      lazy = { raw: lazyOutput.contents.byteLength, gzip: gzipSync(lazyOutput.contents, { level: 9 }).byteLength, modules: modulesOf(lazyResult.metafile) };
    }
  }
  return {
    rawBytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength,
    lazyRawBytes: lazy.raw,
    lazyGzipBytes: lazy.gzip,
    nodeImports,
    modules: modulesOf(result.metafile),
    lazyModules: lazy.modules.filter((module) => module !== 'lazy.ts'),
  };
}
