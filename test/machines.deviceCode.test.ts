/**
 * The device authorization machine (RFC 8628) against the test authorization server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from 'xstate';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { persistSnapshot, restoreActor } from '../machines/snapshots.js';
import { createHarness, settled, stateOf, storedSession, type Harness } from './machines.fixtures.js';

type DeviceActor = Actor<typeof deviceCodeMachine>;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function awaitingUser(h: Harness): Promise<DeviceActor> {
  const actor = h.start(deviceCodeMachine);
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  expect(stateOf(actor)).toBe('awaitingUser');
  return actor;
}

function deviceOf(actor: DeviceActor) {
  const device = actor.getSnapshot().context.device;
  if (device === undefined) throw new Error('no device authorization');
  return device;
}

const polls = (h: Harness) => h.server.tokenRequests('urn:ietf:params:oauth:grant-type:device_code');

describe('deviceCodeMachine', () => {
  it('shows the user code, polls every interval, and signs in once the user approves', async () => {
    const h = createHarness({ server: { deviceInterval: 5 } });
    const actor = await awaitingUser(h);
    const device = deviceOf(actor);
    expect(device.userCode).not.toBe('');
    expect(device.verificationUri).toMatch(/^https:\/\//);
    expect(device.interval).toBe(5);
    await h.advance(4_999);
    expect(polls(h)).toHaveLength(0);
    await h.advance(1);
    expect(polls(h)).toHaveLength(1);
    expect(stateOf(actor)).toBe('awaitingUser');
    h.server.approveDevice(device.userCode);
    await h.advance(5_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(polls(h)).toHaveLength(2);
    expect(actor.getSnapshot().context.device).toBeUndefined();
    expect(await storedSession(h.storage)).toMatchObject({ machine: 'deviceCode', state: 'authenticated' });
  });

  it('slow_down adds 5 s to the interval for this and every later poll (RFC 8628 §3.5)', async () => {
    const h = createHarness({ server: { deviceInterval: 5 } });
    const actor = await awaitingUser(h);
    h.server.fail('token', { oauthError: 'slow_down', status: 400 });
    await h.advance(5_000);
    expect(polls(h)).toHaveLength(1);
    expect(deviceOf(actor).interval).toBe(10);
    await h.advance(9_999);
    expect(polls(h)).toHaveLength(1);
    await h.advance(1);
    expect(polls(h)).toHaveLength(2);
    await h.advance(10_000);
    expect(polls(h)).toHaveLength(3);
  });

  it('fails with access_denied when the user denies', async () => {
    const h = createHarness();
    const actor = await awaitingUser(h);
    h.server.denyDevice(deviceOf(actor).userCode);
    await h.advance(5_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('access_denied');
    expect(actor.getSnapshot().context.device).toBeUndefined();
    await vi.runOnlyPendingTimersAsync();
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('fails with expired_token once the device code is past its expiry', async () => {
    const h = createHarness({ server: { deviceCodeTtl: 12, deviceInterval: 5 } });
    const actor = await awaitingUser(h);
    await h.advance(15_000);
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('expired_token');
    const count = polls(h).length;
    await h.advance(60_000);
    expect(polls(h)).toHaveLength(count);
  });

  it('CANCEL stops polling and returns to idle', async () => {
    const h = createHarness();
    const actor = await awaitingUser(h);
    actor.send({ type: 'CANCEL' });
    expect(stateOf(actor)).toBe('idle');
    await h.advance(60_000);
    expect(polls(h)).toHaveLength(0);
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('a new actor restores the device authorization and keeps polling', async () => {
    const h = createHarness();
    const first = await awaitingUser(h);
    const device = deviceOf(first);
    first.stop();
    const second = h.start(deviceCodeMachine);
    await settled(second);
    expect(stateOf(second)).toBe('awaitingUser');
    expect(deviceOf(second).userCode).toBe(device.userCode);
    h.server.approveDevice(device.userCode);
    await h.advance(5_000);
    await settled(second);
    expect(stateOf(second)).toBe('authenticated');
  });

  it('stopping while polling leaves no unhandled rejection and polls no more', async () => {
    const h = createHarness();
    const actor = await awaitingUser(h);
    await h.advance(2_000);
    actor.stop();
    await h.advance(60_000);
    expect(polls(h)).toHaveLength(0);
    expect(h.actorErrors).toEqual([]);
  });

  it('an XState snapshot persisted in awaitingUser keeps polling once restored', async () => {
    const h = createHarness();
    const actor = await awaitingUser(h);
    const saved = JSON.stringify(persistSnapshot(actor));
    expect(saved).not.toContain('"services"');
    actor.stop();
    const restored = restoreActor(deviceCodeMachine, JSON.parse(saved), h.input);
    restored.start();
    expect(stateOf(restored)).toBe('awaitingUser');
    h.server.approveDevice(deviceOf(restored).userCode);
    await h.advance(5_000);
    await settled(restored);
    expect(stateOf(restored)).toBe('authenticated');
  });

  it('waits for the interval in awaitingUser.waiting, polls in awaitingUser.polling, and persists only while it waits', async () => {
    const h = createHarness();
    const actor = await awaitingUser(h);
    expect(actor.getSnapshot().value).toEqual({ awaitingUser: 'waiting' });
    expect(persistSnapshot(actor).value).toEqual({ awaitingUser: 'waiting' });
    h.server.fail('token', { delayMs: 60_000 }); // the poll stays under way
    await h.advance(deviceOf(actor).interval * 1000);
    expect(actor.getSnapshot().value).toEqual({ awaitingUser: 'polling' });
    expect(() => persistSnapshot(actor)).toThrow(/not a stable state/);
    actor.stop();
  });

  it('a failed device authorization request ends in error; RETRY asks again', async () => {
    const h = createHarness();
    h.server.fail('device_authorization', { oauthError: 'invalid_client', status: 401 });
    const actor = h.start(deviceCodeMachine);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error?.code).toBe('invalid_client');
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingUser');
  });
});
