/**
 * Regression tests for the machines' reliability promises: a device poll
 * that a server cannot speed up into a loop, snapshots that are validated as
 * strictly as the stored session, and a forgotten login that never takes
 * another tab's session with it. Each test failed before its fix.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { RESTORE_RETRY_MS } from '../machines/lifecycle.js';
import { persistSnapshot, restoreActor, type PersistedGrantSnapshot } from '../machines/snapshots.js';
import { OAuthError } from '../src/errors.js';
import type { FetchLike } from '../src/services/types.js';
import { createHarness, settled, stateOf, storedSession, type Harness } from './machines.fixtures.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function awaitingUser(h: Harness, fetch?: FetchLike): Promise<Actor<typeof deviceCodeMachine>> {
  const actor = h.start(deviceCodeMachine, fetch === undefined ? {} : { services: { ...h.services, fetch } });
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  expect(stateOf(actor)).toBe('awaitingUser');
  return actor;
}

describe('the device poll cannot be driven into a loop', () => {
  it('a stored device authorization with interval 0 is polled at most once a second', async () => {
    const h = createHarness({ server: { deviceInterval: 1 } });
    const actor = await awaitingUser(h);
    const saved = persistSnapshot(actor);
    actor.stop();
    const context = { ...saved.context, device: { ...(saved.context['device'] as object), interval: 0 } };
    const restored = restoreActor(deviceCodeMachine, { ...saved, context }, h.input);
    restored.start();
    for (let step = 0; step < 30; step += 1) await h.advance(100);
    expect(h.server.tokenRequests(DEVICE_GRANT).length).toBeLessThanOrEqual(3);
    restored.stop();
  });

  it('a network failure while polling slows the poll down like slow_down (RFC 8628 §3.5)', async () => {
    const h = createHarness({ server: { deviceInterval: 1 } });
    let down = false;
    const fetch: FetchLike = (input, init) => (down ? Promise.reject(new TypeError('fetch failed')) : h.server.fetch(input, init));
    const actor = await awaitingUser(h, fetch);
    down = true;
    await h.advance(1_000);
    await vi.waitFor(() => expect(actor.getSnapshot().context.device?.interval).toBe(6));
    expect(stateOf(actor)).toBe('awaitingUser');
    actor.stop();
  });

  it('a 503 with Retry-After waits at least that long before the next poll', async () => {
    const h = createHarness({ server: { deviceInterval: 1 } });
    const actor = await awaitingUser(h);
    h.server.fail('token', { status: 503, headers: { 'retry-after': '30' } });
    await h.advance(1_000);
    await vi.waitFor(() => expect(actor.getSnapshot().context.device?.interval).toBeGreaterThanOrEqual(30));
    actor.stop();
  });
});

describe('restoreActor validates the whole snapshot', () => {
  async function signedInSnapshot(h: Harness): Promise<PersistedGrantSnapshot> {
    const actor = h.start(authorizationCodeMachine);
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    const url = actor.getSnapshot().context.authorizationUrl ?? '';
    actor.send({ type: 'CALLBACK', url: await h.server.authorize(url) });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    const saved = persistSnapshot(actor);
    actor.stop();
    return saved;
  }

  it('accepts the snapshot persistSnapshot wrote', async () => {
    const h = createHarness();
    const saved = await signedInSnapshot(h);
    const restored = restoreActor(authorizationCodeMachine, JSON.parse(JSON.stringify(saved)) as PersistedGrantSnapshot, h.input);
    restored.start();
    expect(stateOf(restored)).toBe('authenticated');
    restored.stop();
  });

  it.each<[string, (context: Record<string, unknown>) => Record<string, unknown>]>([
    ['authenticated without tokens', ({ tokens: _tokens, ...rest }) => rest],
    ['tokens of the wrong type', (context) => ({ ...context, tokens: { accessToken: 42 } })],
    ['a field the machine does not have', (context) => ({ ...context, services: {}, isAdmin: true })],
    ['another machine', (context) => ({ ...context, grant: 'deviceCode' })],
    ['events still deferred', (context) => ({ ...context, deferred: [{ type: 'LOGIN' }] })],
  ])('refuses an edited snapshot (%s) with invalid_snapshot, and nothing runs', async (_name, edit) => {
    const h = createHarness();
    const saved = await signedInSnapshot(h);
    const edited = { ...saved, context: edit(saved.context) };
    let thrown: unknown;
    try {
      restoreActor(authorizationCodeMachine, edited, h.input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OAuthError);
    expect((thrown as OAuthError).code).toBe('invalid_snapshot');
  });
});

describe('forgetting a login never removes a session another tab stored', () => {
  it('a cancelled login leaves a valid session stored meanwhile by another client', async () => {
    const h = createHarness();
    const actor = h.start(authorizationCodeMachine);
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    await settled(actor);

    // Another tab logs in on the same storage while this one waits for its callback.
    const other = h.start(authorizationCodeMachine, { options: { restore: false } });
    await settled(other);
    other.send({ type: 'LOGIN' });
    await settled(other);
    other.send({ type: 'CALLBACK', url: await h.server.authorize(other.getSnapshot().context.authorizationUrl ?? '') });
    await settled(other);
    expect(stateOf(other)).toBe('authenticated');

    actor.send({ type: 'CANCEL' });
    await settled(actor);
    await vi.advanceTimersByTimeAsync(10);
    expect(await storedSession(h.storage)).toMatchObject({ state: 'authenticated' });
    actor.stop();
    other.stop();
  });
});

describe('a restore that cannot read the storage waits for it, and reads it again', () => {
  /** A session stored by a first actor; then a storage whose `get` throws until `heal()`. */
  async function storedSessionBehindFailingGets() {
    const h = createHarness();
    const first = h.start(authorizationCodeMachine);
    await settled(first);
    first.send({ type: 'LOGIN' });
    await settled(first);
    first.send({ type: 'CALLBACK', url: await h.server.authorize(first.getSnapshot().context.authorizationUrl ?? '') });
    await settled(first);
    expect(stateOf(first)).toBe('authenticated');
    const tokens = first.getSnapshot().context.tokens;
    first.stop();
    let broken = true;
    const storage = { ...h.storage, get: (key: string) => (broken ? Promise.reject(new Error('disk unavailable')) : h.storage.get(key)) };
    return { h, storage, tokens, heal: () => (broken = false) };
  }

  it('restoreFailed carries the storage_error (tag error), and the session comes back after the retry delay', async () => {
    const { h, storage, tokens, heal } = await storedSessionBehindFailingGets();
    const actor = h.start(authorizationCodeMachine, { services: { ...h.services, storage } });
    await settled(actor);
    expect(stateOf(actor)).toBe('restoreFailed');
    expect(actor.getSnapshot().hasTag('error')).toBe(true);
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'storage_error' });
    // Still failing: the delay reads it again, and it fails again.
    h.server.clock.advance(RESTORE_RETRY_MS);
    await settled(actor);
    expect(stateOf(actor)).toBe('restoreFailed');
    heal();
    h.server.clock.advance(RESTORE_RETRY_MS);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens).toEqual(tokens);
    expect(actor.getSnapshot().context.error).toBeUndefined();
  });

  it('RETRY reads the storage again at once', async () => {
    const { h, storage, tokens, heal } = await storedSessionBehindFailingGets();
    const actor = h.start(authorizationCodeMachine, { services: { ...h.services, storage } });
    await settled(actor);
    expect(stateOf(actor)).toBe('restoreFailed');
    heal();
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens).toEqual(tokens);
  });
});
