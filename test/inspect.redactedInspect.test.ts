/**
 * `redactedInspect` in front of each kind of Stately inspector — Sky, browser,
 * WebSocket — each with a transport that records what would leave the
 * process: a whole sign-in, refresh and logout (code, verifier, tokens) and a
 * client-credentials login (the client secret) reach none of them, whatever
 * the inspector's own options. Without it, the same transports carry the
 * secrets: the Sky inspector in Node even with the sanitizer options.
 */
import { createBrowserInspector, createSkyInspector, createWebSocketInspector } from '@statelyai/inspect';
import { WebSocket as ReconnectingWebSocket } from 'partysocket';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import type { InspectionEvent } from 'xstate';
import { createInspectorSanitizers, redactedInspect } from '../src/inspect/index.js';
import { createWorld, SERVICE_SECRET, signIn } from './client.fixtures.js';

type Inspect = (event: InspectionEvent) => void;
type Recording = { inspect: Inspect | { next?: (event: InspectionEvent) => void }; sent: () => string[]; close(): Promise<void> };

/** Runs a sign-in, a refresh and a logout, and a client-credentials login, with `inspect`; returns every secret that was used. */
async function flows(inspect: Inspect | { next?: (event: InspectionEvent) => void }): Promise<string[]> {
  const given = typeof inspect === 'function' ? inspect : (event: InspectionEvent) => inspect.next?.(event);
  const world = await createWorld();
  const client = world.client('authorization_code', { inspect: given });
  const url = await client.login();
  const callback = await world.server.authorize(url);
  const code = new URL(callback).searchParams.get('code') ?? '';
  const verifier = (client.getSnapshot()?.context as { pending?: { codeVerifier: string } }).pending?.codeVerifier ?? '';
  const first = await client.handleCallback(callback);
  world.clock.advance(3_600_000);
  await client.getAccessToken();
  const renewed = await client.getTokens();
  await client.logout();
  client.stop();
  const service = world.client('client_credentials', { inspect: given });
  const serviceTokens = await service.login();
  service.stop();
  const secrets = [code, verifier, first.accessToken, first.refreshToken, renewed?.accessToken, renewed?.refreshToken, serviceTokens.accessToken, SERVICE_SECRET];
  return secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

/** Waits (bounded) until the recording stops growing: inspectors send on idle callbacks. */
async function settledRecording(recording: Recording): Promise<string> {
  let last = -1;
  for (let round = 0; round < 50; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = recording.sent().length;
    if (now > 0 && now === last) break;
    last = now;
  }
  return recording.sent().join('\n');
}

// -- the three inspector kinds, each with a recording transport ----------------------------------

const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

/** Sky: its socket to the hosted relay never connects; what it would send is recorded. */
function skyRecording(options: Parameters<typeof createSkyInspector>[0] = {}): Recording {
  const sent: string[] = [];
  const prototype = ReconnectingWebSocket.prototype as unknown as { _connect(): void; send(data: string): void };
  const { _connect: connect, send } = prototype;
  prototype._connect = () => undefined;
  prototype.send = (data: string) => void sent.push(data);
  restores.push(() => {
    prototype._connect = connect;
    prototype.send = send;
  });
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const inspector = createSkyInspector({ onerror: () => undefined, ...options });
  return { inspect: inspector.inspect, sent: () => sent, close: async () => inspector.stop() };
}

/** Browser: a window whose inspector window records `postMessage`, connected at once. */
function browserRecording(): Recording {
  const sent: string[] = [];
  const listeners: Array<(event: { data: unknown }) => void> = [];
  const inspectorWindow = { postMessage: (message: unknown) => void sent.push(JSON.stringify(message)) };
  const fakeWindow = {
    open: () => inspectorWindow,
    addEventListener: (_type: string, listener: (event: { data: unknown }) => void) => void listeners.push(listener),
  };
  const inspector = createBrowserInspector({ window: fakeWindow as unknown as Window, url: 'https://inspector.test/' });
  for (const listener of listeners) listener({ data: { type: '@statelyai.connected' } });
  return { inspect: inspector.inspect, sent: () => sent, close: async () => inspector.stop() };
}

/** WebSocket: a real one, to a server on 127.0.0.1 that records what arrives. */
async function webSocketRecording(): Promise<Recording> {
  const sent: string[] = [];
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  server.on('connection', (socket) => socket.on('message', (data) => sent.push(String(data))));
  const { port } = server.address() as { port: number };
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
  await vi.waitFor(() => expect(server.clients.size).toBe(1), { timeout: 2_000 });
  return {
    inspect: inspector.inspect,
    sent: () => sent,
    close: async () => {
      inspector.stop();
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const KINDS: Array<[string, () => Recording | Promise<Recording>]> = [
  ['Sky (Node)', () => skyRecording()],
  ['browser', browserRecording],
  ['WebSocket', webSocketRecording],
];

describe.each(KINDS)('redactedInspect in front of the %s inspector', (_, record) => {
  it('lets no code, verifier, token or client secret reach the transport, and still shows the flow', async () => {
    const recording = await record();
    const secrets = await flows(redactedInspect(recording.inspect));
    const wire = await settledRecording(recording);
    await recording.close();
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const secret of secrets) expect(wire).not.toContain(secret);
    // The inspector still sees the charts at work.
    expect(wire).toContain('awaitingCallback');
    expect(wire).toContain('authenticated');
    expect(wire).toContain('[redacted]');
  });
});

describe('without redactedInspect', () => {
  it.each(KINDS)('the %s inspector\'s transport carries the secrets', async (_, record) => {
    const recording = await record();
    const secrets = await flows(recording.inspect);
    const wire = await settledRecording(recording);
    await recording.close();
    expect(secrets.some((secret) => wire.includes(secret))).toBe(true);
  });

  it('the Sky inspector in Node ignores the sanitizer options: the tokens reach its transport all the same', async () => {
    const recording = skyRecording({ ...createInspectorSanitizers() });
    const secrets = await flows(recording.inspect);
    const wire = await settledRecording(recording);
    await recording.close();
    expect(secrets.some((secret) => wire.includes(secret))).toBe(true);
  });
});
