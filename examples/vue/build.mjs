// Bundles the Vue example with esbuild: `node examples/vue/build.mjs [--outdir DIR] [--no-minify]`
// writes examples/vue/dist/{index.html,main.js} (or DIR/…) and prints the size.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExample } from '../buildExample.mjs';

await buildExample({
  framework: 'Vue',
  here: dirname(fileURLToPath(import.meta.url)),
  entry: 'main.ts',
  // Vue's bundler build (render functions only: no template compiler) asks the bundler for its feature flags.
  options: (minify) => ({
    define: {
      __VUE_OPTIONS_API__: 'false',
      __VUE_PROD_DEVTOOLS__: 'false',
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: String(!minify),
    },
  }),
});
