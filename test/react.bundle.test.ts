/**
 * `oauth-machines/react` costs nothing to an app without React: the browser
 * entry reaches no module of `src/react/` nor React, so the SPA budget
 * entries bundle as before; and a React app pays for the entry only its own
 * few modules (React, React DOM and `@xstate/react` being the app's).
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { measureBundle, REPO_ROOT, SPA_BUDGET_ENTRIES } from './support/bundle.js';

const REACT_MODULES = /^(src\/react\/|node_modules\/(react|react-dom|@xstate\/react|scheduler)\/)/;

/** Every module esbuild reaches from `contents` (tree-shaken or not), and the minified output. */
async function reach(contents: string, external: string[] = []): Promise<{ inputs: string[]; output: Uint8Array; bytesOf(pattern: RegExp): number }> {
  const result = await build({
    stdin: { contents, loader: 'tsx', resolveDir: REPO_ROOT, sourcefile: 'entry.tsx' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: REPO_ROOT,
    external,
  });
  const output = result.outputFiles[0]?.contents ?? new Uint8Array();
  const outputs = Object.values(result.metafile.outputs);
  return {
    inputs: Object.keys(result.metafile.inputs),
    output,
    bytesOf: (pattern) =>
      outputs.flatMap((out) => Object.entries(out.inputs)).reduce((sum, [path, input]) => sum + (pattern.test(path) ? input.bytesInOutput : 0), 0),
  };
}

describe('oauth-machines/react in bundles', () => {
  it.each(SPA_BUDGET_ENTRIES)('the SPA budget entry $file carries nothing of src/react nor of React', async ({ file }) => {
    const spa = await measureBundle(file);
    expect(spa.modules).toContain('src/browser/createBrowserAuth.ts');
    expect(spa.modules.filter((module) => REACT_MODULES.test(module))).toEqual([]);
  });

  it('the browser entry does not even reach src/react: every module of its graph, tree-shaken or not', async () => {
    const browser = await reach(`export * from './src/browser/index.ts';`);
    expect(browser.inputs).toContain('src/browser/createBrowserAuth.ts');
    expect(browser.inputs.filter((input) => REACT_MODULES.test(input))).toEqual([]);
  });

  it('a React app pays for the entry only its own modules, under 2 KiB minified and gzipped', async () => {
    const app = await reach(
      `import { createBrowserAuth } from './src/browser/index.ts';
       import { AuthProvider, RequireAuth, useAccessToken, useAuth } from './src/react/index.ts';
       const auth = createBrowserAuth({ provider: { issuer: 'https://id.example' }, client: { clientId: 'spa', redirectUri: location.origin + '/callback' } });
       function Page() { const { status } = useAuth(); return <p>{status}{useAccessToken()}</p>; }
       export const tree = <AuthProvider auth={auth}><RequireAuth><Page /></RequireAuth></AuthProvider>;`,
      ['react', 'react/jsx-runtime', 'react-dom', '@xstate/react'],
    );
    expect(app.inputs.filter((input) => input.startsWith('src/react/')).sort()).toEqual([
      'src/react/AuthProvider.tsx',
      'src/react/RequireAuth.tsx',
      'src/react/hooks.ts',
      'src/react/index.ts',
      'src/react/status.ts',
    ]);
    const own = app.bytesOf(/^src\/react\//);
    expect(own).toBeGreaterThan(0);
    const withoutReact = await reach(`export { createBrowserAuth } from './src/browser/index.ts';`);
    const extraGzip = gzipSync(app.output, { level: 9 }).byteLength - gzipSync(withoutReact.output, { level: 9 }).byteLength;
    expect(extraGzip, `the React entry adds ${extraGzip} bytes min+gzip`).toBeLessThan(2 * 1024);
  });
});
