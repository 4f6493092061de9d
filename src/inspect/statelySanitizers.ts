/**
 * Options for the Stately inspector (`@statelyai/inspect`) that keep tokens,
 * codes and secrets out of what it shows and sends: the inspector reads every
 * snapshot's context and every event, and a grant machine's context holds the
 * session. Spread them into `createBrowserInspector` / `createWebSocketInspector`
 * / `createSkyInspector`.
 */
import { redact } from './redact.js';

/** Structural copies of the inspector's option types, so this entry needs no dependency on it. */
export interface InspectorSanitizers {
  sanitizeContext: (context: Record<string, unknown>) => Record<string, unknown>;
  sanitizeEvent: <E extends { type: string }>(event: E) => E;
  /** The last word on everything sent: child actors' `input` and `output` (a code exchange's code and verifier, its tokens) too. */
  serialize: <E extends { type: string }>(event: E) => E;
}

/**
 * `sanitizeContext`, `sanitizeEvent` and `serialize` for the Stately
 * inspector: tokens,
 * codes, verifiers, secrets and passwords become `[redacted]` (also inside
 * URLs such as a callback's `code=`); the services in context are shown by
 * name, not serialised.
 *
 * @example
 * import { createBrowserInspector } from '@statelyai/inspect';
 * import { inspectorSanitizers } from 'oauth-machines/inspect';
 * const inspector = createBrowserInspector({ ...inspectorSanitizers });
 * const auth = createBrowserAuth({ …, inspect: inspector.inspect });
 */
export const inspectorSanitizers: InspectorSanitizers = {
  sanitizeContext: (context) => redact(context) as Record<string, unknown>,
  // The event's `type` is what the inspector draws; it is never a secret.
  sanitizeEvent: <E extends { type: string }>(event: E): E => ({ ...(redact(event) as object), type: event.type }) as E,
  // The context and event hooks do not reach invoked actors' snapshots, whose `input` and `output` carry
  // the code, the verifier and the tokens: redact the whole message the inspector is about to send.
  serialize: <E extends { type: string }>(event: E): E => ({ ...(redact(event) as object), type: event.type }) as E,
};
