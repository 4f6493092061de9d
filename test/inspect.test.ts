import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { assign, createActor, fromPromise, setup, waitFor, type AnyStateNode } from 'xstate';
import { authorizationCodeMachine, clientCredentialsMachine, deviceCodeMachine } from '../machines/index.js';
import { createFlowRecorder, createInspectorSanitizers, createRedactor, redact, redactString, toMermaid } from '../src/inspect/index.js';
import { createWorld } from './client.fixtures.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** A small login-like machine: every kind of transition the exporter must draw, and secrets in events and context. */
const loginMachine = setup({
  types: {} as {
    context: { code?: string; tokens?: Tokens; attempts: number };
    events:
      | { type: 'CALLBACK'; url: string; code: string }
      | { type: 'RETRY' }
      | { type: 'EXPIRE' }
      | { type: 'LOGOUT' }
      | { type: 'RESET' };
  },
  actors: {
    'exchange code for tokens': fromPromise<Tokens, { code: string }>(async ({ input }) => ({
      accessToken: `at-${input.code}`,
      refreshToken: `rt-${input.code}`,
    })),
  },
  guards: { 'can retry': ({ context }) => context.attempts < 3 },
}).createMachine({
  id: 'login',
  initial: 'idle',
  context: { attempts: 0 },
  on: { RESET: '.idle' },
  states: {
    idle: {
      on: { CALLBACK: { target: 'exchanging', actions: assign({ code: ({ event }) => event.code }) } },
    },
    exchanging: {
      invoke: {
        id: 'exchangeCode',
        src: 'exchange code for tokens',
        input: ({ context }) => ({ code: context.code ?? '' }),
        onDone: { target: 'authenticated', actions: assign({ tokens: ({ event }) => event.output }) },
        onError: 'failed',
      },
    },
    authenticated: {
      initial: 'fresh',
      states: {
        fresh: { after: { 1000: 'stale' }, on: { EXPIRE: 'stale' } },
        stale: {},
      },
      on: { LOGOUT: 'loggedOut' },
    },
    failed: {
      on: { RETRY: { target: 'exchanging', guard: 'can retry' } },
      always: { target: 'loggedOut', guard: ({ context }) => context.attempts > 5 },
    },
    loggedOut: { type: 'final' },
  },
});

/** A URL-safe secret that cannot occur by chance in the machine's names. */
const secretArbitrary = fc.stringMatching(/^[A-Za-z0-9_~.-]{12,40}$/).map((value) => `S3CR3T${value}`);

