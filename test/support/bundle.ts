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
  /** The first chunk: what the application loads before it runs (code loaded with a dynamic `import()` apart). */
  rawBytes: number;
  /** gzip, level 9. */
  gzipBytes: number;
  /** The chunks loaded on demand (the dynamic imports: `jose` for ID-token signatures and JWT signing), raw and gzip. */
  lazyRawBytes: number;
  lazyGzipBytes: number;
  /** Every Node built-in the entry would import (each kept out of the bundle): must be empty for a browser entry. */
  nodeImports: string[];
  /** The input files that put bytes in the first chunk (esbuild's metafile), relative to the repository root. */
  modules: string[];
  /** The input files of the chunks loaded on demand. */
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
 * es2022, every dependency included, code split at dynamic imports (as every
 * application bundler does), then gzip level 9. The first chunk is what the
 * application loads before it runs (`gzipBytes`, what the budget is about);
 * the chunks of dynamic imports are counted apart (`lazyGzipBytes`).
 */
export async function measureBundle(file: string, options: { exclude?: RegExp } = {}): Promise<BundleSize> {
  const nodeImports: string[] = [];
  const result = await build({
    entryPoints: [join(REPO_ROOT, file)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    splitting: true,
    outdir: join(REPO_ROOT, 'node_modules', '.cache', 'bundle-measure'),
    write: false,
    logLevel: 'silent',
    metafile: true,
    absWorkingDir: REPO_ROOT,
    plugins: [nodeImportRecorder(nodeImports, options.exclude)],
  });
  const outputs = Object.entries(result.metafile.outputs);
  const isEntry = (output: (typeof outputs)[number][1]) => output.entryPoint !== undefined;
  // Shared chunks the entry imports statically load with it; only dynamic imports' chunks are lazy.
  const entryPath = outputs.find(([, output]) => isEntry(output))?.[0];
  if (entryPath === undefined) throw new Error(`esbuild produced no entry chunk for ${file}`);
  const eager = new Set<string>([entryPath]);
  for (const path of eager) {
    for (const imported of result.metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) eager.add(imported.path);
    }
  }
  const contents = (path: string) => {
    const output = result.outputFiles.find((candidate) => candidate.path.endsWith(path.replace(/^.*bundle-measure/, '')));
    if (!output) throw new Error(`esbuild produced no output ${path} for ${file}`);
    return output.contents;
  };
  const sizes = (paths: string[]) => {
    const bytes = paths.map(contents);
    return {
      raw: bytes.reduce((sum, part) => sum + part.byteLength, 0),
      gzip: bytes.reduce((sum, part) => sum + gzipSync(part, { level: 9 }).byteLength, 0),
    };
  };
  const inputsOf = (paths: string[]) =>
    paths.flatMap((path) =>
      Object.entries(result.metafile.outputs[path]?.inputs ?? {})
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([input]) => input),
    );
  const eagerPaths = [...eager].filter((path) => path.endsWith('.js'));
  const lazyPaths = outputs.map(([path]) => path).filter((path) => path.endsWith('.js') && !eager.has(path));
  const first = sizes(eagerPaths);
  const lazy = sizes(lazyPaths);
  return {
    rawBytes: first.raw,
    gzipBytes: first.gzip,
    lazyRawBytes: lazy.raw,
    lazyGzipBytes: lazy.gzip,
    nodeImports,
    modules: inputsOf(eagerPaths),
    lazyModules: inputsOf(lazyPaths),
  };
}
