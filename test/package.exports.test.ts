/**
 * The published shape: every entry of package.json "exports" resolves from
 * the built dist/ (npm test builds first) and offers its documented API, and
 * no browser-facing entry reaches a Node built-in.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
};

/** Imports by a computed specifier: the type check runs before dist/ is built, so it must not resolve these. */
const load = (specifier: string): Promise<Record<string, unknown>> => import(specifier) as Promise<Record<string, unknown>>;

const EXPECTED: Record<string, string[]> = {
  'oauth-machines': [
    'authorizationCodeMachine',
    'clientCredentialsMachine',
    'deviceCodeMachine',
    'createOAuthClient',
    'discover',
    'OAuthError',
    'memoryStorage',
    'webStorage',
    'buildAuthorizationUrl',
    'readTokenResponse',
  ],
  'oauth-machines/browser': ['createBrowserAuth'],
  'oauth-machines/server': ['createClientCredentialsCache', 'createCodeExchangeHandler', 'nodeServices'],
  'oauth-machines/redis': ['redisStorage'],
  'oauth-machines/testing': ['createTestAuthorizationServer'],
  'oauth-machines/inspect': ['createFlowRecorder', 'toMermaid', 'inspectorSanitizers'],
  'oauth-machines/providers': ['pathOfExile', 'poe', 'skyMavis', 'jsonTokenEndpoint', 'generic'],
  'oauth-machines/legacy': ['passwordMachine', 'implicitMachine'],
};

describe('package exports', () => {
  it('lists exactly the documented entries', () => {
    const entries = Object.keys(pkg.exports).filter((key) => key !== './package.json');
    expect(entries.map((key) => (key === '.' ? 'oauth-machines' : `oauth-machines/${key.slice(2)}`)).sort()).toEqual(
      Object.keys(EXPECTED).sort(),
    );
  });

  it.each(Object.entries(EXPECTED))('%s resolves from dist/ and offers its API', async (specifier, names) => {
    const module = await load(specifier);
    for (const name of names) expect(module[name], `${specifier} exports ${name}`).toBeDefined();
  });

  it('keeps the legacy grants off the main entry', async () => {
    const main = await load('oauth-machines');
    expect(main.passwordMachine).toBeUndefined();
    expect(main.implicitMachine).toBeUndefined();
  });
});
