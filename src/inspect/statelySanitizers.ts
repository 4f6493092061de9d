/**
 * Options for the Stately inspector (`@statelyai/inspect`) that keep tokens,
 * codes and secrets out of what it shows and sends: the inspector reads every
 * snapshot's context and every event, and a grant machine's context holds the
 * session. Spread them into `createBrowserInspector` / `createWebSocketInspector`
 * / `createSkyInspector`.
 */
import { createRedactor, type Redactor } from './redact.js';

/** Structural copies of the inspector's option types, so this entry needs no dependency on it. */
export interface InspectorSanitizers {
  sanitizeContext: (context: Record<string, unknown>) => Record<string, unknown>;
  sanitizeEvent: <E extends { type: string }>(event: E) => E;
  /** The last word on everything sent: child actors' `input` and `output` (a code exchange's code and verifier, its tokens) too. */
  serialize: <E extends { type: string }>(event: E) => E;
}

export interface InspectorSanitizersOptions {
  /**
   * What redacts and remembers the secrets seen so far. Default: a
   * `createRedactor()` of these sanitizers' own; pass the one a flow recorder
   * uses to have each redact what the other has seen.
   */
  redactor?: Redactor;
}

/**
 * `sanitizeContext`, `sanitizeEvent` and `serialize` for the Stately
 * inspector: tokens, codes, verifiers, secrets and passwords become
 * `[redacted]` (also inside URLs such as a callback's `code=`); the runtime
 * (services, provider, client) never reaches it: a machine's context holds it
 * under a symbol, which serialisation skips. Secrets are redacted by name
 * and by value: every string of a token response (a provider's own fields,
 * such as Slack's `bot.bot_access_token`) and every value found under a
 * secret's name is remembered, and redacted wherever it shows up later.
 *
 * @example
 * import { createBrowserInspector } from '@statelyai/inspect';
 * import { createInspectorSanitizers } from 'oauth-machines/inspect';
 * const inspector = createBrowserInspector({ ...createInspectorSanitizers() });
 * const auth = createBrowserAuth({ …, inspect: inspector.inspect });
 */
export function createInspectorSanitizers(options: InspectorSanitizersOptions = {}): InspectorSanitizers {
  const redactor = options.redactor ?? createRedactor();
  return {
    sanitizeContext: (context) => redactor.redact(context) as Record<string, unknown>,
    // The event's `type` is what the inspector draws; it is never a secret.
    sanitizeEvent: <E extends { type: string }>(event: E): E => ({ ...(redactor.redact(event) as object), type: event.type }) as E,
    // The context and event hooks do not reach invoked actors' snapshots, whose `input` and `output` carry
    // the code, the verifier and the tokens: redact the whole message the inspector is about to send.
    // It is also the one hook that sees everything at once, so a secret first met here is learned before any of it is sent.
    serialize: <E extends { type: string }>(event: E): E => ({ ...(redactor.redact(event) as object), type: event.type }) as E,
  };
}

/**
 * `createInspectorSanitizers()` made once: what it learns is shared by every
 * inspector it is given to, up to 256 values with the least recently seen
 * forgotten first. Where one process watches many sessions, give each
 * inspector its own `createInspectorSanitizers()` so that one session's
 * tokens do not push another's out.
 */
export const inspectorSanitizers: InspectorSanitizers = createInspectorSanitizers();
