/**
 * The package as npm publishes it: `npm pack` installed into a fresh project
 * (test/runtime/packedPackage.ts). Its files, its licence, publint and
 * arethetypeswrong on the tarball, every entry imported and a flow run from
 * the installed copy, and the declarations of the entries that are not for
 * browsers type-checked without the DOM lib, under node16 and node10
 * resolution. (The runtime matrix runs the flows on every runtime.)
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { packedPackage, ROOT, type PackedPackage } from './runtime/packedPackage.js';

const run = promisify(execFile);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  license: string;
  exports: Record<string, unknown>;
};
const ENTRIES = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'oauth-machines' : `oauth-machines/${key.slice(2)}`));
/** Entries for browsers: their declarations may name DOM types. */
const BROWSER_ENTRIES = ['oauth-machines/browser', 'oauth-machines/react'];
const SERVER_ENTRIES = ENTRIES.filter((entry) => !BROWSER_ENTRIES.includes(entry));

let packed: PackedPackage;

/** The repository's own dist/ through its package self-reference (a computed specifier: the type check runs before the build). */
const load = (specifier: string): Promise<object> => import(specifier) as Promise<object>;

beforeAll(async () => {
  packed = await packedPackage();
}, 180_000);

function installedFile(path: string): string {
  return readFileSync(join(packed.project, 'node_modules', 'oauth-machines', path), 'utf8');
}

describe('the packed tarball', () => {
  it('holds dist/, package.json, README.md and LICENSE, and nothing else', () => {
    expect(packed.files.filter((file) => !file.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(packed.files).toContain('dist/src/index.js');
    expect(packed.files).toContain('dist/src/index.d.ts');
  });

  it('ships no source map, and no file points at one (the sources are not shipped)', () => {
    expect(packed.files.filter((file) => file.endsWith('.map'))).toEqual([]);
    const pointing = packed.files.filter((file) => /\.(js|d\.ts)$/.test(file) && installedFile(file).includes('sourceMappingURL'));
    expect(pointing).toEqual([]);
  });

  it('carries the MIT licence package.json names', () => {
    expect(pkg.license).toBe('MIT');
    const license = installedFile('LICENSE');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toMatch(/^Copyright \(c\) \d{4} oauth-machines contributors$/m);
    expect(license).toContain('Permission is hereby granted, free of charge');
  });

  it('passes publint at every level, suggestions included', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const tarball = readFileSync(packed.tarball);
    const result = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, level: 'suggestion' });
    expect(result.messages.map((message) => formatMessage(message, result.pkg) ?? message.code)).toEqual([]);
  });

  it('passes arethetypeswrong as an ESM-only package, every subpath typed under node10 (typesVersions), node16 and bundler', async () => {
    // Exits non-zero on any problem of the esm-only profile; it reads the tarball, no registry.
    const { stdout } = await run(join(ROOT, 'node_modules', '.bin', 'attw'), [packed.tarball, '--profile', 'esm-only', '--format', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const report = JSON.parse(stdout) as {
      problems: Record<string, Array<{ kind: string; resolutionKind: string }>>;
      analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
    };
    // The only finding outside the profile: a CommonJS `require` gets ESM — require(esm), the choice the README explains.
    const found = Object.values(report.problems).flat();
    expect(found.filter((problem) => !(problem.kind === 'CJSResolvesToESM' && problem.resolutionKind === 'node16-cjs'))).toEqual([]);
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (key === './package.json') continue;
      const types = `/node_modules/oauth-machines/${(target as { types: string }).types.slice(2)}`;
      const resolutions = report.analysis.entrypoints[key]?.resolutions ?? {};
      for (const kind of ['node10', 'node16-esm', 'bundler']) expect(resolutions[kind]?.resolution?.fileName, `${key} under ${kind}`).toBe(types);
    }
  }, 60_000);
});

describe('the installed package in a fresh project', () => {
  it('imports every entry with the exports the built dist/ has, and runs a sign-in from it', async () => {
    const script = `
      const entries = ${JSON.stringify(ENTRIES)};
      const names = {};
      for (const entry of entries) names[entry] = Object.keys(await import(entry)).sort();
      const { createOAuthClient } = await import('oauth-machines');
      const { createTestAuthorizationServer } = await import('oauth-machines/testing');
      const server = createTestAuthorizationServer({ clients: [{ clientId: 'svc', clientSecret: 's', authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['read'] }] });
      const client = createOAuthClient({ grant: 'client_credentials', provider: { issuer: server.issuer }, client: { clientId: 'svc', clientSecret: 's', scopes: ['read'] }, services: { fetch: server.fetch, clock: server.clock } });
      const token = await client.getAccessToken();
      client.stop();
      console.log(JSON.stringify({ names, token, requests: server.tokenRequests('client_credentials').length }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: packed.project });
    const installed = JSON.parse(stdout) as { names: Record<string, string[]>; token: string; requests: number };
    for (const entry of ENTRIES) {
      const fromDist = Object.keys(await load(entry)).sort();
      expect(installed.names[entry], entry).toEqual(fromDist);
      expect(fromDist.length, entry).toBeGreaterThan(0);
    }
    expect(installed.token).toMatch(/^\S+$/);
    expect(installed.requests).toBe(1);
  });

  /** Type-checks a file importing every entry but the browser's, with no DOM lib and the libraries' declarations checked. */
  function checkWithoutDom(resolution: 'NodeNext' | 'Node10'): string[] {
    const dir = join(packed.project, `no-dom-${resolution.toLowerCase()}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'entries.ts');
    writeFileSync(file, SERVER_ENTRIES.map((entry, index) => `export type * as entry${index} from '${entry}';`).join('\n'));
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
      typeRoots: [join(packed.project, 'node_modules', '@types')],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      ...(resolution === 'NodeNext'
        ? { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }
        : { module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Node10 }),
    });
    const resolved = SERVER_ENTRIES.map((entry) => ts.resolveModuleName(entry, file, program.getCompilerOptions(), ts.sys).resolvedModule?.resolvedFileName);
    expect(resolved.every((fileName) => fileName?.includes('/node_modules/oauth-machines/dist/')), String(resolved)).toBe(true);
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.formatDiagnostic(diagnostic, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => dir, getNewLine: () => '\n' }));
  }

  it.each(['NodeNext', 'Node10'] as const)(
    'type-checks every entry but the browser one with lib ES2022, types node, skipLibCheck false (%s resolution)',
    (resolution) => {
      expect(checkWithoutDom(resolution)).toEqual([]);
    },
    60_000,
  );
});
