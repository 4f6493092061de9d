import type { InspectionEvent, Observer } from 'xstate';
import { createRedactor, type Redactor } from './redact.js';

/** One line of a recorded flow. */
export interface FlowEntry {
  /** When it happened (epoch ms, from the recorder's clock). */
  at: number;
  /** `snapshot`: an actor's state changed; `event`: an event was delivered; `actor`: an actor was created. */
  kind: 'snapshot' | 'event' | 'actor';
  /** The actor concerned: the root machine's id, or a child's invoke id. */
  actorId: string;
  /** The event's type (for a snapshot, the event that caused it; for an actor, its source logic's name). */
  type: string;
  /** A machine snapshot's state value, e.g. `'exchanging'` or `{ authenticated: 'fresh' }`. */
  state?: unknown;
  /** An actor's status when it is not `active` (`done`, `error`, `stopped`). */
  status?: string;
  /** The delivered event, redacted. */
  event?: unknown;
  /** Who sent the event, when known. */
  sourceId?: string;
  /** The machine's context, redacted (only with `includeContext`). */
  context?: unknown;
}

export interface FlowRecorderOptions {
  /** The clock for `at`. Default `Date.now`. */
  now?: () => number;
  /** Also record each machine snapshot's context (redacted). Default false. */
  includeContext?: boolean;
  /** Keep at most this many entries, dropping the oldest. Default 10 000. */
  maxEntries?: number;
  /**
   * What redacts the entries and remembers the secrets seen so far. Default:
   * a `createRedactor()` of the recorder's own; pass the one the inspector
   * sanitizers use to have each redact what the other has seen.
   */
  redactor?: Redactor;
}

/** An XState inspection observer that keeps a redacted timeline of a flow. */
export interface FlowRecorder extends Observer<InspectionEvent> {
  next(event: InspectionEvent): void;
  /** The timeline so far (a copy, with every secret learned until now redacted, also in entries recorded before it was learned). */
  readonly entries: readonly FlowEntry[];
  /** The timeline as text, one line per entry, times relative to the first. */
  format(): string;
  /** Writes `format()` to `log` (default `console.log`). */
  print(log?: (text: string) => void): void;
  /** Forgets the timeline; the secrets learned stay learned, as they may still be in use. */
  clear(): void;
  toJSON(): FlowEntry[];
}

/**
 * Records what happens in an actor and its children, with tokens and secrets
 * redacted, for debugging a login or attaching to a bug report. Secrets are
 * redacted by name and by value: a token seen once (in a token response,
 * under a secret's name) is redacted wherever it shows up later.
 *
 * @example
 * const recorder = createFlowRecorder();
 * const actor = createActor(authorizationCodeMachine, { input, inspect: recorder });
 * …
 * recorder.print();
 */
export function createFlowRecorder(options: FlowRecorderOptions = {}): FlowRecorder {
  const now = options.now ?? (() => Date.now());
  const maxEntries = options.maxEntries ?? 10_000;
  const redactor = options.redactor ?? createRedactor();
  let entries: FlowEntry[] = [];
  // Entries are redacted when recorded; a value learned later (first seen
  // under an innocent name, recognised afterwards) is redacted again on the way out.
  const current = (): FlowEntry[] => entries.map((entry) => redactLearned(entry, redactor));

  const push = (entry: FlowEntry): void => {
    entries.push(entry);
    if (entries.length > maxEntries) entries = entries.slice(entries.length - maxEntries);
  };

  const recorder: FlowRecorder = {
    next(inspection) {
      const actorId = actorIdOf(inspection.actorRef);
      switch (inspection.type) {
        case '@xstate.event': {
          const entry: FlowEntry = { at: now(), kind: 'event', actorId, type: inspection.event.type, event: redactor.redact(inspection.event) };
          if (inspection.sourceRef) entry.sourceId = actorIdOf(inspection.sourceRef);
          push(entry);
          return;
        }
        case '@xstate.snapshot': {
          const snapshot = inspection.snapshot as { status?: unknown; value?: unknown; context?: unknown; machine?: unknown; input?: unknown; output?: unknown; error?: unknown };
          // Learned even when not recorded: a child's input and output and a context carry the tokens
          // and the code before, or instead of, an event that is recorded.
          redactor.learn([snapshot.context, snapshot.input, snapshot.output, snapshot.error]);
          const entry: FlowEntry = { at: now(), kind: 'snapshot', actorId, type: inspection.event.type };
          if (snapshot.machine !== undefined) entry.state = redactor.redact(snapshot.value);
          if (typeof snapshot.status === 'string' && snapshot.status !== 'active') entry.status = snapshot.status;
          if (options.includeContext === true && snapshot.machine !== undefined) entry.context = redactor.redact(snapshot.context);
          push(entry);
          return;
        }
        case '@xstate.actor': {
          const src = (inspection.actorRef as { src?: unknown }).src;
          push({ at: now(), kind: 'actor', actorId, type: typeof src === 'string' ? src : 'actor' });
          return;
        }
        default:
          return;
      }
    },
    get entries() {
      return current();
    },
    format() {
      const start = entries[0]?.at ?? 0;
      return current().map((entry) => formatEntry(entry, start)).join('\n');
    },
    print(log = (text: string) => console.log(text)) {
      log(recorder.format());
    },
    clear() {
      entries = [];
    },
    toJSON() {
      return current();
    },
  };
  return recorder;
}

/** A recorded entry (already JSON-safe and redacted) with the values learned since also redacted. */
function redactLearned<T>(data: T, redactor: Redactor): T {
  if (typeof data === 'string') return redactor.redactString(data) as T;
  if (Array.isArray(data)) return data.map((item: unknown) => redactLearned(item, redactor)) as T;
  if (typeof data !== 'object' || data === null) return data;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(data)) {
    Object.defineProperty(result, redactor.redactString(key), { value: redactLearned(item, redactor), enumerable: true, writable: true, configurable: true });
  }
  return result as T;
}

function actorIdOf(ref: unknown): string {
  const { id, sessionId } = ref as { id?: unknown; sessionId?: unknown };
  if (typeof id === 'string') return id;
  return typeof sessionId === 'string' ? sessionId : 'unknown';
}

function formatEntry(entry: FlowEntry, start: number): string {
  const time = `+${entry.at - start}ms`.padStart(9);
  const head = `${time}  ${entry.kind.padEnd(8)}  ${entry.actorId}`;
  switch (entry.kind) {
    case 'event':
      return `${head}  ← ${entry.type}${entry.sourceId ? ` (from ${entry.sourceId})` : ''}  ${JSON.stringify(entry.event)}`;
    case 'snapshot':
      return `${head}  ${entry.type} → ${entry.state === undefined ? '' : stateText(entry.state)}${entry.status ? ` [${entry.status}]` : ''}`;
    case 'actor':
      return `${head}  started ${entry.type}`;
  }
}

/** `{ authenticated: 'fresh' }` → `authenticated.fresh`; parallel regions joined with `, `. */
function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  return Object.entries(value)
    .map(([key, child]) => (child === undefined || (typeof child === 'object' && child !== null && Object.keys(child).length === 0) ? key : `${key}.${stateText(child)}`))
    .join(', ');
}