describe('createFlowRecorder', () => {
  it('records the events, snapshots and actors of a flow in order', async () => {
    let clock = 1_000;
    const recorder = createFlowRecorder({ now: () => (clock += 5) });
    const actor = createActor(loginMachine, { inspect: recorder }).start();
    actor.send({ type: 'CALLBACK', url: 'https://app.example/cb?code=abc&state=xyz', code: 'abc' });
    await waitFor(actor, (snapshot) => snapshot.matches('authenticated'));
    actor.send({ type: 'LOGOUT' });

    const entries = recorder.entries;
    const rootSnapshots = entries.filter((entry) => entry.kind === 'snapshot' && entry.actorId === actor.id);
    expect(rootSnapshots.map((entry) => [entry.type, entry.state])).toEqual([
      ['xstate.init', 'idle'],
      ['CALLBACK', 'exchanging'],
      ['xstate.done.actor.exchangeCode', { authenticated: 'fresh' }],
      ['LOGOUT', 'loggedOut'],
    ]);
    expect(rootSnapshots.at(-1)?.status).toBe('done');
    expect(entries.some((entry) => entry.kind === 'actor' && entry.actorId === 'exchangeCode' && entry.type === 'exchange code for tokens')).toBe(true);
    const callback = entries.find((entry) => entry.kind === 'event' && entry.type === 'CALLBACK');
    expect(callback?.event).toEqual({ type: 'CALLBACK', url: 'https://app.example/cb?code=[redacted]&state=xyz', code: '[redacted]' });
    const done = entries.find((entry) => entry.kind === 'event' && entry.type === 'xstate.done.actor.exchangeCode');
    expect(done?.sourceId).toBe('exchangeCode');
    expect(done?.event).toMatchObject({ output: { accessToken: '[redacted]', refreshToken: '[redacted]' } });
    // Entries are time-ordered by the recorder's clock.
    expect(entries.map((entry) => entry.at)).toEqual([...entries.map((entry) => entry.at)].sort((a, b) => a - b));
    const text = recorder.format();
    expect(text.split('\n')).toHaveLength(entries.length);
    expect(text).toContain('CALLBACK → exchanging');
    expect(text).toContain('xstate.done.actor.exchangeCode → authenticated.fresh');
  });

  test.prop([secretArbitrary, secretArbitrary, secretArbitrary, secretArbitrary])(
    'no generated secret value ever appears in the serialized recording or its printout',
    async (code, password, clientSecret, bearer) => {
      const recorder = createFlowRecorder({ includeContext: true });
      const actor = createActor(loginMachine, { inspect: recorder }).start();
      actor.send({
        type: 'CALLBACK',
        url: `https://app.example/callback?state=s&code=${code}#access_token=${code}`,
        code,
        // Extra fields an application might put into events.
        ...{ form: `grant_type=password&password=${password}&client_secret=${clientSecret}`, headers: { Authorization: `Bearer ${bearer}` }, body: JSON.stringify({ refresh_token: password, nested: { idToken: clientSecret } }), credentials: { clientSecret, device_code: bearer } },
      } as { type: 'CALLBACK'; url: string; code: string });
      await waitFor(actor, (snapshot) => snapshot.matches('authenticated'));
      actor.stop();

      const serialized = JSON.stringify(recorder) + recorder.format();
      for (const secret of [code, password, clientSecret, bearer]) expect(serialized).not.toContain(secret);
      // The flow itself is still there.
      expect(serialized).toContain('exchanging');
    },
  );

  it('records a real authorization code flow against the test server without any code or token in it', async () => {
    const world = await createWorld();
    const recorder = createFlowRecorder({ includeContext: true });
    const client = world.client('authorization_code', { inspect: recorder });
    const callback = await world.server.authorize(await client.login());
    const first = await client.handleCallback(callback);
    world.clock.advance(3_600_000);
    const second = await client.getAccessToken();
    client.stop();

    const code = new URL(callback).searchParams.get('code') ?? '';
    const secrets = [code, first.accessToken, first.refreshToken, first.idToken, second].filter((value): value is string => typeof value === 'string' && value.length > 0);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(second).not.toBe(first.accessToken);
    const serialized = JSON.stringify(recorder) + recorder.format();
    for (const secret of secrets) expect(serialized).not.toContain(secret);
    // The top-level state (`refreshing` for any of its substates).
    const states = recorder.entries.filter((entry) => entry.kind === 'snapshot').map((entry) => topLevel(entry.state));
    for (const state of ['awaitingCallback', 'exchanging', 'authenticated', 'refreshing']) expect(states).toContain(state);
  });

  it('keeps at most maxEntries, dropping the oldest, and forgets everything on clear', () => {
    const recorder = createFlowRecorder({ maxEntries: 3 });
    const actor = createActor(loginMachine, { inspect: recorder }).start();
    actor.send({ type: 'RESET' });
    actor.send({ type: 'RESET' });
    expect(recorder.entries).toHaveLength(3);
    expect(recorder.entries.at(-1)?.type).toBe('RESET');
    recorder.clear();
    expect(recorder.entries).toEqual([]);
    actor.stop();
  });

  it('redacts a value in entries recorded before it was known to be a secret', () => {
    const recorder = createFlowRecorder({ includeContext: true });
    const actor = createActor(loginMachine, { inspect: recorder }).start();
    const token = 'a-value-first-seen-as-a-note';
    actor.send({ type: 'CALLBACK', url: `https://app.example/cb?note=${token}`, code: 'abc' });
    actor.send({ type: 'RESET', access_token: token } as { type: 'RESET' });
    actor.stop();

    expect(recorder.entries.find((entry) => entry.type === 'CALLBACK' && entry.kind === 'event')?.event).toMatchObject({ url: 'https://app.example/cb?note=[redacted]' });
    expect(JSON.stringify(recorder) + recorder.format()).not.toContain(token);
  });

  it('shares what it learns with the inspector sanitizers through one redactor', () => {
    const redactor = createRedactor();
    const recorder = createFlowRecorder({ redactor });
    const sanitizers = createInspectorSanitizers({ redactor });
    const actor = createActor(loginMachine, { inspect: recorder }).start();
    actor.send({ type: 'CALLBACK', url: 'https://app.example/cb', code: 'code-the-recorder-saw' });
    actor.stop();
    expect(sanitizers.sanitizeEvent({ type: 'NOTE', note: 'got code-the-recorder-saw' })).toEqual({ type: 'NOTE', note: 'got [redacted]' });
  });

  it('prints through the given log function', () => {
    const recorder = createFlowRecorder();
    createActor(loginMachine, { inspect: recorder }).start().stop();
    const printed: string[] = [];
    recorder.print((text) => printed.push(text));
    expect(printed).toEqual([recorder.format()]);
  });
});

