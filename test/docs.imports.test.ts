/**
 * Every import from the package in the code blocks of README.md, docs/ and
 * the examples' READMEs names an entry of package.json "exports" and a name
 * (value or type) that entry exports, so the pages cannot drift from the
 * curated surface. Read from the sources the entries are built from, so it
 * answers before a build; test/docs.codeBlocks.test.ts then type-checks (and
 * runs) the TypeScript blocks of README.md and docs/ against the built package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = 'oauth-machines';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; import: string }>;
};

/** Entry specifier → the source file its types are built from (`./dist/src/x/index.d.ts` → `src/x/index.ts`). */
const ENTRY_SOURCES = new Map(
  Object.entries(pkg.exports)
    .filter((entry): entry is [string, { types: string; import: string }] => typeof entry[1] === 'object')
    .map(([key, target]) => [
      key === '.' ? PACKAGE : `${PACKAGE}/${key.slice(2)}`,
      join(ROOT, target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')),
    ]),
);

function markdownFiles(): string[] {
  const files = [join(ROOT, 'README.md')];
  for (const name of readdirSync(join(ROOT, 'docs'))) if (name.endsWith('.md')) files.push(join(ROOT, 'docs', name));
  for (const example of readdirSync(join(ROOT, 'examples'), { withFileTypes: true })) {
    if (!example.isDirectory()) continue;
    for (const name of readdirSync(join(ROOT, 'examples', example.name))) {
      if (name.endsWith('.md')) files.push(join(ROOT, 'examples', example.name, name));
    }
  }
  return files;
}

interface DocImport {
  file: string;
  specifier: string;
  /** The exported names it takes (`type` and `as` stripped); `default` for a default import. */
  names: string[];
}

const CODE_BLOCK = /```(?:ts|tsx|js|mjs|typescript|javascript)\n([\s\S]*?)```/g;
const IMPORT = /import\s+(type\s+)?([\s\S]*?)\s+from\s+['"]([^'"]+)['"]/g;

function docImports(): DocImport[] {
  const found: DocImport[] = [];
  for (const file of markdownFiles()) {
    const markdown = readFileSync(file, 'utf8');
    for (const [, code = ''] of markdown.matchAll(CODE_BLOCK)) {
      for (const [, , clause = '', specifier = ''] of code.matchAll(IMPORT)) {
        if (specifier !== PACKAGE && !specifier.startsWith(`${PACKAGE}/`)) continue;
        const names: string[] = [];
        const named = /\{([\s\S]*)\}/.exec(clause);
        if (named) {
          for (const part of (named[1] ?? '').split(',')) {
            const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]?.trim();
            if (name) names.push(name);
          }
        }
        const outside = clause.replace(/\{[\s\S]*\}/, '').replace(/\*\s+as\s+\w+/, '').replace(/,/g, '').trim();
        if (outside !== '') names.push('default');
        found.push({ file: file.slice(ROOT.length + 1), specifier, names });
      }
    }
  }
  return found;
}

/** The names (values and types) each entry exports, as the type checker sees them. */
function entryExports(): Map<string, Set<string>> {
  const program = ts.createProgram([...ENTRY_SOURCES.values()], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const exports = new Map<string, Set<string>>();
  for (const [specifier, source] of ENTRY_SOURCES) {
    const file = program.getSourceFile(source);
    const symbol = file && checker.getSymbolAtLocation(file);
    exports.set(specifier, new Set(symbol ? checker.getExportsOfModule(symbol).map((entry) => entry.name) : []));
  }
  return exports;
}

describe('imports of the package in README.md, docs/ and the examples', () => {
  const imports = docImports();
  const exports = entryExports();

  it('finds the pages’ imports and every entry’s exports', () => {
    expect(imports.length).toBeGreaterThan(10);
    expect(imports.some((entry) => entry.file === 'README.md' && entry.specifier === 'oauth-machines/browser')).toBe(true);
    for (const [specifier, names] of exports) expect(names.size, specifier).toBeGreaterThan(0);
  });

  it('name only entries of package.json "exports" and names those entries export', () => {
    const wrong: string[] = [];
    for (const { file, specifier, names } of imports) {
      const offered = exports.get(specifier);
      if (offered === undefined) {
        wrong.push(`${file}: ${specifier} is not an entry of the package`);
        continue;
      }
      for (const name of names) if (!offered.has(name)) wrong.push(`${file}: ${specifier} does not export ${name}`);
    }
    expect(wrong).toEqual([]);
  });
});
