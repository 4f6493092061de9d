// The examples import the library by its name (`oauth-machines/browser`, `oauth-machines/react`), as an app
// does. This esbuild plugin resolves those names through package.json "exports" to the TypeScript sources the
// entries are built from (`./dist/src/react/index.js` → `src/react/index.ts`), so an example builds from a
// clean checkout, without `npm run build`, and always from the current sources.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The source file of an entry of package.json "exports" (`oauth-machines/react` → `<root>/src/react/index.ts`), or undefined. */
export function entrySource(specifier) {
  if (specifier !== pkg.name && !specifier.startsWith(`${pkg.name}/`)) return undefined;
  const target = pkg.exports[specifier === pkg.name ? '.' : `.${specifier.slice(pkg.name.length)}`];
  const built = typeof target === 'object' && target !== null ? target.default : undefined;
  if (typeof built !== 'string' || !built.startsWith('./dist/')) return undefined;
  return join(root, built.slice('./dist/'.length).replace(/\.js$/, '.ts'));
}

/** esbuild plugin: `oauth-machines[/entry]` → that entry's source; an unknown entry fails the build, naming it. */
export const packageSources = {
  name: 'oauth-machines-sources',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^${pkg.name}(/|$)`) }, (args) => {
      const path = entrySource(args.path);
      if (path === undefined) return { errors: [{ text: `${args.path} is not an entry of package.json "exports"` }] };
      return { path };
    });
  },
};
