/**
 * The client credentials machine against the test authorization server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { createHarness, settled, stateOf, storedSession, type HarnessOptions } from './machines.fixtures.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const serviceClient = { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] };

function harness(options: HarnessOptions = {}) {
  return createHarness({ ...options, client: { ...serviceClient, ...options.client } });
}

describe('clientCredentialsMachine', () => {
  it('LOGIN requests tokens for the client and stores them', async () => {
    const h = harness();
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.scope).toEqual(['read']);
    const [request] = h.server.tokenRequests('client_credentials');
    expect(request?.clientId).toBe('service');
    expect(request?.params.scope).toBe('read');
    expect(await storedSession(h.storage)).toMatchObject({ machine: 'clientCredentials', state: 'authenticated' });
  });

  it('renews with a new client credentials request before expiry', async () => {
    const h = harness({ grant: { refreshSkewMs: 10_000 } });
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN', scopes: ['write'] });
    await settled(actor);
    const first = actor.getSnapshot().context.tokens!;
    await h.advance(first.expiresAt! - h.server.clock.now() - 10_000);
    await settled(actor);
    const requests = h.server.tokenRequests('client_credentials');
    expect(requests).toHaveLength(2);
    expect(requests[1]?.params.scope).toBe('write');
    expect(actor.getSnapshot().context.tokens?.accessToken).not.toBe(first.accessToken);
    expect(stateOf(actor)).toBe('authenticated');
  });

  it('sends the RFC 8707 resource of the input, and of a LOGIN that names another, with the request and its renewals', async () => {
    const h = harness({ grant: { refreshSkewMs: 10_000 } });
    const actor = h.start(clientCredentialsMachine, { resource: 'https://api-a.example/' });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    actor.send({ type: 'LOGIN', resource: 'https://api-b.example/' });
    await settled(actor);
    expect(actor.getSnapshot().context.login?.resource).toBe('https://api-b.example/');
    const first = actor.getSnapshot().context.tokens!;
    await h.advance(first.expiresAt! - h.server.clock.now() - 10_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(h.server.tokenRequests('client_credentials').map((request) => request.params.resource)).toEqual([
      'https://api-a.example/',
      'https://api-a.example/',
      'https://api-b.example/',
      'https://api-b.example/',
    ]);
  });

  it('sends no resource when neither the input nor the LOGIN names one', async () => {
    const h = harness();
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(h.server.tokenRequests('client_credentials')[0]?.params).not.toHaveProperty('resource');
  });

  it('REFRESH asks again on demand', async () => {
    const h = harness();
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    expect(h.server.tokenRequests('client_credentials')).toHaveLength(2);
  });

  it('a wrong secret ends in error (invalid_client); RETRY asks again', async () => {
    const h = harness({ client: { clientSecret: 'wrong' } });
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('invalid_client');
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(h.server.tokenRequests('client_credentials')).toHaveLength(2);
  });

  it('restores the stored tokens in a new actor', async () => {
    const h = harness();
    const first = h.start(clientCredentialsMachine);
    first.send({ type: 'LOGIN' });
    await settled(first);
    first.stop();
    const second = h.start(clientCredentialsMachine);
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
    expect(second.getSnapshot().context.tokens).toEqual(first.getSnapshot().context.tokens);
    expect(h.server.tokenRequests('client_credentials')).toHaveLength(1);
  });

  it('LOGOUT revokes the access token and clears storage', async () => {
    const h = harness();
    const actor = h.start(clientCredentialsMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    const { accessToken } = actor.getSnapshot().context.tokens!;
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(h.server.isActive(accessToken)).toBe(false);
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('CANCEL during the request returns to idle and aborts it', async () => {
    const h = harness();
    const actor = h.start(clientCredentialsMachine);
    await settled(actor);
    h.server.fail('token', { delayMs: 5_000 });
    actor.send({ type: 'LOGIN' });
    await vi.advanceTimersByTimeAsync(10);
    actor.send({ type: 'CANCEL' });
    expect(stateOf(actor)).toBe('idle');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stateOf(actor)).toBe('idle');
    expect(h.actorErrors).toEqual([]);
  });
});
