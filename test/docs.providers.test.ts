/**
 * The code blocks of docs/providers.md compile, as written there: each block
 * is type-checked as a module of its own with the repository's compiler
 * options, its `oauth-machines` imports pointed at the source entries. A block
 * whose first line is a comment naming a file (`// exampleIdentity.ts`) is
 * that file, so another block can import it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it, vi } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs');

/** `oauth-machines` and `oauth-machines/x` as paths of the sources the entries are built from. */
function sourceSpecifier(specifier: string): string {
  if (specifier === 'oauth-machines') return join(ROOT, 'src/index.js');
  const entry = specifier.slice('oauth-machines/'.length);
  return join(ROOT, entry === 'legacy' ? 'machines/legacy/index.js' : `src/${entry}/index.js`);
}

function blocks(): Map<string, string> {
  const markdown = readFileSync(join(DOCS, 'providers.md'), 'utf8');
  const files = new Map<string, string>();
  let index = 0;
  for (const [, code = ''] of markdown.matchAll(/```ts\n([\s\S]*?)```/g)) {
    index += 1;
    const named = /^\/\/ ([\w.-]+\.ts)\n/.exec(code)?.[1];
    const source = code.replace(/(from\s+['"])(oauth-machines(?:\/[\w-]+)?)(['"])/g, (_match, open: string, specifier: string, close: string) => `${open}${sourceSpecifier(specifier)}${close}`);
    files.set(join(DOCS, named ?? `providers-block-${index}.ts`), source);
  }
  return files;
}

it('every code block of docs/providers.md type-checks against the sources', () => {
  const files = blocks();
  expect(files.size).toBeGreaterThanOrEqual(11);
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => readFileSync(path, 'utf8'));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT).options;
  const host = ts.createCompilerHost({ ...options, noEmit: true });
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError, create) => {
    const text = files.get(resolve(name));
    return text === undefined ? getSourceFile(name, language, onError, create) : ts.createSourceFile(name, text, language, true);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(resolve(name)) ?? readFile(name);
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true }, host);
  const diagnostics = [...files.keys()].flatMap((name) => {
    const file = program.getSourceFile(name);
    return file === undefined ? [] : [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
  });
  const messages = diagnostics.map((diagnostic) => {
    const where = diagnostic.file === undefined ? '' : `${diagnostic.file.fileName.slice(ROOT.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1} `;
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  });
  expect(messages).toEqual([]);
}, 120_000);

it('the example of "How to write your own profile" runs: a login through the test server with the profile’s audience', async () => {
  const files = blocks();
  const profile = files.get(join(DOCS, 'exampleIdentity.ts'));
  const run = [...files.values()].find((code) => code.includes("from './exampleIdentity.js'"));
  expect(profile).toBeDefined();
  expect(run).toBeDefined();
  const directory = join(ROOT, 'test-artifacts', 'docs-providers');
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'exampleIdentity.ts'), profile ?? '');
  writeFileSync(join(directory, 'run.ts'), run ?? '');
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(join(directory, 'run.ts'));
    // The scopes came back comma-separated and were split; the audience reached the token endpoint.
    expect(log).toHaveBeenCalledWith(['read', 'offline_access'], 'https://api.test');
  } finally {
    log.mockRestore();
  }
});
