/**
 * Executable documentation: every ```ts block of README.md and docs/*.md
 * (test/support/docBlocks.ts says how a block is marked) is type-checked
 * against the packed package installed in a fresh project — the imports of
 * `oauth-machines/...` resolve as they do for a user — and each complete
 * program is then run in Node against the in-memory test authorization
 * server, which answers every request it makes (issuer
 * `https://id.example`; any other host fails as unreachable).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { docBlocks, documentationPages, type DocBlock } from './support/docBlocks.js';
import { packedPackage, ROOT } from './runtime/packedPackage.js';

const run = promisify(execFile);

const blocks = documentationPages(ROOT).flatMap((page) => docBlocks(ROOT, page));

/** What the programs' setup registers on the test authorization server, and the secrets they read from the environment. */
const SETUP = `
import { createTestAuthorizationServer } from 'oauth-machines/testing';

const server = createTestAuthorizationServer({
  issuer: 'https://id.example',
  clients: [
    { clientId: 'reporting-service', clientSecret: 'reporting-secret', authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['reports:read'] },
    { clientId: 'app', authMethod: 'none', redirectUris: ['https://app.example/callback'], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
    { clientId: 'web-app', clientSecret: 'web-app-secret', authMethod: 'client_secret_basic', redirectUris: ['https://app.example/callback'], grants: ['authorization_code', 'refresh_token'], scopes: ['openid'] },
  ],
});
// Every request a program makes goes to the test server: nothing reaches a network.
globalThis.fetch = server.fetch;
Object.assign(process.env, { OAUTH_CLIENT_SECRET: 'reporting-secret', CLIENT_SECRET: 'web-app-secret' });
export { server };
`;

interface Written {
  block: DocBlock;
  file: string;
  /** Lines placed before the block's code (a fragment's declarations). */
  offset: number;
}

let project: string;
const written: Written[] = [];

function slug(page: string): string {
  return page.replace(/\.md$/, '').replace(/[^\w]+/g, '-');
}

beforeAll(async () => {
  project = (await packedPackage()).project;
  const root = join(project, 'docs-blocks');
  rmSync(root, { recursive: true, force: true });
  for (const block of blocks) {
    const dir = join(root, slug(block.page));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, block.fileName ?? `line-${block.line}.ts`);
    const before = block.kind === 'fragment' && block.declarations !== '' ? `${block.declarations}\n` : '';
    // `export {}`: each block is a module of its own (top-level await, no shared globals).
    writeFileSync(file, `${before}${block.code}\nexport {};\n`);
    written.push({ block, file, offset: before === '' ? 0 : before.split('\n').length - 1 });
    // A named file is imported by its siblings (`./auth.js`) when they run: it is there as JavaScript too.
    if (block.fileName !== undefined) {
      const js = ts.transpileModule(block.code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
      writeFileSync(file.replace(/\.ts$/, '.js'), js);
    }
  }
  writeFileSync(join(root, 'setup.mjs'), SETUP);
}, 180_000);

