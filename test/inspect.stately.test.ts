/**
 * Watching a flow in the Stately inspector (`@statelyai/inspect`) without
 * handing it the session: the inspector itself, with an adapter that keeps
 * what it would send to the inspector UI.
 */
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { describe, expect, it } from 'vitest';
import { inspectorSanitizers } from '../src/inspect/index.js';
import { createWorld } from './client.fixtures.js';

async function watchedFlow(options: Parameters<typeof createInspector>[1]) {
  const sent: StatelyInspectionEvent[] = [];
  const inspector = createInspector({ send: (event) => sent.push(event) }, options);
  const world = await createWorld();
  const client = world.client('authorization_code', { inspect: inspector.inspect });
  const callback = await world.server.authorize(await client.login());
  const first = await client.handleCallback(callback);
  world.clock.advance(3_600_000);
  const second = await client.getAccessToken();
  client.stop();
  // The inspector hands events over in idle callbacks: wait until they have all been sent.
  for (let quiet = 0, seen = -1; quiet < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    quiet = sent.length === seen ? quiet + 1 : 0;
    seen = sent.length;
  }
  const code = new URL(callback).searchParams.get('code') ?? '';
  const secrets = [code, first.accessToken, first.refreshToken ?? '', first.idToken ?? '', second].filter((s) => s.length > 0);
  return { sent, secrets, text: JSON.stringify(sent) };
}

describe('the Stately inspector with inspectorSanitizers', () => {
  it('shows every state of the flow but no code, token or verifier', async () => {
    const { sent, secrets, text } = await watchedFlow({ ...inspectorSanitizers });
    expect(secrets).toHaveLength(5);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"codeVerifier":"[^[]/);
    const states = sent.flatMap((event) =>
      // The top-level state (`refreshing` for any of its substates).
      event.type === '@xstate.snapshot' ? [JSON.stringify(topLevel((event.snapshot as { value?: unknown }).value))] : [],
    );
    for (const state of ['awaitingCallback', 'exchanging', 'authenticated', 'refreshing']) expect(states).toContain(`"${state}"`);
    // Events keep their type, which is what the inspector draws.
    expect(sent.some((event) => event.type === '@xstate.event' && event.event.type === 'CALLBACK')).toBe(true);
  });

  it('without the sanitizers the inspector would receive the tokens (why they exist)', async () => {
    const { secrets, text } = await watchedFlow({});
    expect(secrets.some((secret) => text.includes(secret))).toBe(true);
  });
});

/** The top-level state of a state value (`refreshing` for `{ refreshing: 'retrying' }`). */
function topLevel(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? Object.keys(value)[0] : value;
}
