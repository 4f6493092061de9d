import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { createHarness, settled, stateOf } from './machines.fixtures.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('authorizationCodeMachine', () => {
  it('logs in: redirect, callback, exchange, authenticated', async () => {
    const h = createHarness();
    const actor = h.start(authorizationCodeMachine);
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    const url = actor.getSnapshot().context.authorizationUrl;
    expect(url).toBeDefined();
    const callback = await h.server.authorize(url!);
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(actor.getSnapshot().context.error).toBeUndefined();
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.refreshToken).toBeDefined();
  });
});
