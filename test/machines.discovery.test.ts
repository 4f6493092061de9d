/**
 * Discovery is a state of every grant's chart: `starting` → `discovering`
 * (RFC 8414 / OpenID Connect Discovery against the test server) →
 * `restoring`, or `discoveryFailed`, which asks again after its named delay
 * on the clock service, on `RETRY`, or on a `LOGIN` it replays. Every
 * transition of those states, in every grant machine, is taken here (the
 * path replays of machines.paths.test.ts start from a provider with its
 * endpoints written out, and leave these to this file).
 */
import { describe, expect, it } from 'vitest';
import { waitFor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { implicitMachine } from '../machines/legacy/implicit.js';
import { passwordMachine } from '../machines/legacy/password.js';
import { RUNTIME, type GrantContext, type GrantEvent } from '../machines/types.js';
import { DISCOVERY_RETRY_MS } from '../machines/lifecycle.js';
import { createHarness, type Harness, type HarnessOptions } from './machines.fixtures.js';
import { discoveryTransitions } from './support/discoveryTransitions.js';
import { recordingActor, type TakenTransitions } from './support/recordingActor.js';

const covered: TakenTransitions = new Map();

const MACHINES = [
  { name: 'authorization code', machine: authorizationCodeMachine, login: { type: 'LOGIN' }, harness: {} },
  { name: 'implicit', machine: implicitMachine, login: { type: 'LOGIN' }, harness: {} },
  { name: 'device code', machine: deviceCodeMachine, login: { type: 'LOGIN' }, harness: {} },
  {
    name: 'client credentials',
    machine: clientCredentialsMachine,
    login: { type: 'LOGIN' },
    harness: { client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] } },
  },
  {
    name: 'password',
    machine: passwordMachine,
    login: { type: 'LOGIN', username: 'alice', password: 'correct horse' },
    harness: { client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] } },
  },
] as const satisfies ReadonlyArray<{ name: string; machine: AnyStateMachine; login: GrantEvent; harness: HarnessOptions }>;

/** An actor of `machine` that discovers `h`'s server from its issuer (plus `overrides`), its transitions recorded. */
function discovering(h: Harness, machine: AnyStateMachine, overrides: Record<string, unknown> = {}) {
  return recordingActor(machine, { ...h.input, provider: { issuer: h.server.issuer, ...overrides } }, h.services.clock, covered, h.actorErrors);
}

const settled = (snapshot: AnyMachineSnapshot): boolean => !snapshot.hasTag('busy');
const contextOf = (snapshot: AnyMachineSnapshot): GrantContext => snapshot.context as GrantContext;

