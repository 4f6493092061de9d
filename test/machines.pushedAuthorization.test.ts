/**
 * Pushed authorization requests (RFC 9126) in the authorization code chart:
 * `redirecting` makes the request (`creating`), pushes it (`pushing`) and
 * sends the user agent with its `request_uri` only (`opening`). The pushed
 * authorization request endpoint is a small stand-in in front of the test
 * server: it keeps what was pushed, and the user agent's visit is expanded
 * back into the full request, as the server would.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor, AnyTransitionDefinition } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import type { FetchLike, StorageService } from '../src/services/types.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { createHarness, settled, stateOf, storedSession, type Harness, type HarnessOptions } from './machines.fixtures.js';
import { PUSHED_AUTHORIZATION_TRANSITIONS } from './support/pushedAuthorizationTransitions.js';

type AuthActor = Actor<typeof authorizationCodeMachine>;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Every transition the actors of this file took, as `source --event [guard]--> target`. */
const taken = new Set<string>();

function describeTransition(transition: AnyTransitionDefinition): string {
  const targets = transition.target?.map((target) => target.key).join(',') ?? '(stay)';
  const rawGuard: unknown = transition.guard;
  const guard =
    rawGuard === undefined ? '' : ` [${typeof rawGuard === 'object' && rawGuard !== null && 'type' in rawGuard ? String(rawGuard.type) : String(rawGuard)}]`;
  return `${transition.source.key} --${transition.eventType}${guard}--> ${targets}`;
}

interface Pushed {
  body: URLSearchParams;
  headers: Headers;
  requestUri: string;
}

interface ParServer {
  fetch: FetchLike;
  pushes: Pushed[];
  /** The next answers of the endpoint, in order; then 201 with a fresh request_uri. */
  answers: Response[];
  /** The authorization URL the server would see once it resolved the request_uri (RFC 9126 §4). */
  expand(url: string): string;
  /** Seconds a request_uri lives. */
  expiresIn: number;
}

/** A pushed authorization request endpoint at `${issuer}/par` in front of `inner`. */
function parServer(issuer: string, inner: FetchLike): ParServer {
  const server: ParServer = {
    pushes: [],
    answers: [],
    expiresIn: 60,
    fetch: async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url !== `${issuer}/par`) return inner(input, init);
      const body = new URLSearchParams(typeof init?.body === 'string' ? init.body : '');
      const requestUri = `urn:ietf:params:oauth:request_uri:${server.pushes.length + 1}`;
      server.pushes.push({ body, headers: new Headers(init?.headers), requestUri });
      const answer = server.answers.shift();
      if (answer !== undefined) return answer;
      return Response.json({ request_uri: requestUri, expires_in: server.expiresIn }, { status: 201 });
    },
    expand: (url) => {
      const parsed = new URL(url);
      const pushed = server.pushes.find((push) => push.requestUri === parsed.searchParams.get('request_uri'));
      if (pushed === undefined) throw new Error(`no pushed request for ${url}`);
      const full = new URL(`${parsed.origin}${parsed.pathname}`);
      for (const [name, value] of pushed.body) full.searchParams.append(name, value);
      return full.href;
    },
  };
  return server;
}

function setup(options: HarnessOptions & { par?: 'option' | 'required' | 'required-without-endpoint' } = {}) {
  const h = createHarness({ ...options, grant: { ...(options.par === 'option' ? { pushedAuthorizationRequests: true } : {}), ...options.grant } });
  const par = parServer(h.server.issuer, h.services.fetch);
  const navigations: string[] = [];
  const provider = {
    ...h.provider,
    ...(options.par === 'required-without-endpoint' ? {} : { pushedAuthorizationRequestEndpoint: `${h.server.issuer}/par` }),
    ...(options.par === 'required' || options.par === 'required-without-endpoint' ? { requirePushedAuthorizationRequests: true } : {}),
  };
  const services = { ...h.services, fetch: par.fetch, navigate: (url: string) => void navigations.push(url) };
  return { h, par, navigations, provider, services };
}

