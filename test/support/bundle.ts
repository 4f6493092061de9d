/**
 * Bundles TypeScript for Chromium with esbuild, the way an application's
 * bundler would: platform `browser`, so any Node built-in reached from the
 * entry fails the build (DESIGN.md: no `node:` imports in browser entries).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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
