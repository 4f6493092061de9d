import type { InspectionEvent, Observer } from 'xstate';
import { redact } from './redact.js';

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
}

/** An XState inspection observer that keeps a redacted timeline of a flow. */
export interface FlowRecorder extends Observer<InspectionEvent> {
  next(event: InspectionEvent): void;
  /** The timeline so far (a copy). */
  readonly entries: readonly FlowEntry[];
  /** The timeline as text, one line per entry, times relative to the first. */
  format(): string;
  /** Writes `format()` to `log` (default `console.log`). */
  print(log?: (text: string) => void): void;
  clear(): void;
  toJSON(): FlowEntry[];
}

/**
 * Records what happens in an actor and its children, with tokens and secrets
 * redacted, for debugging a login or attaching to a bug report.
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
  let entries: FlowEntry[] = [];

  const push = (entry: FlowEntry): void => {
    entries.push(entry);
    if (entries.length > maxEntries) entries = entries.slice(entries.length - maxEntries);
  };

  const recorder: FlowRecorder = {
    next(inspection) {
      const actorId = actorIdOf(inspection.actorRef);
      switch (inspection.type) {
        case '@xstate.event': {
          const entry: FlowEntry = { at: now(), kind: 'event', actorId, type: inspection.event.type, event: redact(inspection.event) };
          if (inspection.sourceRef) entry.sourceId = actorIdOf(inspection.sourceRef);
          push(entry);
          return;
        }
        case '@xstate.snapshot': {
          const snapshot = inspection.snapshot as { status?: unknown; value?: unknown; context?: unknown; machine?: unknown };
          const entry: FlowEntry = { at: now(), kind: 'snapshot', actorId, type: inspection.event.type };
          if (snapshot.machine !== undefined) entry.state = redact(snapshot.value);
          if (typeof snapshot.status === 'string' && snapshot.status !== 'active') entry.status = snapshot.status;
          if (options.includeContext === true && snapshot.machine !== undefined) entry.context = redact(snapshot.context);
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
      return entries.slice();
    },
    format() {
      const start = entries[0]?.at ?? 0;
      return entries.map((entry) => formatEntry(entry, start)).join('\n');
    },
    print(log = (text: string) => console.log(text)) {
      log(recorder.format());
    },
    clear() {
      entries = [];
    },
    toJSON() {
      return entries.slice();
    },
  };
  return recorder;
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
