/**
 * The legacy password and implicit grants (removed by OAuth 2.1, kept for providers that need them).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { implicitMachine, passwordMachine } from '../machines/legacy/index.js';
import { createHarness, REDIRECT_URI, settled, stateOf, storedSession } from './machines.fixtures.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function passwordHarness() {
  return createHarness({
    server: { passwordGrant: true, user: { sub: 'alice', username: 'alice', password: 'correct horse' } },
    client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] },
  });
}

describe('passwordMachine', () => {
  it('signs in with username and password, and never keeps the password in context or storage', async () => {
    const h = passwordHarness();
    const actor = h.start(passwordMachine);
    actor.send({ type: 'LOGIN', username: 'alice', password: 'correct horse' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(h.server.tokenRequests('password')).toHaveLength(1);
    expect(JSON.stringify(actor.getPersistedSnapshot())).not.toContain('correct horse');
    expect(JSON.stringify(await storedSession(h.storage))).not.toContain('correct horse');
  });

  it('a wrong password ends in error with the server code (invalid_grant)', async () => {
    const h = passwordHarness();
    const actor = h.start(passwordMachine);
    await settled(actor);
    actor.send({ type: 'LOGIN', username: 'alice', password: 'wrong' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('invalid_grant');
  });

  it('a LOGIN without credentials is refused before anything is sent', async () => {
    const h = passwordHarness();
    const actor = h.start(passwordMachine);
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('invalid_request');
    expect(h.server.log).toHaveLength(0);
  });
});

describe('implicitMachine', () => {
  async function awaitingCallback() {
    const h = createHarness();
    const actor = h.start(implicitMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    const url = new URL(actor.getSnapshot().context.authorizationUrl!);
    const state = actor.getSnapshot().context.pending!.state;
    return { h, actor, url, state };
  }

  it('asks for response_type=token without PKCE', async () => {
    const { url } = await awaitingCallback();
    expect(url.searchParams.get('response_type')).toBe('token');
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('state')).toBe(true);
  });

  it('takes the tokens from the fragment, and the session ends at their expiry (no refresh)', async () => {
    const { h, actor, state } = await awaitingCallback();
    const fragment = new URLSearchParams({ access_token: 'at-1', token_type: 'bearer', expires_in: '60', state, iss: h.server.issuer });
    actor.send({ type: 'CALLBACK', url: `${REDIRECT_URI}#${fragment}` });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens).toMatchObject({ accessToken: 'at-1', tokenType: 'Bearer' });
    expect(actor.getSnapshot().context.pending).toBeUndefined();
    expect(await storedSession(h.storage)).toMatchObject({ machine: 'implicit', state: 'authenticated' });
    await h.advance(60_000);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('login_required');
    expect(h.server.tokenRequests()).toHaveLength(0);
  });

  it('refuses an ID token in the fragment that nothing can verify (no key set), and stores nothing', async () => {
    const { h, actor, state } = await awaitingCallback();
    const now = Math.floor(h.server.clock.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const nonce = actor.getSnapshot().context.pending!.nonce!;
    const idToken = `${part({ alg: 'none' })}.${part({ iss: h.server.issuer, aud: 'app', sub: 'mallory', iat: now, exp: now + 60, nonce })}.`;
    const fragment = new URLSearchParams({ access_token: 'at-1', token_type: 'Bearer', id_token: idToken, state, iss: h.server.issuer });
    actor.send({ type: 'CALLBACK', url: `${REDIRECT_URI}#${fragment}` });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('invalid_id_token');
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
    expect(JSON.stringify((await storedSession(h.storage)) ?? {})).not.toContain('at-1');
  });

  it('refuses a fragment whose state does not match, and keeps waiting for its own', async () => {
    const { h, actor } = await awaitingCallback();
    const fragment = new URLSearchParams({ access_token: 'at-1', token_type: 'Bearer', state: 'forged', iss: h.server.issuer });
    actor.send({ type: 'CALLBACK', url: `${REDIRECT_URI}#${fragment}` });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    expect(actor.getSnapshot().context.error?.code).toBe('state_mismatch');
    expect(actor.getSnapshot().context.pending).toBeDefined();
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
  });
});
