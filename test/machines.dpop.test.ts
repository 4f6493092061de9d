/**
 * DPoP-bound sessions (RFC 9449) in the charts: the code bound with
 * `dpop_jkt`, proofs on every token request, and a server's demand for its
 * nonce answered by sending the same request once more — a transition of the
 * chart (`exchanging.sending` → `sending`, `refreshing.attempt.requesting` →
 * `requesting`), never a loop. The token endpoint is the test server behind
 * a small DPoP stand-in that checks each proof and answers `DPoP` tokens.
 */
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor, AnyTransitionDefinition } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { dpop } from '../src/protocol/dpop.js';
import { memoryDpopKeyStore } from '../src/services/dpopKeyStore.js';
import type { DpopKeyStore, FetchLike } from '../src/services/types.js';
import { createHarness, settled, stateOf, type Harness } from './machines.fixtures.js';
import { CLIENT_CREDENTIALS_NONCE_TRANSITION, EXCHANGE_NONCE_TRANSITION, RENEWAL_NONCE_TRANSITION } from './support/dpopNonceTransitions.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';

type AuthActor = Actor<typeof authorizationCodeMachine>;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const taken = new Set<string>();

function describeTransition(transition: AnyTransitionDefinition): string {
  const targets = transition.target?.map((target) => target.key).join(',') ?? '(stay)';
  const rawGuard: unknown = transition.guard;
  const guard =
    rawGuard === undefined ? '' : ` [${typeof rawGuard === 'object' && rawGuard !== null && 'type' in rawGuard ? String(rawGuard.type) : String(rawGuard)}]`;
  return `${transition.source.key} --${transition.eventType}${guard}--> ${targets}`;
}

interface ProofSeen {
  grantType: string | null;
  jkt: string;
  nonce: unknown;
  htm: unknown;
  htu: unknown;
}

/**
 * The test server's token endpoint behind a DPoP stand-in: every token request must carry a valid
 * proof; `refuse(grantType)` answers `use_dpop_nonce` (and a `DPoP-Nonce`) until a proof carries the
 * nonce; tokens come back as `DPoP` unless `tokenType` says otherwise.
 */
function dpopServer(h: Harness) {
  const seen: ProofSeen[] = [];
  const state = { nonce: 'nonce-1', refuse: new Set<string>(), always: false, tokenType: 'DPoP' };
  const fetch: FetchLike = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url !== h.provider.tokenEndpoint) return h.services.fetch(input, init);
    const headers = new Headers(init?.headers);
    const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
    const { payload, protectedHeader } = await jwtVerify(headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(h.server.clock.now()) });
    seen.push({ grantType: body.get('grant_type'), jkt: await calculateJwkThumbprint(protectedHeader.jwk!), nonce: payload['nonce'], htm: payload['htm'], htu: payload['htu'] });
    const grantType = body.get('grant_type') ?? '';
    if (state.refuse.has(grantType) && (state.always || payload['nonce'] !== state.nonce)) {
      if (state.always) state.nonce = `${state.nonce}x`;
      return Response.json({ error: 'use_dpop_nonce', error_description: 'a nonce is required' }, { status: 400, headers: { 'dpop-nonce': state.nonce } });
    }
    const response = await h.services.fetch(input, init);
    if (!response.ok) return response;
    const tokens = (await response.json()) as Record<string, unknown>;
    return Response.json({ ...tokens, token_type: state.tokenType }, { headers: { 'dpop-nonce': state.nonce } });
  };
  return { fetch, seen, state };
}

