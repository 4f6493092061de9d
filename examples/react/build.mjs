// Bundles the React example with esbuild: `node examples/react/build.mjs [--outdir DIR] [--no-minify]`
// writes examples/react/dist/{index.html,main.js} (or DIR/…) and prints the size.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExample } from '../buildExample.mjs';

await buildExample({
  framework: 'React',
  here: dirname(fileURLToPath(import.meta.url)),
  entry: 'main.tsx',
  // React 19's automatic runtime (react/jsx-runtime), as tsconfig's "jsx": "react-jsx": no `import React` needed.
  options: () => ({ jsx: 'automatic' }),
});
