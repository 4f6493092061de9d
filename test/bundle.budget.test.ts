/**
 * The size budgets: a single-page app that uses `createBrowserAuth` for the
 * code grant — with discovery and `openid` (`bench/entries/spaCodeGrant.ts`),
 * and with the endpoints written out and no `openid`
 * (`bench/entries/spaCodeGrantEndpoints.ts`) — bundled as an application
 * ships it (esbuild, minify, browser, every dependency) and gzipped, must each
 * stay within its budget in `bench/budget.json` — the one place the budgets
 * live (`npm run bench` reads them too) — and carry no other grant. No timings here.
 */
import { describe, expect, it } from 'vitest';
import { measureBundle, readBudget, SPA_BUDGET_ENTRIES } from './support/bundle.js';

/** Modules of the grants a code-grant SPA never runs: the browser helper must not reach them. */
const OTHER_GRANTS = [
  'machines/deviceCode.ts',
  'machines/clientCredentials.ts',
  'src/client/deviceCode.ts',
  'src/client/clientCredentials.ts',
  // The generic client's dispatcher by grant, which would bring every grant's façade.
  'src/client/facade.ts',
  'src/protocol/deviceAuthorization.ts',
];

/** Modules only ever imported dynamically: loaded the first time an ID token is verified or a JWT signed. */
const ON_DEMAND = [
  'src/protocol/idTokenSignature.ts',
  'src/protocol/jwks.ts',
  'src/protocol/clientAssertion.ts',
  'src/protocol/clientKeySigning.ts',
  'src/protocol/requestObject.ts',
];

describe('bundle size budget', () => {
  for (const { key, file } of SPA_BUDGET_ENTRIES) {
    it(`keeps ${file}, minified and gzipped, within its budget (${key}) in bench/budget.json`, async () => {
      const budget = readBudget()[key];
      const spa = await measureBundle(file);
      expect(spa.nodeImports).toEqual([]);
      // The entry really carries the library: more than XState alone (a broken entry that bundled to nothing would pass the cap).
      const floor = await measureBundle('bench/entries/xstateOnly.ts');
      expect(spa.gzipBytes).toBeGreaterThan(floor.gzipBytes);
      expect(spa.modules).toContain('machines/authorizationCode.ts');
      expect(spa.modules.filter((module) => OTHER_GRANTS.includes(module))).toEqual([]);
      // jose (ID-token signatures, JWT signing) is loaded on demand, never with the app: the modules that import it
      // are dynamic imports, measured apart.
      expect(spa.modules.filter((module) => /(^|\/)node_modules\/jose\//.test(module) || ON_DEMAND.includes(module))).toEqual([]);
      expect(spa.lazyModules).toEqual(expect.arrayContaining(['src/protocol/idTokenSignature.ts', 'src/protocol/clientKeySigning.ts']));
      expect(spa.lazyModules.some((module) => /(^|\/)node_modules\/jose\//.test(module))).toBe(true);
      const kib = (spa.gzipBytes / 1024).toFixed(2);
      // CI's log shows the figure on every run, not only when it is over.
      console.log(`${file}: ${kib} KiB min+gzip (budget ${budget.maxGzipKiB} KiB, target ${budget.targetGzipKiB} KiB)`);
      expect(spa.gzipBytes, `${file} is ${kib} KiB min+gzip, over the budget of ${budget.maxGzipKiB} KiB`).toBeLessThanOrEqual(
        budget.maxGzipKiB * 1024,
      );
    });
  }

  it('has budgets that only come down towards their 25 KiB target', () => {
    for (const { key } of SPA_BUDGET_ENTRIES) {
      const budget = readBudget()[key];
      expect(budget.targetGzipKiB).toBe(25);
      expect(Number.isInteger(budget.maxGzipKiB)).toBe(true);
      expect(budget.maxGzipKiB).toBeGreaterThanOrEqual(budget.targetGzipKiB);
    }
  });
});
