/**
 * The package as a user gets it: `npm pack` of the built dist/, installed
 * with npm into a fresh project in the system's temporary directory. Built
 * once per content of package.json + dist/ and shared by every test file that
 * asks (a lock directory serialises the build; the others wait, bounded).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface PackedPackage {
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** The fresh project: package.json (`"type": "module"`) and node_modules/oauth-machines installed from the tarball. */
  project: string;
  /** The files in the tarball, relative to its `package/` folder. */
  files: string[];
}

/**
 * Packages the docs' and smoke programs' imports may name besides the package
 * itself, linked from the repository's node_modules into the fresh project
 * (they are the repository's own devDependencies, already installed).
 */
const LINKED = ['@types/node', '@types/react', 'react', 'vitest', '@vitest', 'xstate', '@statelyai', '@xstate', 'ioredis'];

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path));
    else found.push(path);
  }
  return found;
}

/** What decides the tarball: package.json, LICENSE, README.md and every file of dist/ (names, sizes, times). */
function contentKey(): string {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'LICENSE', 'README.md']) {
    if (existsSync(join(ROOT, name))) hash.update(name).update(readFileSync(join(ROOT, name)));
  }
  for (const file of filesUnder(join(ROOT, 'dist')).sort()) {
    const stat = statSync(file);
    hash.update(`${relative(ROOT, file)}:${stat.size}:${stat.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

async function build(target: string): Promise<void> {
  const work = `${target}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'project'), { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!packed) throw new Error('npm pack reported no tarball');
  const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  writeFileSync(
    join(work, 'project', 'package.json'),
    `${JSON.stringify(
      {
        name: 'oauth-machines-consumer',
        private: true,
        type: 'module',
        dependencies: {
          'oauth-machines': `file:../${packed.filename}`,
          // The optional peer dependency, for the Redis adapter's case.
          redis: rootPkg.devDependencies.redis,
        },
      },
      null,
      2,
    )}\n`,
  );
  // From the npm cache the repository's own `npm ci` filled: no registry round trip when it is warm.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: join(work, 'project'),
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const name of LINKED) {
    const from = join(ROOT, 'node_modules', name);
    const to = join(work, 'project', 'node_modules', name);
    if (!existsSync(from) || existsSync(to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(from, to, 'dir');
  }
  writeFileSync(join(work, 'files.json'), JSON.stringify(packed.files.map((file) => file.path).sort()));
  writeFileSync(join(work, 'tarball'), packed.filename);
  renameSync(work, target);
  // Earlier builds' copies, left by earlier runs: gone once they are an hour old.
  const base = dirname(target);
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    if (path !== target && Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
}

function read(target: string): PackedPackage {
  return {
    tarball: join(target, readFileSync(join(target, 'tarball'), 'utf8')),
    project: join(target, 'project'),
    files: JSON.parse(readFileSync(join(target, 'files.json'), 'utf8')) as string[],
  };
}

/**
 * The packed and installed package for the current dist/ (`npm run build`
 * first: `npm test` does). Concurrent callers share one build.
 */
export async function packedPackage(): Promise<PackedPackage> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` first (npm test does)');
  const base = join(tmpdir(), 'oauth-machines-packed');
  mkdirSync(base, { recursive: true });
  const target = join(base, contentKey());
  if (existsSync(join(target, 'tarball'))) return read(target);
  const lock = `${target}.lock`;
  // A lock left by a run that was killed mid-build: a build takes seconds, not ten minutes.
  if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
  let owner = false;
  try {
    mkdirSync(lock);
    owner = true;
  } catch {
    // Another test file is building it: wait for it, at most three minutes.
  }
  if (owner) {
    try {
      if (!existsSync(join(target, 'tarball'))) await build(target);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    return read(target);
  }
  for (let waited = 0; waited < 180_000; waited += 250) {
    if (existsSync(join(target, 'tarball'))) return read(target);
    if (!existsSync(lock)) break;
    await new Promise((done) => setTimeout(done, 250));
  }
  if (existsSync(join(target, 'tarball'))) return read(target);
  throw new Error(`the packed package at ${target} was not built (lock ${lock} held for over three minutes, or its builder failed)`);
}
