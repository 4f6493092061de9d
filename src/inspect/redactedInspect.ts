/**
 * `redactedInspect`: what an inspector is given instead of the actor system's
 * own inspection events — copies with every token, code, verifier and
 * secret redacted, and stand-ins for the actors that hold them.
 *
 * Why a wrapper and not an inspector's options: an inspector reads more than
 * its sanitize options see. `@statelyai/inspect` 0.7's `createSkyInspector`
 * in Node passes its options as the transport, so `sanitizeContext`,
 * `sanitizeEvent` and `serialize` never run and every snapshot goes to the
 * hosted relay as it is; and every inspector kind calls
 * `actorRef.getSnapshot()` itself for a new actor, past any sanitizer. Here
 * the inspector never holds a live actor: each stand-in answers
 * `getSnapshot()` with a redacted copy taken when the event happened, so no
 * inspector option, kind or version can reach a secret.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { createRedactor, type Redactor } from './redact.js';

/** Where inspection events go: an inspector's `inspect` (an observer) or a function. */
export type InspectTarget = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface RedactedInspectOptions {
  /** The redactor to use (default: one of its own for this target, so what it learns stays with it). */
  redactor?: Redactor;
}

/** The parts of an actor an inspector reads: ids, its parent's chain, its logic's definition, its snapshot. */
interface ActorStandIn {
  readonly id: string;
  readonly sessionId: string;
  readonly _parent: ActorStandIn | undefined;
  readonly logic: { readonly config?: unknown };
  getSnapshot(): unknown;
}

interface LiveActor {
  id: string;
  sessionId: string;
  _parent?: LiveActor;
  logic?: { config?: unknown };
  getSnapshot(): unknown;
}

/** The data fields of any actor's snapshot, never its machine, its live children or its methods. */
const SNAPSHOT_FIELDS = ['status', 'value', 'context', 'output', 'error', 'input', 'historyValue'] as const;

function plainSnapshot(snapshot: unknown): Record<string, unknown> | undefined {
  if (typeof snapshot !== 'object' || snapshot === null) return undefined;
  const source = snapshot as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const field of SNAPSHOT_FIELDS) if (field in source) plain[field] = source[field];
  // Children are live actors: named only.
  if (typeof source.children === 'object' && source.children !== null) {
    plain.children = Object.fromEntries(Object.keys(source.children).map((id) => [id, { id }]));
  }
  if (source.tags instanceof Set) plain.tags = [...(source.tags as Set<unknown>)];
  return plain;
}

/** An actor's snapshot, or nothing while it is being built (its creation event comes first). */
function currentSnapshot(actor: LiveActor): unknown {
  try {
    return actor.getSnapshot();
  } catch {
    return undefined;
  }
}

/** The definition of a machine is data an inspector draws; a promise or callback actor's is its code, which it need not see. */
function definitionOf(actor: LiveActor): { config?: unknown } {
  const config = actor.logic?.config;
  return typeof config === 'object' && config !== null ? { config } : {};
}

/**
 * An `inspect` for `createActor`, `createOAuthClient` or `createBrowserAuth`
 * that hands `target` redacted copies of every inspection event. Give it the
 * inspector's own `inspect`:
 *
 * @example
 * import { createSkyInspector } from '@statelyai/inspect';
 * import { redactedInspect } from 'oauth-machines/inspect';
 * const inspector = createSkyInspector();
 * const client = createOAuthClient({ …, inspect: redactedInspect(inspector.inspect) });
 */
export function redactedInspect(target: InspectTarget, options: RedactedInspectOptions = {}): (event: InspectionEvent) => void {
  const redactor = options.redactor ?? createRedactor();
  const deliver = typeof target === 'function' ? target : (event: InspectionEvent) => target.next?.(event);
  // Each live actor's stand-in, and the redacted copy of its latest snapshot that the stand-in answers with.
  const held = new WeakMap<LiveActor, { stand: ActorStandIn; snapshot: unknown }>();
  const redact = <T>(value: T): T => redactor.redact(value) as T;

  const standIn = (actor: LiveActor | undefined): ActorStandIn | undefined => {
    if (actor === undefined) return undefined;
    const known = held.get(actor);
    if (known !== undefined) return known.stand;
    const entry = { snapshot: redact(plainSnapshot(currentSnapshot(actor))) as unknown } as { stand: ActorStandIn; snapshot: unknown };
    entry.stand = {
      id: actor.id,
      sessionId: actor.sessionId,
      _parent: standIn(actor._parent),
      logic: definitionOf(actor),
      getSnapshot: () => entry.snapshot,
    };
    held.set(actor, entry);
    return entry.stand;
  };
  const follow = (actor: LiveActor, snapshot: unknown): void => {
    standIn(actor);
    const entry = held.get(actor);
    if (entry !== undefined) entry.snapshot = snapshot;
  };

  return (event) => {
    const actor = event.actorRef as unknown as LiveActor;
    const base = { type: event.type, rootId: event.rootId };
    let copy: Record<string, unknown>;
    switch (event.type) {
      case '@xstate.actor':
        copy = { ...base, actorRef: standIn(actor) };
        break;
      case '@xstate.event':
        copy = { ...base, actorRef: standIn(actor), sourceRef: standIn(event.sourceRef as unknown as LiveActor | undefined), event: redact(event.event) };
        break;
      case '@xstate.snapshot':
      case '@xstate.microstep': {
        const snapshot = redact(plainSnapshot(event.snapshot));
        follow(actor, snapshot);
        copy = { ...base, actorRef: standIn(actor), event: redact(event.event), snapshot };
        // A microstep's transitions are the chart's own definitions: kept, they carry no data.
        if (event.type === '@xstate.microstep') copy._transitions = (event as { _transitions?: unknown })._transitions;
        break;
      }
      case '@xstate.action':
        copy = { ...base, actorRef: standIn(actor), action: redact((event as { action: unknown }).action) };
        break;
      default:
        // An event type this version does not know may carry anything: the inspector gets its type only.
        copy = { ...base, actorRef: standIn(actor) };
    }
    deliver(copy as unknown as InspectionEvent);
  };
}
