/**
 * Invariants of the test authorization server, checked with fast-check over
 * generated verifiers, credentials and request sequences (seeds are printed
 * on failure).
 */
import { createHash } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createTestAuthorizationServer, type TestAuthorizationServer } from '../src/testing/index.js';

const REDIRECT = 'https://app.test/cb';
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'.split('');
const verifierArb = fc.string({ unit: fc.constantFrom(...UNRESERVED), minLength: 43, maxLength: 128 });

function spaServer(): TestAuthorizationServer {
  return createTestAuthorizationServer({
    clients: [{ clientId: 'spa', authMethod: 'none', redirectUris: [REDIRECT], grants: ['authorization_code', 'refresh_token'], scopes: ['offline_access'] }],
  });
}

async function codeFor(server: TestAuthorizationServer, verifier: string): Promise<string> {
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: REDIRECT, scope: 'offline_access', code_challenge: challenge, code_challenge_method: 'S256' });
  return new URL(await server.authorize(`${server.issuer}/authorize?${query.toString()}`)).searchParams.get('code') ?? '';
}

function token(server: TestAuthorizationServer, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return server.fetch(`${server.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) });
}

describe('test authorization server invariants', () => {
  test.prop([verifierArb, verifierArb], { numRuns: 60 })(
    'a code is redeemed only with the verifier whose S256 challenge was sent',
    async (verifier, other) => {
      const server = spaServer();
      const code = await codeFor(server, verifier);
      const wrong = await token(server, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: other });
      expect(wrong.status).toBe(other === verifier ? 200 : 400);
      const second = await codeFor(server, verifier);
      const right = await token(server, { grant_type: 'authorization_code', client_id: 'spa', code: second, redirect_uri: REDIRECT, code_verifier: verifier });
      expect(right.status).toBe(200);
    },
  );

  test.prop([fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 4 })], { numRuns: 100 })(
    'Basic credentials of any client id and secret authenticate when form-encoded, and a changed secret never does',
    async (clientId, secret, suffix) => {
      const server = createTestAuthorizationServer({
        clients: [{ clientId, clientSecret: secret, authMethod: 'client_secret_basic', redirectUris: [], grants: ['client_credentials'], scopes: [] }],
      });
      const encode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);
      const basic = (s: string): string => `Basic ${Buffer.from(`${encode(clientId)}:${encode(s)}`).toString('base64')}`;
      expect((await token(server, { grant_type: 'client_credentials' }, { authorization: basic(secret) })).status).toBe(200);
      expect((await token(server, { grant_type: 'client_credentials' }, { authorization: basic(secret + suffix) })).status).toBe(401);
    },
  );

  test.prop([fc.integer({ min: 2, max: 6 })], { numRuns: 20 })(
    'however often a code is presented, exactly the first presentation succeeds',
    async (presentations) => {
      const server = spaServer();
      const verifier = 'v'.repeat(43);
      const code = await codeFor(server, verifier);
      const statuses: number[] = [];
      for (let i = 0; i < presentations; i++) {
        statuses.push((await token(server, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: verifier })).status);
      }
      expect(statuses).toEqual([200, ...Array<number>(presentations - 1).fill(400)]);
      expect(server.issuedTokens().every((issued) => !issued.active)).toBe(true);
    },
  );

  test.prop([fc.array(fc.oneof(fc.constant('refresh' as const), fc.nat({ max: 5 })), { minLength: 1, maxLength: 12 })], { numRuns: 60 })(
    'under rotation, only the newest refresh token works until an older one is reused, after which none does',
    async (steps) => {
      const server = spaServer();
      const verifier = 'w'.repeat(43);
      const code = await codeFor(server, verifier);
      const first = (await (await token(server, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: REDIRECT, code_verifier: verifier })).json()) as { refresh_token: string };
      const chain = [first.refresh_token];
      let familyRevoked = false;
      for (const step of steps) {
        // 'refresh' uses the newest token; a number reuses an older one (0 = the newest, also fine).
        const index = step === 'refresh' ? chain.length - 1 : Math.max(0, chain.length - 1 - step);
        const response = await token(server, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: chain[index] ?? '' });
        const isNewest = index === chain.length - 1;
        if (familyRevoked || !isNewest) {
          expect(response.status).toBe(400);
          familyRevoked = true;
        } else {
          expect(response.status).toBe(200);
          chain.push(((await response.json()) as { refresh_token: string }).refresh_token);
        }
        const active = chain.filter((candidate) => server.isActive(candidate));
        expect(active).toEqual(familyRevoked ? [] : [chain.at(-1)]);
      }
    },
  );

  test.prop([fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), fc.nat({ max: 8 })], { numRuns: 40 })(
    'a user code is recognised in any letter case and with any dash placement',
    async (upper, dashAt) => {
      const server = createTestAuthorizationServer({
        clients: [{ clientId: 'tv', authMethod: 'none', redirectUris: [], grants: ['urn:ietf:params:oauth:grant-type:device_code'], scopes: [] }],
      });
      const response = await server.fetch(`${server.issuer}/device_authorization`, { method: 'POST', body: new URLSearchParams({ client_id: 'tv' }) });
      const { user_code: userCode } = (await response.json()) as { user_code: string };
      const letters = userCode.replace('-', '').split('').map((letter, i) => (upper[i] ? letter : letter.toLowerCase())).join('');
      const typed = `${letters.slice(0, dashAt)}-${letters.slice(dashAt)}`;
      expect(() => server.approveDevice(typed)).not.toThrow();
    },
  );
});
