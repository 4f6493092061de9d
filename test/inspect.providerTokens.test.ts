/**
 * Tokens a provider sends under names of its own. Slack's token responses
 * carry a bot token as `bot.bot_access_token` (`oauth.access`), a user token
 * as `authed_user.access_token` (`oauth.v2.access`) and a webhook URL (itself
 * a credential) as `incoming_webhook.url`; all of it is the TokenSet's `raw`. Redaction by
 * field name alone let the bot token and the webhook URL through to the flow
 * recorder and the Stately inspector.
 */
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { FetchLike } from '../src/services/types.js';
import { createFlowRecorder, inspectorSanitizers } from '../src/inspect/index.js';
import { createWorld, type World } from './client.fixtures.js';

/** The extras of one Slack-style token response; every value differs per response, like real tokens. */
function slackExtras(n: number) {
  return {
    ok: true,
    app_id: 'A0KRD7HC3',
    bot: { bot_user_id: 'U0KRQLJ9H', bot_access_token: `xoxb-17653672481-19874698323-${n}pdFZKVeTuE8sk7oOcBrzbqgy` },
    authed_user: { id: 'U1234', scope: 'chat:write', token_type: 'user', access_token: `xoxp-1234-5678-91011-${n}00e4dd9cbeb9e0c4cb0e6ac5f` },
    incoming_webhook: { channel: '#general', url: `https://hooks.slack.com/services/T9TK3CUKW/B0${n}ZKVeTuE/b1K6lvLkb5u1KZzXAUoXT9tA` },
  };
}

type SlackExtras = ReturnType<typeof slackExtras>;

/** The world's test server behind a `fetch` that adds Slack's extras to every successful token response. */
function slackFetch(world: World): { fetch: FetchLike; sent: SlackExtras[] } {
  const sent: SlackExtras[] = [];
  const fetch: FetchLike = async (input, init) => {
    const response = await world.server.fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (url !== world.provider.tokenEndpoint || !response.ok) return response;
    const extras = slackExtras(sent.length);
    sent.push(extras);
    const body = { ...((await response.json()) as Record<string, unknown>), ...extras };
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };
  return { fetch, sent };
}

/** A login, its callback and a refresh against the test server answering like Slack, watched by `inspect`. */
async function slackFlow(inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void)) {
  const world = await createWorld();
  const { fetch, sent } = slackFetch(world);
  const client = world.client('authorization_code', { inspect, services: { ...world.services, fetch } });
  const callback = await world.server.authorize(await client.login());
  const first = await client.handleCallback(callback);
  world.clock.advance(3_600_000);
  const second = await client.getAccessToken();
  const extras = sent.flatMap((body) => [body.bot.bot_access_token, body.authed_user.access_token, body.incoming_webhook.url]);
  const tokens = [first.accessToken, first.refreshToken ?? '', second];
  return { client, sent, secrets: [...extras, ...tokens].filter((secret) => secret.length > 0) };
}

/** The secrets that occur in `text` (a short failure message, where the recording itself is long). */
function leaked(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => text.includes(secret));
}

/** An event no machine handles, with a learned secret in a field no name rule knows. */
function sendNote(client: { actor: AnyActorRef }, secret: string): void {
  client.actor.send({ type: 'NOTE', note: `token is ${secret}`, details: { seen: [new URL(`https://app.example/debug?t=${secret}`).href] } });
}

describe('provider-specific token fields in the flow recorder', () => {
  it('records a Slack-style token response without its bot token, user token or webhook URL anywhere', async () => {
    const recorder = createFlowRecorder({ includeContext: true });
    const { client, sent, secrets } = await slackFlow(recorder);
    client.stop();

    expect(sent).toHaveLength(2);
    expect(secrets).toHaveLength(9);
    const text = JSON.stringify(recorder) + recorder.format();
    expect(leaked(text, secrets)).toEqual([]);
    // The tokens are there, as redacted; what is not secret stays readable.
    const done = recorder.entries.find((entry) => entry.kind === 'event' && entry.type === 'xstate.done.actor.exchangeCode');
    expect(done?.event).toMatchObject({
      output: { tokens: { tokenType: 'Bearer', scope: ['openid', 'offline_access'], raw: { token_type: 'Bearer', expires_in: 3600, bot: { bot_access_token: '[redacted]' } } } },
    });
    // The top-level state (`refreshing` for any of its substates).
    const states = recorder.entries.filter((entry) => entry.kind === 'snapshot').map((entry) => topLevel(entry.state));
    for (const state of ['awaitingCallback', 'exchanging', 'authenticated', 'refreshing']) expect(states).toContain(state);
  });

  it('redacts a token it has seen when a later event carries it in an unrelated field', async () => {
    const recorder = createFlowRecorder();
    const { client, sent } = await slackFlow(recorder);
    const bot = sent[0]?.bot.bot_access_token ?? '';
    const user = sent[1]?.authed_user.access_token ?? '';
    sendNote(client, bot);
    sendNote(client, user);
    client.stop();

    const notes = recorder.entries.filter((entry) => entry.kind === 'event' && entry.type === 'NOTE');
    expect(notes).toHaveLength(2);
    expect(notes[0]?.event).toEqual({ type: 'NOTE', note: 'token is [redacted]', details: { seen: ['https://app.example/debug?t=[redacted]'] } });
    expect(leaked(JSON.stringify(recorder) + recorder.format(), [bot, user])).toEqual([]);
  });
});

describe('provider-specific token fields in the Stately inspector', () => {
  async function inspected(withNotes: boolean) {
    const messages: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (message) => messages.push(message) }, { ...inspectorSanitizers });
    const { client, sent, secrets } = await slackFlow(inspector.inspect);
    if (withNotes) for (const body of sent) sendNote(client, body.bot.bot_access_token);
    client.stop();
    // The inspector hands messages over in idle callbacks: wait until they have all been sent.
    for (let quiet = 0, seen = -1; quiet < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      quiet = messages.length === seen ? quiet + 1 : 0;
      seen = messages.length;
    }
    return { messages, secrets, text: JSON.stringify(messages) };
  }

  it('sends a Slack-style flow without its bot token, user token or webhook URL anywhere', async () => {
    const { secrets, text } = await inspected(false);
    expect(secrets).toHaveLength(9);
    expect(leaked(text, secrets)).toEqual([]);
    expect(text).toContain('awaitingCallback');
  });

  it('redacts a learned token in a later event that carries it in an unrelated field', async () => {
    const { messages, secrets, text } = await inspected(true);
    expect(leaked(text, secrets)).toEqual([]);
    const notes = messages.flatMap((message) => (message.type === '@xstate.event' && message.event.type === 'NOTE' ? [message.event] : []));
    expect(notes).toHaveLength(2);
    for (const note of notes) expect(note).toMatchObject({ note: 'token is [redacted]' });
  });
});

/** The top-level state of a state value (`refreshing` for `{ refreshing: 'retrying' }`). */
function topLevel(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? Object.keys(value)[0] : value;
}
