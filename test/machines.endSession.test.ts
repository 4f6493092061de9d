/**
 * RP-initiated logout is a state of every grant's chart: `LOGOUT { endSession }`
 * revokes and clears (`loggingOut`), then `endingProviderSession` sends the
 * user agent to the provider's end-session endpoint with `id_token_hint`,
 * `client_id`, `post_logout_redirect_uri` and a `state` it keeps. Every
 * transition to and of that state, in every grant machine, is taken here.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, type AnyStateMachine } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { implicitMachine } from '../machines/legacy/implicit.js';
import { passwordMachine } from '../machines/legacy/password.js';
import { consumeProviderLogout } from '../machines/persistence.js';
import type { GrantContext, GrantInput } from '../machines/types.js';
import { createHarness, REDIRECT_URI, type Harness } from './machines.fixtures.js';
import { providerLogoutTransitions } from './support/discoveryTransitions.js';
import { recordingActor, type TakenTransitions } from './support/recordingActor.js';

const POST_LOGOUT = 'https://app.test/signed-out';
const MACHINES: Array<[string, AnyStateMachine]> = [
  ['authorization code', authorizationCodeMachine],
  ['implicit', implicitMachine],
  ['device code', deviceCodeMachine],
  ['client credentials', clientCredentialsMachine],
  ['password', passwordMachine],
];
const covered: TakenTransitions = new Map();

function started(h: Harness, machine: AnyStateMachine, input: GrantInput, navigations: string[]) {
  const navigate = (url: string) => void navigations.push(url);
  return recordingActor(machine, { ...input, services: { ...input.services, navigate } }, h.services.clock, covered, h.actorErrors);
}

const context = (actor: { getSnapshot(): { context: unknown } }) => actor.getSnapshot().context as GrantContext;

describe('RP-initiated logout in the chart', () => {
  it('authorization code: revokes, then sends the user agent to end_session with id_token_hint, client_id, the redirect and a kept state', async () => {
    const h = createHarness({ server: { paths: { end_session: '/logout' } } });
    const endSessionEndpoint = `${h.server.issuer}/logout`;
    const navigations: string[] = [];
    const actor = started(h, authorizationCodeMachine, { ...h.input, provider: { ...h.provider, endSessionEndpoint } }, navigations);
    await waitFor(actor, (s) => s.hasTag('ready'));
    actor.send({ type: 'LOGIN' });
    await waitFor(actor, (s) => s.hasTag('awaitingCallback'));
    actor.send({ type: 'CALLBACK', url: await h.server.authorize(navigations.at(-1) ?? '') });
    const signedIn = await waitFor(actor, (s) => s.hasTag('signedIn') && !s.hasTag('busy'));
    const idToken = context({ getSnapshot: () => signedIn }).tokens?.idToken;
    expect(idToken).toBeDefined();

    actor.send({ type: 'LOGOUT', endSession: { postLogoutRedirectUri: POST_LOGOUT } });
    const done = await waitFor(actor, (s) => s.value === 'idle');
    const url = new URL(navigations.at(-1) ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(endSessionEndpoint);
    expect(url.searchParams.get('id_token_hint')).toBe(idToken);
    expect(url.searchParams.get('client_id')).toBe('app');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(POST_LOGOUT);
    const state = url.searchParams.get('state');
    expect(state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    const loggedOut = context({ getSnapshot: () => done }).loggedOut;
    expect(loggedOut).toMatchObject({ revoked: ['refresh_token', 'access_token'], endSessionUrl: url.href });
    expect(context({ getSnapshot: () => done }).tokens).toBeUndefined();
    expect(context({ getSnapshot: () => done }).staleTokens).toBeUndefined();
    expect(context({ getSnapshot: () => done }).endSession).toBeUndefined();
    // The kept state takes the provider's return, once, and nothing else.
    await expect(consumeProviderLogout(h.storage, 'oauth-machines', 'forged', h.server.clock.now())).rejects.toMatchObject({ code: 'state_mismatch' });
    await expect(consumeProviderLogout(h.storage, 'oauth-machines', state, h.server.clock.now())).resolves.toBeUndefined();
    await expect(consumeProviderLogout(h.storage, 'oauth-machines', state, h.server.clock.now())).rejects.toMatchObject({ code: 'pending_missing' });
    expect(h.actorErrors).toEqual([]);
  });

  it('a LOGOUT without endSession never leaves for the provider', async () => {
    const h = createHarness();
    const navigations: string[] = [];
    const actor = started(h, authorizationCodeMachine, { ...h.input, provider: { ...h.provider, endSessionEndpoint: `${h.server.issuer}/logout` } }, navigations);
    await waitFor(actor, (s) => s.hasTag('ready'));
    actor.send({ type: 'LOGOUT' });
    await waitFor(actor, (s) => s.value === 'idle' && !s.hasTag('busy'));
    expect(navigations).toEqual([]);
  });

  it.each(MACHINES)('%s: from idle too; without an end-session endpoint the local logout stands and the error says why', async (_, machine) => {
    const h = createHarness({ client: machine === clientCredentialsMachine || machine === passwordMachine ? { clientId: 'service', clientSecret: 'service-secret' } : {} });
    const navigations: string[] = [];
    const withEndpoint = started(h, machine, { ...h.input, provider: { ...h.provider, endSessionEndpoint: `${h.server.issuer}/logout` } }, navigations);
    await waitFor(withEndpoint, (s) => s.hasTag('ready'));
    withEndpoint.send({ type: 'LOGOUT', endSession: {} });
    await waitFor(withEndpoint, (s) => s.value === 'idle' && context(withEndpoint).endSession === undefined);
    expect(navigations).toHaveLength(1);
    expect(new URL(navigations[0] ?? '').searchParams.has('id_token_hint')).toBe(false);

    const without = started(h, machine, h.input, navigations);
    await waitFor(without, (s) => s.hasTag('ready'));
    without.send({ type: 'LOGOUT', endSession: { postLogoutRedirectUri: REDIRECT_URI } });
    const failed = await waitFor(without, (s) => s.value === 'idle' && context(without).error !== undefined);
    expect(context({ getSnapshot: () => failed }).error?.description).toMatch(/endSessionEndpoint/);
    expect(navigations).toHaveLength(1);
  });

  it.each(MACHINES)('every transition to and of endingProviderSession in the %s chart was taken above', (_, machine) => {
    const taken = covered.get(machine) ?? new Set();
    const all = providerLogoutTransitions(machine);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.filter((transition) => !taken.has(transition)).map((t) => `${t.source.key} --${t.eventType}-->`)).toEqual([]);
  });
});
