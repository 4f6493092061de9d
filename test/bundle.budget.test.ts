/**
 * The size budget: a single-page app that uses `createBrowserAuth` for the
 * code grant, bundled as an application ships it (esbuild, minify, browser,
 * every dependency) and gzipped, must stay within `bench/budget.json` — the
 * one place the budget lives (`npm run bench` reads it too). No timings here.
 */
import { describe, expect, it } from 'vitest';
import { measureBundle, readBudget, SPA_CODE_GRANT_ENTRY } from './support/bundle.js';

describe('bundle size budget', () => {
  it('keeps the createBrowserAuth code-grant SPA, minified and gzipped, within bench/budget.json', async () => {
    const budget = readBudget().spaCodeGrant;
    const spa = await measureBundle(SPA_CODE_GRANT_ENTRY);
    expect(spa.nodeImports).toEqual([]);
    // The entry really carries the library: more than XState alone (a broken entry that bundled to nothing would pass the cap).
    const floor = await measureBundle('bench/entries/xstateOnly.ts');
    expect(spa.gzipBytes).toBeGreaterThan(floor.gzipBytes);
    const kib = (spa.gzipBytes / 1024).toFixed(2);
    expect(spa.gzipBytes, `the SPA is ${kib} KiB min+gzip, over the budget of ${budget.maxGzipKiB} KiB`).toBeLessThanOrEqual(
      budget.maxGzipKiB * 1024,
    );
  });

  it('has a budget that only comes down towards its 25 KiB target', () => {
    const budget = readBudget().spaCodeGrant;
    expect(budget.targetGzipKiB).toBe(25);
    expect(Number.isInteger(budget.maxGzipKiB)).toBe(true);
    expect(budget.maxGzipKiB).toBeGreaterThanOrEqual(budget.targetGzipKiB);
  });
});