describe('the TypeScript blocks of README.md and docs/', () => {
  it('finds them on every page, each page picked up by itself', () => {
    expect(new Set(blocks.map((block) => block.page)).size).toBeGreaterThanOrEqual(6);
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.filter((block) => block.kind === 'program').length).toBeGreaterThanOrEqual(5);
  });

  it('type-check against the installed package, fragments with their declared placeholders', () => {
    const program = ts.createProgram(
      written.map((entry) => entry.file),
      {
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: ['node'],
        typeRoots: [join(project, 'node_modules', '@types')],
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: true,
        noEmit: true,
      },
    );
    const problems: string[] = [];
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const entry = written.find((candidate) => candidate.file === diagnostic.file?.fileName);
      if (!entry || diagnostic.file === undefined || diagnostic.start === undefined) {
        problems.push(`${diagnostic.file?.fileName ?? '(no file)'}: ${message}`);
        continue;
      }
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      const inBlock = line - entry.offset;
      problems.push(
        inBlock < 0
          ? `${entry.block.id} (its fragment declarations): ${message}`
          : `${entry.block.page}:${entry.block.line + 1 + inBlock}: ${message}`,
      );
    }
    expect(problems).toEqual([]);
  }, 120_000);

  const programs = blocks.filter((block) => block.kind === 'program');
  it.each(programs.map((block) => [block.id, block] as const))('%s runs against the test authorization server', async (_id, block) => {
    const entry = written.find((candidate) => candidate.block === block);
    if (!entry) throw new Error(`${block.id} was not written`);
    const js = ts.transpileModule(`${block.code}\nexport {};\n`, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
    }).outputText;
    const programFile = entry.file.replace(/\.ts$/, '.mjs');
    writeFileSync(programFile, js);
    const runner = entry.file.replace(/\.ts$/, '.run.mjs');
    // The program, then an exit: a client it left running must not hold the test up.
    writeFileSync(runner, `await import('../setup.mjs');\nawait import('./${programFile.split('/').at(-1)}');\nprocess.exit(0);\n`);
    const { stderr } = await run(process.execPath, [runner], { cwd: project, timeout: 30_000 });
    expect(stderr).toBe('');
  });

  const tests = blocks.filter((block) => block.kind === 'test');
  it.each(tests.map((block) => [block.id, block] as const))('%s passes as a vitest file against the package', async (_id, block) => {
    const entry = written.find((candidate) => candidate.block === block);
    if (!entry) throw new Error(`${block.id} was not written`);
    const testFile = entry.file.replace(/\.ts$/, '.test.ts');
    writeFileSync(testFile, `${block.code}\n`);
    // A vitest of its own in the fresh project, with none of this run's worker variables.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS'));
    const { stdout } = await run(process.execPath, [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', project, testFile], {
      cwd: project,
      env: { ...env, NO_COLOR: '1' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/Tests\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed|skipped/);
  }, 90_000);

  it('gives every complete module that is not run its reason', () => {
    for (const block of blocks.filter((candidate) => candidate.kind === 'module')) expect(block.reason, block.id).toMatch(/\w{3,}/);
  });
});

describe('the block reader', () => {
  function read(markdown: string): DocBlock[] {
    const root = mkdtempSync(join(tmpdir(), 'doc-blocks-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs', 'page.md'), markdown);
      return docBlocks(root, 'docs/page.md');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  it('reads the directives before a block: fragment declarations over several lines, file, no-run', () => {
    const [fragment, module, program] = read(
      [
        '<!-- fragment:',
        "declare const client: import('oauth-machines').OAuthClient<'device_code'>;",
        '-->',
        '```ts',
        'await client.login();',
        '```',
        '',
        '<!-- file: auth.ts -->',
        '<!-- no-run: a browser module -->',
        '```typescript',
        'export const auth = 1;',
        '```',
        '',
        '```ts',
        'console.log(1);',
        '```',
        '```sh',
        'npm test',
        '```',
      ].join('\n'),
    );
    expect(fragment).toMatchObject({ id: 'docs/page.md:4', kind: 'fragment', code: 'await client.login();' });
    expect(fragment?.declarations).toBe("declare const client: import('oauth-machines').OAuthClient<'device_code'>;");
    expect(module).toMatchObject({ kind: 'module', fileName: 'auth.ts', reason: 'a browser module' });
    expect(program).toMatchObject({ kind: 'program', line: 14, declarations: '' });
  });

  it('refuses a comment before a block that is no directive, and a no-run without its reason', () => {
    expect(() => read('<!-- fragmnet -->\n```ts\nx;\n```\n')).toThrow('docs/page.md:2: unknown directive before a code block: <!-- fragmnet -->');
    expect(() => read('<!-- no-run -->\n```ts\nx;\n```\n')).toThrow('docs/page.md:2: no-run needs its reason');
    expect(() => read('```ts\nx;\n')).toThrow('docs/page.md:1: a code block that is never closed');
  });
});

