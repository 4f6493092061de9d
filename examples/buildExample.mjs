// Builds one framework example with esbuild (React, Vue, Svelte): `node examples/<name>/build.mjs [--outdir DIR]
// [--no-minify]` writes examples/<name>/dist/{index.html,main.js} (or DIR/…) and prints the size. Each example's
// build.mjs says what is its own (its name, entry, JSX, plugins, the framework's compile-time flags); the page
// around the app, exampleIndex.html, is the same for all.
import { build } from 'esbuild';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageSources } from './packageSources.mjs';

/**
 * @param {{ framework: string, here: string, entry: string, options?: (minify: boolean) => import('esbuild').BuildOptions }} example
 *   the framework's name (the page's title), the example's folder, its entry file there, and its own esbuild
 *   options (given whether the build is minified).
 */
export async function buildExample({ framework, here, entry, options = () => ({}) }) {
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
  const page = await readFile(join(dirname(fileURLToPath(import.meta.url)), 'exampleIndex.html'), 'utf8');
  await writeFile(join(outdir, 'index.html'), page.replaceAll('{{framework}}', framework));
  const { size } = await stat(join(outdir, 'main.js'));
  console.log(`${join(outdir, 'main.js')} ${(size / 1024).toFixed(1)} KiB`);
}
