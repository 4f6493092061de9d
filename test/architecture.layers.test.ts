/**
 * The dependency rules of docs/architecture.md, checked on every relative
 * import (static, `export … from`, and `import()` of a literal) of the source
 * tree: each layer imports only from the layers below it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;

/** The repository paths (forward slashes, `.ts`) a file imports by a relative specifier. */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? match[3] ?? '';
    if (!specifier.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).split(sep).join('/');
    targets.push(target.replace(/\.js$/, '.ts'));
  }
  return targets;
}

/** Every relative import of the files under `dir` (or of the one file `dir`) that `allowed` refuses, as `file → target`. */
function violations(dir: string, allowed: (target: string) => boolean): string[] {
  const files = dir.endsWith('.ts') ? [dir] : sourceFiles(dir);
  return files.flatMap((file) =>
    relativeImports(file)
      .filter((target) => !allowed(target))
      .map((target) => `${file.split(sep).join('/')} → ${target}`),
  );
}

const under = (...prefixes: string[]) => (target: string) => prefixes.some((prefix) => target === prefix || target.startsWith(`${prefix}/`));

describe('layers (docs/architecture.md)', () => {
  it('finds the imports it checks', () => {
    expect(relativeImports('src/protocol/errorResponse.ts')).toContain('src/errors.ts');
    expect(relativeImports('src/protocol/index.ts')).toContain('src/protocol/wwwAuthenticate.ts');
    expect(sourceFiles('machines').length).toBeGreaterThan(3);
    expect(violations('src/testing', under('src/testing'))).toContain('src/testing/clock.ts → src/services/clock.ts');
  });

  it('src/errors.ts, the ground floor, imports nothing of the library', () => {
    expect(violations('src/errors.ts', () => false)).toEqual([]);
  });

  it('the services import only the services and the errors', () => {
    expect(violations('src/services', under('src/services', 'src/errors.ts'))).toEqual([]);
  });

  it('the session rules import only each other, the errors and the service interfaces', () => {
    expect(violations('src/session', under('src/session', 'src/errors.ts', 'src/services/types.ts'))).toEqual([]);
  });

  it('the protocol knows no machine: only the protocol, the session rules, the services and the errors', () => {
    expect(violations('src/protocol', under('src/protocol', 'src/session', 'src/services', 'src/errors.ts'))).toEqual([]);
  });

  it('the machines know no client, browser, server, redis, testing, inspect or providers code', () => {
    const above = under('src/client.ts', 'src/client', 'src/browser', 'src/server', 'src/redis', 'src/testing', 'src/inspect', 'src/providers', 'src/index.ts');
    expect(violations('machines', (target) => !above(target))).toEqual([]);
  });

  it('the test authorization server shares no code with the client (nothing from protocol, machines or client)', () => {
    expect(violations('src/testing', under('src/testing', 'src/services/clock.ts'))).toEqual([]);
  });

  it('the provider profiles are data over the protocol types; inspect imports nothing of the library', () => {
    expect(violations('src/providers', under('src/providers', 'src/protocol/types.ts'))).toEqual([]);
    expect(violations('src/inspect', under('src/inspect'))).toEqual([]);
  });
});
