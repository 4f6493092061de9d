import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/demo/demo.ts'],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npm run demo', () => {
  it('runs every grant against the loopback server, exits 0 and prints no token value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauth-demo-'));
    try {
      const secretsFile = join(dir, 'secrets.json');
      const run = await runDemo({ OAUTH_DEMO_SECRETS_FILE: secretsFile });
      expect(run.stderr).not.toMatch(/demo failed/);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/every step succeeded/);
      for (const state of ['redirecting', 'awaitingCallback', 'exchanging', 'authenticated', 'refreshing', 'loggingOut', 'awaitingUser']) {
        expect(run.stdout).toContain(state);
      }

      const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as string[];
      // Access and refresh tokens of three flows, the code and the client secret at least.
      expect(secrets.length).toBeGreaterThanOrEqual(6);
      const output = run.stdout + run.stderr;
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(8);
        expect(output.includes(secret), 'a secret value appears in the demo output').toBe(false);
      }
      expect(output).toMatch(/at_…\(redacted, \d+ chars\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
