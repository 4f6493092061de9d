// Bundles the React example with esbuild: `node examples/react/build.mjs [--outdir DIR] [--no-minify]`
// writes examples/react/dist/{index.html,main.js} (or DIR/…) and prints the size.
import { build } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageSources } from '../packageSources.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag === -1 ? join(here, 'dist') : resolve(process.argv[outdirFlag + 1] ?? 'dist');
const minify = !process.argv.includes('--no-minify');

await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'main.tsx')],
  outfile: join(outdir, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // React 19's automatic runtime (react/jsx-runtime), as tsconfig's "jsx": "react-jsx": no `import React` needed.
  jsx: 'automatic',
  // React picks its development or production build from this; an unminified build keeps React's warnings.
  define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development') },
  minify,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  // `oauth-machines/browser` and `oauth-machines/react`, by name, from the sources of those entries.
  plugins: [packageSources],
});
// A browser bundle must not reach Node built-ins: fail the build if one is imported.
const nodeImports = Object.values(result.metafile.inputs).flatMap((input) =>
  input.imports.filter((entry) => entry.path.startsWith('node:')).map((entry) => entry.path),
);
if (nodeImports.length > 0) {
  console.error(`the browser bundle imports Node built-ins: ${nodeImports.join(', ')}`);
  process.exit(1);
}
await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
const { size } = await stat(join(outdir, 'main.js'));
console.log(`${join(outdir, 'main.js')} ${(size / 1024).toFixed(1)} KiB`);
