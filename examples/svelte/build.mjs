// Bundles the Svelte example with esbuild: `node examples/svelte/build.mjs [--outdir DIR] [--no-minify]`
// writes examples/svelte/dist/{index.html,main.js} (or DIR/…) and prints the size.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sveltePlugin from 'esbuild-svelte';
import { buildExample } from '../buildExample.mjs';

await buildExample({
  framework: 'Svelte',
  here: dirname(fileURLToPath(import.meta.url)),
  entry: 'main.ts',
  options: (minify) => ({
    // Svelte's browser build of its runtime, and App.svelte compiled by Svelte (its dev checks in an unminified build).
    conditions: ['svelte', 'browser'],
    mainFields: ['svelte', 'browser', 'module', 'main'],
    plugins: [sveltePlugin({ compilerOptions: { dev: !minify, css: 'injected' } })],
  }),
});
