/**
 * For callers who persist XState snapshots themselves: `persistSnapshot` and
 * `restoreActor`. Apart from `persistence.ts` so that an app that never
 * restores a snapshot does not bundle their schema.
 *
 * Only stable states are ever persisted: a snapshot taken mid-request would,
 * once restored, send that request again — and redeeming an authorization
 * code twice is what RFC 6749 §4.1.2 tells servers to treat as an attack.
 */
import * as v from 'valibot';
import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type Snapshot } from 'xstate';
import { OAuthError } from '../src/errors.js';
import { CountSchema, DeviceAuthorizationSchema, GrantKindSchema, PendingAuthorizationSchema } from '../src/session/blob.js';
import { TokenSetSchema } from '../src/session/tokenSet.js';
import { isRecord } from '../src/protocol/validators.js';
import { xstateClock } from '../src/services/clock.js';
import { dpopSessionOf,
  resolveGrantOptions, RUNTIME, type GrantInput } from './types.js';

const Text = v.pipe(v.string(), v.minLength(1));
const Time = v.pipe(v.number(), v.finite());

const ErrorJsonSchema = v.looseObject({
  name: v.literal('OAuthError'),
  code: Text,
  description: v.optional(v.string()),
  uri: v.optional(v.string()),
  status: v.optional(v.number()),
  retryable: v.boolean(),
});


/**
 * The data of a grant machine's context in a stable state, as strictly as the
 * stored session blob: every field known and typed, and the data its state
 * needs there (a restored `authenticated` without tokens would fail on its
 * first `REFRESH`).
 */
const SnapshotContextSchema = v.strictObject({
  grant: GrantKindSchema,
  tokens: v.optional(TokenSetSchema),
  staleTokens: v.optional(TokenSetSchema),
  savedAt: v.optional(Time),
  generation: v.optional(CountSchema),
  unsaved: v.optional(v.literal(true)),
  renewalFailures: v.optional(CountSchema),
  retryNotBefore: v.optional(Time),
  refreshParams: v.optional(v.record(v.string(), v.string())),
  loggedOut: v.optional(
    v.strictObject({
      revoked: v.array(v.picklist(['refresh_token', 'access_token'])),
      notRevoked: v.array(
        v.strictObject({
          token: v.picklist(['refresh_token', 'access_token']),
          reason: v.picklist(['no_revocation_endpoint', 'refused', 'failed', 'not_attempted']),
          error: v.optional(ErrorJsonSchema),
        }),
      ),
      endSessionUrl: v.optional(Text),
    }),
  ),
  error: v.optional(ErrorJsonSchema),
  pending: v.optional(PendingAuthorizationSchema),
  authorizationUrl: v.optional(Text),
  device: v.optional(DeviceAuthorizationSchema),
  login: v.optional(
    v.strictObject({
      scopes: v.optional(v.array(v.string())),
      extraParams: v.optional(v.record(v.string(), v.string())),
      tokenParams: v.optional(v.record(v.string(), v.string())),
      resource: v.optional(Text),
      appState: v.optional(v.unknown()),
      returnTo: v.optional(Text),
    }),
  ),
  resource: v.optional(Text),
  // Events deferred while restoring; a stable state has none.
  deferred: v.pipe(v.array(v.unknown()), v.length(0)),
});

/** What each stable state needs in context to go on from there. */
const STATE_NEEDS: Record<string, (context: v.InferOutput<typeof SnapshotContextSchema>) => boolean> = {
  idle: () => true,
  error: () => true,
  awaitingCallback: (context) => context.pending !== undefined,
  awaitingUser: (context) => context.device !== undefined,
  authenticated: (context) => context.tokens !== undefined,
};

/** Validates a persisted snapshot's context for `machine` in state `value`; throws `invalid_snapshot`. */
function checkSnapshotContext(machine: AnyStateMachine, value: string, context: Record<string, unknown>): void {
  const result = v.safeParse(SnapshotContextSchema, context);
  if (!result.success) throw invalidSnapshot(`the snapshot's context is malformed: ${v.summarize(result.issues)}`);
  if (result.output.grant !== machine.id) throw invalidSnapshot(`the snapshot belongs to the ${result.output.grant} machine`);
  if (STATE_NEEDS[value]?.(result.output) !== true) throw invalidSnapshot(`the snapshot is in ${value} without the data it needs there`);
}

function invalidSnapshot(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_snapshot', { description, retryable: false, cause });
}

/**
 * The states in which an XState snapshot of a grant machine may be persisted. `awaitingUser` only
 * while it waits for the next poll (`{ awaitingUser: 'waiting' }`), never while a poll is under way.
 */
