/**
 * The code samples of docs/providers.md, as the tests run them: a block whose
 * first line is `// sample: <name>`, its imports of the package pointed at the
 * source tree (the same entries package.json exports), written to
 * test-artifacts/samples/ so a test can import it, or bundle it for Chromium.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(ROOT, 'docs', 'providers.md');
const OUT = join(ROOT, 'test-artifacts', 'samples');

/** Entry specifier → source module, as package.json "exports" maps them. */
const ENTRIES: Record<string, string> = {
  'oauth-machines': 'src/index.js',
  'oauth-machines/browser': 'src/browser/index.js',
  'oauth-machines/server': 'src/server/index.js',
  'oauth-machines/providers': 'src/providers/index.js',
  'oauth-machines/protocol': 'src/protocol/index.js',
  'oauth-machines/testing': 'src/testing/index.js',
};

/** The code of the sample called `name`, exactly as docs/providers.md shows it. */
export function docSample(name: string): string {
  const markdown = readFileSync(DOC, 'utf8');
  for (const [, code = ''] of markdown.matchAll(/```ts\n([\s\S]*?)```/g)) {
    if (code.startsWith(`// sample: ${name}\n`)) return code;
  }
  throw new Error(`docs/providers.md has no sample called ${name}`);
}

/** The sample with its package imports pointed at the source tree (absolute paths, so it runs from anywhere). */
export function sampleSource(name: string): string {
  return docSample(name).replace(/from '(oauth-machines(?:\/[a-z]+)?)'/g, (whole, specifier: string) => {
    const target = ENTRIES[specifier];
    if (target === undefined) throw new Error(`sample ${name} imports ${specifier}, which is not an entry`);
    return `from '${join(ROOT, target)}'`;
  });
}

/** Writes the sample as a module under test-artifacts/samples/ and returns its path (import it, or bundle it). */
export function writeSample(name: string): string {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.ts`);
  writeFileSync(file, sampleSource(name));
  return file;
}
