// Builds one framework example with esbuild (React, Vue, Svelte): `node examples/<name>/build.mjs [--outdir DIR]
// [--no-minify]` writes examples/<name>/dist/{index.html,main.js} (or DIR/…) and prints the size. Each example's
// build.mjs says what is its own (its entry, JSX, plugins, the framework's compile-time flags).
import { build } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageSources } from './packageSources.mjs';

/**
 * @param {{ here: string, entry: string, options?: (minify: boolean) => import('esbuild').BuildOptions }} example
 *   the example's folder, its entry file there, and its own esbuild options (given whether the build is minified).
 */
export async function buildExample({ here, entry, options = () => ({}) }) {
  const outdirFlag = process.argv.indexOf('--outdir');
  const outdir = outdirFlag === -1 ? join(here, 'dist') : resolve(process.argv[outdirFlag + 1] ?? 'dist');
  const minify = !process.argv.includes('--no-minify');
  const own = options(minify);

  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(here, entry)],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    ...own,
    // The frameworks pick their development or production build from this; an unminified build keeps their warnings.
    define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development'), ...own.define },
    // `oauth-machines/browser`, `oauth-machines/react`…, by name, from the sources of those entries.
    plugins: [packageSources, ...(own.plugins ?? [])],
  });
  // A browser bundle must not reach Node built-ins: fail the build if one is imported.
  const nodeImports = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((imported) => imported.path.startsWith('node:')).map((imported) => imported.path),
  );
  if (nodeImports.length > 0) {
    console.error(`the browser bundle imports Node built-ins: ${nodeImports.join(', ')}`);
    process.exit(1);
  }
  await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
  const { size } = await stat(join(outdir, 'main.js'));
  console.log(`${join(outdir, 'main.js')} ${(size / 1024).toFixed(1)} KiB`);
}