describe('redact', () => {
  it('keeps an error code but blanks an authorization code', () => {
    expect(redact({ error: { name: 'OAuthError', code: 'invalid_grant', retryable: false }, code: 'abc' })).toEqual({
      error: { name: 'OAuthError', code: 'invalid_grant', retryable: false },
      code: '[redacted]',
    });
  });

  it('summarises functions, binary data and cycles so the result is JSON-safe', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic['self'] = cyclic;
    expect(redact({ fetch: function fetch() {}, bytes: new Uint8Array(4), cyclic })).toEqual({
      fetch: '[function fetch]',
      bytes: '[4 bytes]',
      cyclic: { name: 'x', self: '[circular]' },
    });
  });

  it('blanks credentials after an authentication scheme and secret URL parameters', () => {
    expect(redactString('Authorization: Basic YTpi, then Bearer abc.def-ghi')).toBe('Authorization: Basic [redacted], then Bearer [redacted]');
    expect(redactString('code=1&state=2&token=3')).toBe('code=[redacted]&state=2&token=[redacted]');
  });
});

describe('toMermaid', () => {
  const diagram = toMermaid(loginMachine);
  const lines = diagram.split('\n').map((line) => line.trim());

  it('is a stateDiagram-v2 that names every state of the machine', () => {
    expect(lines[0]).toBe('stateDiagram-v2');
    const all = (node: AnyStateNode): AnyStateNode[] => [node, ...Object.values(node.states).flatMap((child) => all(child))];
    for (const node of all(loginMachine.root).slice(1)) {
      expect(lines).toContain(`state "${node.key}" as ${node.path.join('_')}`);
    }
  });

  it('draws every transition with its event, guard, invoke result, delay or eventless label', () => {
    for (const edge of [
      'root --> idle : RESET',
      '[*] --> root',
      '[*] --> idle',
      'idle --> exchanging : CALLBACK',
      'exchanging --> authenticated : onDone(exchangeCode)',
      'exchanging --> failed : onError(exchangeCode)',
      '[*] --> authenticated_fresh',
      'authenticated_fresh --> authenticated_stale : after 1000ms',
      'authenticated_fresh --> authenticated_stale : EXPIRE',
      'authenticated --> loggedOut : LOGOUT',
      'failed --> exchanging : RETRY [can retry]',
      'failed --> loggedOut : always [guard]',
      'loggedOut --> [*]',
    ]) {
      expect(lines).toContain(edge);
    }
    expect(lines).toContain('state "login" as root');
  });

  it('shows what each state invokes and nests child states inside their parent', () => {
    expect(lines).toContain('exchanging : invoke exchange code for tokens (exchangeCode)');
    const open = lines.indexOf('state authenticated {');
    const close = lines.indexOf('}', open);
    expect(open).toBeGreaterThan(0);
    expect(lines.slice(open, close)).toContain('state "fresh" as authenticated_fresh');
  });

  it.each([
    ['the test machine', loginMachine],
    ['authorizationCodeMachine', authorizationCodeMachine],
    ['clientCredentialsMachine', clientCredentialsMachine],
    ['deviceCodeMachine', deviceCodeMachine],
  ] as const)('draws every state and one edge per targeted transition of %s', (_name, machine) => {
    const text = toMermaid(machine).split('\n').map((line) => line.trim());
    const all = (node: AnyStateNode): AnyStateNode[] => [node, ...Object.values(node.states).flatMap((child) => all(child))];
    const idOf = (node: AnyStateNode) => (node.path.length === 0 ? 'root' : node.path.join('_'));
    let expectedEdges = 0;
    for (const node of all(machine.root)) {
      if (node.path.length > 0) expect(text).toContain(`state "${node.key}" as ${idOf(node)}`);
      const transitions = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
      for (const transition of transitions) {
        for (const target of transition.target ?? []) {
          expectedEdges += 1;
          expect(text.some((line) => line.startsWith(`${idOf(node)} --> ${idOf(target)} : `))).toBe(true);
        }
      }
    }
    expect(expectedEdges).toBeGreaterThan(3);
    expect(text.filter((line) => / --> /.test(line) && !line.includes('[*]'))).toHaveLength(expectedEdges);
  });

  it('draws parallel regions separated by --', () => {
    const parallel = setup({}).createMachine({
      id: 'p',
      type: 'parallel',
      states: { left: { initial: 'a', states: { a: { on: { GO: 'b' } }, b: {} } }, right: { initial: 'c', states: { c: {} } } },
    });
    const text = toMermaid(parallel);
    expect(text).toContain('--\n');
    expect(text).toContain('left_a --> left_b : GO');
  });
});

/** The top-level state of a state value (`refreshing` for `{ refreshing: 'retrying' }`). */
function topLevel(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? Object.keys(value)[0] : value;
}