async function startDpop(h: Harness, fetch: FetchLike, keys: DpopKeyStore = memoryDpopKeyStore()): Promise<{ actor: AuthActor; states: string[] }> {
  const states: string[] = [];
  const actor = h.start(authorizationCodeMachine, { services: { ...h.services, fetch, dpop: dpop({ keys }) } });
  actor.system.inspect((inspection) => {
    if (inspection.type !== '@xstate.microstep' || inspection.actorRef !== actor) return;
    for (const transition of (inspection as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) taken.add(describeTransition(transition));
    states.push(JSON.stringify((inspection.snapshot as unknown as { value: unknown }).value));
  });
  await settled(actor);
  return { actor, states };
}

async function login(h: Harness, actor: AuthActor): Promise<string> {
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  const url = actor.getSnapshot().context.authorizationUrl!;
  actor.send({ type: 'CALLBACK', url: await h.server.authorize(url) });
  await settled(actor);
  return url;
}

describe('a DPoP-bound authorization code session', () => {
  it('binds the code to the key (dpop_jkt) and sends the exchange with a proof of that key', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    const keys = memoryDpopKeyStore();
    const { actor } = await startDpop(h, server.fetch, keys);
    const url = await login(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.tokenType).toBe('DPoP');
    const key = await keys.get('oauth-machines:dpop');
    expect(key?.privateKey.extractable).toBe(false);
    const jkt = await calculateJwkThumbprint((await crypto.subtle.exportKey('jwk', key!.publicKey as CryptoKey)) as Parameters<typeof calculateJwkThumbprint>[0]);
    expect(new URL(url).searchParams.get('dpop_jkt')).toBe(jkt);
    expect(server.seen).toEqual([{ grantType: 'authorization_code', jkt, nonce: undefined, htm: 'POST', htu: h.provider.tokenEndpoint }]);
  });

  it('sends the code again once with the nonce the token endpoint asked for (sending → sending)', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    server.state.refuse.add('authorization_code');
    const { actor, states } = await startDpop(h, server.fetch);
    await login(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(server.seen.map((proof) => proof.nonce ?? null)).toEqual([null, 'nonce-1']);
    const sending = states.filter((state) => state === '{"exchanging":"sending"}');
    expect(sending).toHaveLength(2);
    expect(states).not.toContain('{"exchanging":"waiting"}');
    expect(taken).toContain(EXCHANGE_NONCE_TRANSITION);
  });

  it('gives up with use_dpop_nonce when the nonce it was given is refused too: two requests, no loop', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    server.state.refuse.add('authorization_code');
    server.state.always = true;
    const { actor } = await startDpop(h, server.fetch);
    await login(h, actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'use_dpop_nonce', status: 400 });
    expect(server.seen).toHaveLength(2);
  });

  it('refuses a Bearer token answered to a DPoP-bound exchange, and keeps no tokens', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    server.state.tokenType = 'Bearer';
    const { actor } = await startDpop(h, server.fetch);
    await login(h, actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'invalid_response' });
    expect(actor.getSnapshot().context.tokens).toBeUndefined();
  });

  it('sends a renewal again once with the nonce asked for, under the same refresh (requesting → requesting)', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    const { actor, states } = await startDpop(h, server.fetch);
    await login(h, actor);
    server.state.refuse.add('refresh_token');
    server.state.nonce = 'nonce-2';
    states.length = 0;
    actor.send({ type: 'REFRESH' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    const renewals = server.seen.filter((proof) => proof.grantType === 'refresh_token');
    expect(renewals.map((proof) => proof.nonce)).toEqual(['nonce-1', 'nonce-2']);
    expect(new Set(server.seen.map((proof) => proof.jkt)).size).toBe(1);
    expect(states.filter((state) => state === '{"refreshing":{"attempt":"requesting"}}')).toHaveLength(2);
    expect(states).not.toContain('{"refreshing":"retrying"}');
    expect(taken).toContain(RENEWAL_NONCE_TRANSITION);
  });

  it('signs with the same key after a restart from storage: the key store keeps the binding', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    const keys = memoryDpopKeyStore();
    const first = await startDpop(h, server.fetch, keys);
    await login(h, first.actor);
    first.actor.stop();
    // A new actor, as after a reload: the session from storage, the key from the key store.
    const second = await startDpop(h, server.fetch, keys);
    expect(stateOf(second.actor)).toBe('authenticated');
    second.actor.send({ type: 'REFRESH' });
    await settled(second.actor);
    expect(stateOf(second.actor)).toBe('authenticated');
    expect(server.seen.map((proof) => proof.grantType)).toEqual(['authorization_code', 'refresh_token']);
    expect(server.seen[1]!.jkt).toBe(server.seen[0]!.jkt);
  });

  it('removes the key from its store at logout (the next login makes a new one)', async () => {
    const h = createHarness();
    const server = dpopServer(h);
    const keys = memoryDpopKeyStore();
    const { actor } = await startDpop(h, server.fetch, keys);
    await login(h, actor);
    expect(await keys.get('oauth-machines:dpop')).toBeDefined();
    actor.send({ type: 'LOGOUT' });
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(await keys.get('oauth-machines:dpop')).toBeUndefined();
  });

  it('refuses a dpop() option it does not know, or an algorithm it does not sign with', () => {
    expect(() => dpop({ algorithm: 'HS256' as never })).toThrow(/algorithm must be one of ES256, ES384, PS256, RS256, EdDSA/);
    expect(() => dpop({ alg: 'ES256' } as never)).toThrow(/unknown option alg/);
  });

  it('is off without services.dpop: no dpop_jkt, no proof, and a Bearer token is fine', async () => {
    const h = createHarness();
    const seen: (string | null)[] = [];
    const fetch: FetchLike = (input, init) => {
      seen.push(new Headers(init?.headers).get('dpop'));
      return h.services.fetch(input, init);
    };
    const actor = h.start(authorizationCodeMachine, { services: { ...h.services, fetch } });
    await settled(actor);
    const url = await login(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(new URL(url).searchParams.has('dpop_jkt')).toBe(false);
    expect(seen).toEqual([null]);
  });

  it('a client-credentials request refused for want of the nonce is sent again once (exchanging → exchanging), and its token is DPoP', async () => {
    const h = createHarness({ client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] } });
    const server = dpopServer(h);
    server.state.refuse.add('client_credentials');
    const states: string[] = [];
    const actor = h.start(clientCredentialsMachine, { services: { ...h.services, fetch: server.fetch, dpop: dpop() } });
    actor.system.inspect((inspection) => {
      if (inspection.type !== '@xstate.microstep' || inspection.actorRef !== actor) return;
      for (const transition of (inspection as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) taken.add(describeTransition(transition));
      states.push(JSON.stringify((inspection.snapshot as unknown as { value: unknown }).value));
    });
    await settled(actor);
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.tokenType).toBe('DPoP');
    expect(server.seen.map((proof) => proof.nonce ?? null)).toEqual([null, 'nonce-1']);
    expect(states.filter((state) => state === '"exchanging"')).toHaveLength(2);
    expect(taken).toContain(CLIENT_CREDENTIALS_NONCE_TRANSITION);
  });

  // Last: the path replays of test/machines.paths.test.ts leave these transitions to this file.
  it('took every transition the path replays leave to it', () => {
    expect([EXCHANGE_NONCE_TRANSITION, RENEWAL_NONCE_TRANSITION, CLIENT_CREDENTIALS_NONCE_TRANSITION].filter((transition) => !taken.has(transition))).toEqual([]);
  });
});
