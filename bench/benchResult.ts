/** The result file every benchmark writes, collected by `bench/run.mjs` into `bench/results/summary.json`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  benchmark: string;
  description: string;
  /** One row per measured case; numbers are what the summary table prints. */
  rows: Record<string, unknown>[];
  /** False when the benchmark found a defect (e.g. a Node built-in in a browser bundle). */
  ok: boolean;
  /** Node version and platform the figures were taken on. */
  environment?: Record<string, string>;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes `bench/results/<name>.json`. */
export function writeResult(name: string, result: BenchResult): void {
  mkdirSync(resultsDir, { recursive: true });
  const withEnvironment: BenchResult = {
    ...result,
    environment: { node: process.version, platform: `${process.platform}-${process.arch}` },
  };
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(withEnvironment, null, 2)}\n`);
}