async function start(h: Harness, overrides: Parameters<Harness['start']>[1]): Promise<{ actor: AuthActor; states: string[] }> {
  const states: string[] = [];
  const actor = h.start(authorizationCodeMachine, overrides);
  actor.system.inspect((inspection) => {
    if (inspection.type !== '@xstate.microstep' || inspection.actorRef !== actor) return;
    for (const transition of (inspection as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) taken.add(describeTransition(transition));
    states.push(JSON.stringify(inspection.snapshot && 'value' in inspection.snapshot ? inspection.snapshot.value : null));
  });
  await settled(actor);
  return { actor, states };
}

describe('pushed authorization requests (RFC 9126)', () => {
  it('pushes the request, then sends the user agent with client_id and request_uri only, and logs in', async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'option' });
    const { actor, states } = await start(h, { provider, services });
    actor.send({ type: 'LOGIN', extraParams: { prompt: 'consent' } });
    await settled(actor);

    expect(stateOf(actor)).toBe('awaitingCallback');
    expect(states).toEqual(expect.arrayContaining(['{"redirecting":"creating"}', '{"redirecting":"pushing"}', '{"redirecting":"opening"}']));
    expect(par.pushes).toHaveLength(1);
    const pushed = par.pushes[0]!;
    const pending = actor.getSnapshot().context.pending!;
    // RFC 9126 §2.1: the whole authorization request goes in the body, with the client's authentication.
    expect(Object.fromEntries(pushed.body)).toEqual({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: pending.redirectUri,
      scope: 'openid offline_access',
      state: pending.state,
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      nonce: pending.nonce,
      prompt: 'consent',
    });
    expect(pushed.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    // RFC 9126 §4: the authorization URL names the client and the request_uri, nothing else.
    expect(navigations).toHaveLength(1);
    const authorizationUrl = new URL(navigations[0]!);
    expect([...authorizationUrl.searchParams]).toEqual([
      ['client_id', 'app'],
      ['request_uri', pushed.requestUri],
    ]);
    expect(actor.getSnapshot().context.authorizationUrl).toBe(navigations[0]);
    expect(actor.getSnapshot().context.request).toBeUndefined();

    const callback = await h.server.authorize(par.expand(navigations[0]!));
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.accessToken).toEqual(expect.any(String));
  });

  it('pushes whenever the provider requires it, even with the option off', async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'required' });
    const { actor } = await start(h, { provider, services });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(par.pushes).toHaveLength(1);
    expect(new URL(navigations[0]!).searchParams.get('request_uri')).toBe(par.pushes[0]!.requestUri);
  });

  it('does not push when neither the provider nor the option asks for it', async () => {
    const { h, par, navigations, provider, services } = setup();
    const { actor, states } = await start(h, { provider, services });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(par.pushes).toEqual([]);
    expect(states).not.toContain('{"redirecting":"pushing"}');
    expect(new URL(navigations[0]!).searchParams.get('state')).toBe(actor.getSnapshot().context.pending?.state);
  });

  it('refuses, before anything is sent or stored, a provider that requires pushing but names no endpoint', async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'required-without-endpoint' });
    const calls: string[] = [];
    const fetch: FetchLike = (input, init) => {
      calls.push(String(input));
      return par.fetch(input, init);
    };
    const { actor } = await start(h, { provider, services: { ...services, fetch } });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'configuration_error', retryable: false });
    expect(actor.getSnapshot().context.error?.description).toMatch(/pushed_authorization_request_endpoint/);
    expect(calls).toEqual([]);
    expect(navigations).toEqual([]);
    expect(await storedSession(h.storage)).toBeNull();
  });

  it('refuses the option without an endpoint the same way', async () => {
    const h = createHarness({ grant: { pushedAuthorizationRequests: true } });
    const { actor } = await start(h, {});
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'configuration_error' });
  });

  it("ends in error with the server's typed error when the push is refused, and sends the user nowhere", async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'option' });
    par.answers.push(Response.json({ error: 'invalid_request', error_description: 'redirect_uri is not registered' }, { status: 400 }));
    const { actor } = await start(h, { provider, services });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({
      code: 'invalid_request',
      description: 'redirect_uri is not registered',
      status: 400,
      retryable: false,
    });
    expect(navigations).toEqual([]);
    expect(await storedSession(h.storage)).toBeNull();
    expect(actor.getSnapshot().context.request).toBeUndefined();
  });

  it('refuses an answer that is not 201 Created, or has no usable request_uri, as invalid_response', async () => {
    for (const answer of [
      Response.json({ request_uri: 'urn:x', expires_in: 60 }, { status: 200 }),
      Response.json({ request_uri: '', expires_in: 60 }, { status: 201 }),
      Response.json({ request_uri: 'urn:x', expires_in: 0 }, { status: 201 }),
      Response.json({ expires_in: 60 }, { status: 201 }),
    ]) {
      const { h, par, navigations, provider, services } = setup({ par: 'option' });
      par.answers.push(answer);
      const { actor } = await start(h, { provider, services });
      actor.send({ type: 'LOGIN' });
      await settled(actor);
      expect(actor.getSnapshot().context.error).toMatchObject({ code: 'invalid_response' });
      expect(navigations).toEqual([]);
      actor.stop();
    }
  });

  it('authenticates a confidential client at the pushed authorization request endpoint as at the token endpoint', async () => {
    const { h, par, provider, services } = setup({ par: 'option' });
    const { actor } = await start(h, { provider, services, client: { ...h.client, clientSecret: 's3cret', authMethod: 'client_secret_basic' } });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(par.pushes[0]!.headers.get('authorization')).toBe(`Basic ${btoa('app:s3cret')}`);
    expect(par.pushes[0]!.body.get('client_secret')).toBeNull();
  });

  /** Storage whose writes take `delayMs` of the clock: the request_uri can expire while the pending authorization is stored. */
  function slowStorage(h: Harness, delayMs: () => number): StorageService {
    const inner = memoryStorage();
    return {
      get: (key) => inner.get(key),
      remove: (key) => inner.remove(key),
      set: async (key, value) => {
        h.server.clock.advance(delayMs());
        await inner.set(key, value);
      },
    };
  }

  it('pushes again, once, when the request_uri expired before the user agent was sent', async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'option' });
    par.expiresIn = 5;
    let writes = 0;
    const storage = slowStorage(h, () => (++writes === 1 ? 6_000 : 0));
    const { actor, states } = await start(h, { provider, services: { ...services, storage } });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    expect(par.pushes).toHaveLength(2);
    // The chart shows it: opening went back to pushing.
    const opening = states.indexOf('{"redirecting":"opening"}');
    expect(states.slice(opening + 1)).toContain('{"redirecting":"pushing"}');
    expect(navigations).toHaveLength(1);
    expect(new URL(navigations[0]!).searchParams.get('request_uri')).toBe(par.pushes[1]!.requestUri);
    // The same request both times: one state, one PKCE challenge.
    expect(par.pushes[1]!.body.toString()).toBe(par.pushes[0]!.body.toString());
    const callback = await h.server.authorize(par.expand(navigations[0]!));
    actor.send({ type: 'CALLBACK', url: callback });
    await settled(actor);
    expect(stateOf(actor)).toBe('authenticated');
  });

  it('gives up with request_uri_expired when the second request_uri expires too', async () => {
    const { h, par, navigations, provider, services } = setup({ par: 'option' });
    par.expiresIn = 5;
    const storage = slowStorage(h, () => 6_000);
    const { actor } = await start(h, { provider, services: { ...services, storage } });
    actor.send({ type: 'LOGIN' });
    await settled(actor);
    expect(stateOf(actor)).toBe('error');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'request_uri_expired', retryable: false });
    expect(par.pushes).toHaveLength(2);
    expect(navigations).toEqual([]);
  });

  it('CANCEL while pushing goes back to idle and sends the user nowhere', async () => {
    const { h, navigations, provider, services } = setup({ par: 'option' });
    let release: (() => void) | undefined;
    const fetch: FetchLike = async (input, init) => {
      if (String(input).endsWith('/par')) await new Promise<void>((resolve) => (release = resolve));
      return services.fetch(input, init);
    };
    const { actor } = await start(h, { provider, services: { ...services, fetch } });
    actor.send({ type: 'LOGIN' });
    await vi.waitFor(() => expect(release).toBeDefined());
    expect(actor.getSnapshot().value).toEqual({ redirecting: 'pushing' });
    actor.send({ type: 'CANCEL' });
    release?.();
    await settled(actor);
    expect(stateOf(actor)).toBe('idle');
    expect(navigations).toEqual([]);
    expect(actor.getSnapshot().context.request).toBeUndefined();
  });

  // Last: the path replays of test/machines.paths.test.ts leave these transitions to this file.
  it('took every transition the path replays leave to it', () => {
    expect(PUSHED_AUTHORIZATION_TRANSITIONS.filter((transition) => !taken.has(transition))).toEqual([]);
  });
});