describe.each(MACHINES)('$name machine: discovery is a state of the chart', ({ machine, login, harness }) => {
  it('starts discovering, busy and not ready; restores with the discovered endpoints, the given fields winning', async () => {
    const h = createHarness(harness);
    const actor = discovering(h, machine, { scopesSupported: ['given'] });
    expect(actor.getSnapshot().value).toBe('discovering');
    expect(actor.getSnapshot().hasTag('busy')).toBe(true);
    expect(actor.getSnapshot().hasTag('ready')).toBe(false);
    const snapshot = await waitFor(actor, (s) => s.hasTag('ready'));
    expect(snapshot.value).toBe('idle');
    const provider = contextOf(snapshot)[RUNTIME].provider;
    expect(provider?.tokenEndpoint).toBe(h.provider.tokenEndpoint);
    expect(provider?.scopesSupported).toEqual(['given']);
    // Discovered once: the metadata is not fetched again for the requests that follow.
    expect(h.server.log.filter((entry) => entry.endpoint === 'metadata').length).toBeGreaterThan(0);
    expect(h.actorErrors).toEqual([]);
  });

  it('keeps a LOGIN and a CALLBACK sent while discovering, and replays them once restored', async () => {
    const h = createHarness(harness);
    const actor = discovering(h, machine);
    actor.send({ type: 'CALLBACK', url: 'https://app.test/callback?code=c&state=s' });
    actor.send(login);
    expect(contextOf(actor.getSnapshot()).deferred.map((event) => event.type)).toEqual(['CALLBACK', 'LOGIN']);
    const snapshot = await waitFor(actor, (s) => s.hasTag('ready') && settled(s));
    // The LOGIN was taken after discovery: a login is under way or done, or (a replayed refused CALLBACK first) an error.
    expect(contextOf(snapshot).deferred).toEqual([]);
    expect(snapshot.value).not.toBe('idle');
    expect(h.actorErrors).toEqual([]);
  });

  it('waits in discoveryFailed after a 503, tagged error and not ready, and asks again after the named delay', async () => {
    const h = createHarness(harness);
    h.server.fail('metadata', { status: 503, body: { error: 'temporarily_unavailable' } });
    const actor = discovering(h, machine);
    const failed = await waitFor(actor, (s) => s.value === 'discoveryFailed');
    expect(failed.hasTag('error')).toBe(true);
    expect(failed.hasTag('ready')).toBe(false);
    expect(contextOf(failed).error).toMatchObject({ code: 'temporarily_unavailable', retryable: true });
    h.server.clock.advance(DISCOVERY_RETRY_MS - 1);
    expect(actor.getSnapshot().value).toBe('discoveryFailed');
    h.server.clock.advance(1);
    const snapshot = await waitFor(actor, (s) => s.hasTag('ready'));
    expect(snapshot.value).toBe('idle');
    expect(contextOf(snapshot).error).toBeUndefined();
  });

  it('does not ask again by itself after a failure that will not pass, but does on RETRY, and on a LOGIN it replays', async () => {
    const h = createHarness(harness);
    // The document names another issuer (RFC 8414 §3.3): asking again would get the same answer.
    const actor = discovering(h, machine, { issuer: `${h.server.issuer}/` });
    const failed = await waitFor(actor, (s) => s.value === 'discoveryFailed');
    expect(contextOf(failed).error).toMatchObject({ code: 'issuer_mismatch', retryable: false });
    const metadataRequests = h.server.log.filter((entry) => entry.endpoint === 'metadata').length;
    h.server.clock.advance(10 * DISCOVERY_RETRY_MS);
    expect(actor.getSnapshot().value).toBe('discoveryFailed');
    expect(h.server.log.filter((entry) => entry.endpoint === 'metadata').length).toBe(metadataRequests);

    actor.send({ type: 'RETRY' });
    expect(actor.getSnapshot().value).toBe('discovering');
    await waitFor(actor, (s) => s.value === 'discoveryFailed');
    actor.send(login);
    expect(actor.getSnapshot().value).toBe('discovering');
    expect(contextOf(actor.getSnapshot()).deferred.map((event) => event.type)).toEqual(['LOGIN']);
    await waitFor(actor, (s) => s.value === 'discoveryFailed');
    expect(h.actorErrors).toEqual([]);
  });
});

describe('discovery refuses metadata without the endpoint the grant needs', () => {
  it.each([
    ['authorization code', authorizationCodeMachine, 'authorize', /authorization_endpoint/],
    ['device code', deviceCodeMachine, 'device_authorization', /device_authorization_endpoint/],
  ] as const)('%s: unsupported_operation, not retried', async (_, machine, endpoint, named) => {
    const h = createHarness({ server: { paths: { [endpoint]: null } } });
    const actor = discovering(h, machine);
    const failed = await waitFor(actor, (s) => s.value === 'discoveryFailed');
    expect(contextOf(failed).error).toMatchObject({ code: 'unsupported_operation', retryable: false });
    expect(contextOf(failed).error?.description).toMatch(named);
  });
});

// Runs after the tests above (a file's tests run in order).
describe('transition coverage of the discovery states', () => {
  it.each(MACHINES)('every one of them in the $name chart was taken above', ({ machine }) => {
    const taken = covered.get(machine) ?? new Set();
    const all = discoveryTransitions(machine);
    expect(all.length).toBeGreaterThanOrEqual(7);
    const missing = all.filter((transition) => !taken.has(transition));
    expect(missing.map((t) => `${t.source.key} --${t.eventType}--> ${t.target?.map((node) => node.key).join(',') ?? '(stay)'}`)).toEqual([]);
  });
});