export const STABLE_STATES: readonly string[] = ['idle', 'awaitingCallback', 'awaitingUser', 'authenticated', 'error'];

/** A stable state's snapshot value: a root leaf, or the device grant's wait between polls. */
export type StableStateValue = string | { awaitingUser: 'waiting' };

/** The stable state a snapshot value is in, or `undefined` (a request under way, a refresh, a restore). */
function stableStateOf(value: unknown): string | undefined {
  if (typeof value === 'string') return STABLE_STATES.includes(value) ? value : undefined;
  return isRecord(value) && Object.keys(value).length === 1 && value.awaitingUser === 'waiting' ? 'awaitingUser' : undefined;
}

/** A grant machine's XState snapshot: plain JSON, without the runtime (held under a symbol, which JSON skips). */
export interface PersistedGrantSnapshot {
  value: StableStateValue;
  context: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * `actor.getPersistedSnapshot()` as plain JSON, ready for `JSON.stringify`:
 * the provider, client, services and options are not in it (the context and
 * the running timers' inputs hold them under the `RUNTIME` symbol). Throws
 * `OAuthError('invalid_snapshot')` outside the stable states (`idle`,
 * `awaitingCallback`, `awaitingUser`, `authenticated`, `error`): restoring a
 * snapshot taken mid-request would send that request again.
 */
export function persistSnapshot(actor: AnyActorRef): PersistedGrantSnapshot {
  const persisted: unknown = actor.getPersistedSnapshot();
  // The stable states are leaves at the root, and the device grant's wait; `refreshing` is never one.
  if (!isRecord(persisted) || stableStateOf(persisted.value) === undefined) {
    throw invalidSnapshot(`the machine is in ${JSON.stringify(isRecord(persisted) ? persisted.value : persisted)}, which is not a stable state`);
  }
  const plain: unknown = JSON.parse(JSON.stringify(persisted));
  if (!isRecord(plain) || stableStateOf(plain.value) === undefined || !isRecord(plain.context)) {
    throw invalidSnapshot('not a grant machine snapshot');
  }
  return { ...plain, value: plain.value as StableStateValue, context: plain.context };
}

/**
 * Starts-ready actor from a snapshot made by {@link persistSnapshot}, whole
 * and validated (`invalid_snapshot` otherwise): its context must be that of
 * this machine in a stable state, with the data that state needs. The runtime
 * from `input` goes under the `RUNTIME` symbol of the context and of the
 * running timers' inputs, so an expiry timer restarts with the restored
 * `expiresAt`. The actor is returned unstarted; call `.start()`.
 */
export function restoreActor<TMachine extends AnyStateMachine>(
  machine: TMachine,
  snapshot: PersistedGrantSnapshot,
  input: GrantInput,
): Actor<TMachine> {
  if (!isRecord(snapshot) || !isRecord(snapshot.context)) {
    throw invalidSnapshot('not a grant machine snapshot');
  }
  const stable = stableStateOf(snapshot.value);
  if (stable === undefined) {
    throw invalidSnapshot(`the snapshot is in ${JSON.stringify(snapshot.value)}, which is not a stable state`);
  }
  checkSnapshotContext(machine, stable, snapshot.context);
  const options = resolveGrantOptions(input.options);
  const runtime = {
    provider: input.provider,
    client: input.client,
    services: input.services,
    options,
    // The key itself is in services.dpopKeys: a restored DPoP-bound session signs with the key its tokens are bound to.
    ...dpopSessionOf(input, options),
  };
  const children: Record<string, unknown> = {};
  if (isRecord(snapshot.children)) {
    for (const [id, child] of Object.entries(snapshot.children)) {
      if (!isRecord(child) || !isRecord(child.snapshot) || !isRecord(child.snapshot.input)) {
        throw invalidSnapshot(`the snapshot's actor ${JSON.stringify(id)} is malformed`);
      }
      children[id] = { ...child, snapshot: { ...child.snapshot, input: { ...child.snapshot.input, [RUNTIME]: runtime } } };
    }
  }
  const restored = { ...snapshot, context: { ...snapshot.context, [RUNTIME]: runtime }, children };
  // The shape was checked above; XState revives the rest (state nodes, children) itself.
  // TypeScript cannot relate a generic machine's options to GrantInput, hence the widening.
  const generic: AnyStateMachine = machine;
  // Its `after` delays run on the clock service, like those of every actor the library creates.
  return createActor(generic, {
    input,
    snapshot: restored as unknown as Snapshot<unknown>,
    clock: xstateClock(input.services.clock),
  }) as Actor<TMachine>;
}
