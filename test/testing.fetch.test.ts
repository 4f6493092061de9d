/**
 * The in-memory face specifically: `server.fetch` behaves like `fetch`
 * (abort, unreachable hosts, Request inputs, manual redirects), the
 * `authorize()` helper, and the face bundles for a browser without Node
 * built-ins.
 */
import { createHash, randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT = 'http://127.0.0.1:5173/callback';

function newServer() {
  return createTestAuthorizationServer({
    clients: [
      { clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT], grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] },
      { clientId: 'svc', clientSecret: 'svc-secret', authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: ['read'] },
    ],
  });
}

function authorizationUrl(issuer: string, extra: Record<string, string> = {}): { url: string; verifier: string } {
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  return { url: `${issuer}/authorize?${params.toString()}`, verifier };
}

describe('server.fetch (in-memory face)', () => {
  it('rejects with an AbortError when the signal is already aborted, before the server sees the request', async () => {
    const server = newServer();
    const controller = new AbortController();
    controller.abort();
    await expect(server.fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.log).toHaveLength(0);
  });

  it('rejects with the signal\u2019s reason (a TimeoutError) when a timeout signal fires during an injected delay', async () => {
    const server = newServer();
    server.fail('metadata', { delayMs: 60_000 });
    await expect(server.fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(10) })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('rejects a URL on another origin with a TypeError, like an unreachable host', async () => {
    const server = newServer();
    const failure = await server.fetch('https://elsewhere.test/token').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(String((failure as TypeError & { cause: Error }).cause.message)).toContain('elsewhere.test');
  });

  it('rejects a dropped connection with a TypeError', async () => {
    const server = newServer();
    server.fail('metadata', { drop: true });
    await expect(server.fetch(`${server.issuer}/.well-known/openid-configuration`)).rejects.toThrow(TypeError);
  });

  it('accepts a Request object as input', async () => {
    const server = newServer();
    const request = new Request(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa('svc:svc-secret')}` },
      body: 'grant_type=client_credentials&scope=read',
    });
    const response = await server.fetch(request);
    expect(response.status).toBe(200);
  });

  it('returns the authorization redirect instead of following it', async () => {
    const server = newServer();
    const response = await server.fetch(authorizationUrl(server.issuer).url);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:5173\/callback\?code=/);
  });

  it('serves a listening face\u2019s URL in memory too, with that face\u2019s issuer, until it closes', async () => {
    const server = newServer();
    const listening = await server.listen();
    try {
      const doc = (await (await server.fetch(`${listening.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(doc.issuer).toBe(listening.issuer);
      expect(listening.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await listening.close();
    }
    await expect(server.fetch(`${listening.url}/.well-known/oauth-authorization-server`)).rejects.toThrow(TypeError);
  });
});

describe('server.authorize', () => {
  it('returns the callback URL with code, state and iss', async () => {
    const server = newServer();
    const { url } = authorizationUrl(server.issuer);
    const callback = new URL(await server.authorize(url));
    expect(callback.searchParams.get('state')).toBe('st-1');
    expect(callback.searchParams.get('iss')).toBe('https://auth.test');
    expect(callback.searchParams.get('code')).toMatch(/^ac_/);
  });

  it('returns an error callback for a denied authorization', async () => {
    const server = newServer();
    server.nextAuthorization({ deny: true });
    const callback = new URL(await server.authorize(authorizationUrl(server.issuer).url));
    expect(callback.searchParams.get('error')).toBe('access_denied');
  });

  it('throws, with the page\u2019s message, when the server shows a page instead of redirecting', async () => {
    const server = newServer();
    await expect(server.authorize(authorizationUrl(server.issuer, { redirect_uri: 'https://attacker.test/cb' }).url)).rejects.toThrow(/400.*not registered/);
  });

  it('issues a code the token endpoint redeems with the verifier', async () => {
    const server = newServer();
    const { url, verifier } = authorizationUrl(server.issuer);
    const code = new URL(await server.authorize(url)).searchParams.get('code') ?? '';
    const response = await server.fetch(`${server.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: verifier }),
    });
    expect(response.status).toBe(200);
  });
});

describe('browser bundle of oauth-machines/testing', () => {
  it('bundles for the browser without any Node built-in', async () => {
    const result = await build({
      entryPoints: ['src/testing/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    const output = result.outputFiles[0]?.text ?? '';
    expect(output).toContain('createTestAuthorizationServer');
    expect(output).not.toMatch(/node:(http|net|crypto)/);
    expect(Object.keys(result.metafile.inputs)).not.toContain('src/testing/loopback.ts');
  });
});
