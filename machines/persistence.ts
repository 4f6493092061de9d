/**
 * The persisted session: one versioned, validated blob per storage key, and
 * helpers for callers who persist XState snapshots themselves.
 *
 * Only stable states are ever persisted (`awaitingCallback`, `awaitingUser`,
 * `authenticated`): a snapshot taken mid-request would, once restored, send
 * that request again — and redeeming an authorization code twice is what
 * RFC 6749 §4.1.2 tells servers to treat as an attack.
 */
import * as v from 'valibot';
import {
  createActor,
  type Actor,
  type AnyActorRef,
  type AnyStateMachine,
  type Snapshot,
} from 'xstate';
import { OAuthError } from '../src/protocol/errors.js';
import type { TokenSet } from '../src/protocol/types.js';
import type { StorageService } from '../src/services/types.js';
import {
  resolveGrantOptions,
  type DeviceAuthorizationState,
  type GrantInput,
  type GrantKind,
  type PendingAuthorization,
} from './types.js';

/** The states a session blob may record. */
export type PersistedState = 'awaitingCallback' | 'awaitingUser' | 'authenticated';

/** What a grant machine writes to `services.storage` under `options.storageKey`. */
export interface SessionBlob {
  version: 1;
  machine: GrantKind;
  state: PersistedState;
  tokens?: TokenSet;
  pending?: PendingAuthorization;
  device?: DeviceAuthorizationState;
  /** Epoch ms of the write. */
  savedAt: number;
}

const Text = v.pipe(v.string(), v.minLength(1));
const Time = v.pipe(v.number(), v.finite());

const TokenSetSchema = v.object({
  accessToken: Text,
  tokenType: Text,
  expiresAt: v.exactOptional(Time),
  refreshToken: v.exactOptional(Text),
  scope: v.exactOptional(v.array(v.string())),
  idToken: v.exactOptional(Text),
  raw: v.record(v.string(), v.unknown()),
});

const PendingSchema = v.object({
  state: Text,
  codeVerifier: v.string(),
  nonce: v.exactOptional(Text),
  redirectUri: Text,
  scopes: v.array(v.string()),
  createdAt: Time,
  expiresAt: Time,
  issuer: v.exactOptional(Text),
});

const DeviceSchema = v.object({
  deviceCode: Text,
  userCode: Text,
  verificationUri: Text,
  verificationUriComplete: v.exactOptional(Text),
  expiresAt: Time,
  interval: v.pipe(v.number(), v.finite(), v.minValue(0)),
});

const SessionBlobSchema = v.pipe(
  v.object({
    version: v.literal(1),
    machine: v.picklist(['authorizationCode', 'clientCredentials', 'deviceCode', 'password', 'implicit']),
    state: v.picklist(['awaitingCallback', 'awaitingUser', 'authenticated']),
    tokens: v.exactOptional(TokenSetSchema),
    pending: v.exactOptional(PendingSchema),
    device: v.exactOptional(DeviceSchema),
    savedAt: Time,
  }),
  // Each state carries the data it needs to be resumed.
  v.check(
    (blob) =>
      (blob.state === 'authenticated' && blob.tokens !== undefined) ||
      (blob.state === 'awaitingCallback' && blob.pending !== undefined) ||
      (blob.state === 'awaitingUser' && blob.device !== undefined),
    'the state lacks its data',
  ),
);

function invalidSnapshot(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_snapshot', { description, retryable: false, cause });
}

/** Validates a stored blob (as text); throws `OAuthError('invalid_snapshot')` for anything else. */
export function parseSessionBlob(text: string, machine: GrantKind): SessionBlob {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidSnapshot('the stored session is not JSON', error);
  }
  const result = v.safeParse(SessionBlobSchema, json);
  if (!result.success) {
    const versioned = typeof json === 'object' && json !== null && 'version' in json && json.version !== 1;
    throw invalidSnapshot(
      versioned ? 'the stored session has an unknown version' : `the stored session is malformed: ${v.summarize(result.issues)}`,
    );
  }
  if (result.output.machine !== machine) {
    throw invalidSnapshot(`the stored session belongs to the ${result.output.machine} machine`);
  }
  return result.output;
}

function storageError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  return new OAuthError(name === 'QuotaExceededError' ? 'storage_quota_exceeded' : 'storage_error', {
    description: error instanceof Error ? error.message : String(error),
    retryable: false,
    cause: error,
  });
}

/**
 * Reads and validates the session stored under `key`. Returns `null` when
 * there is none; a blob that does not validate is removed and reported as
 * `OAuthError('invalid_snapshot')`.
 */
export async function readSession(storage: StorageService, key: string, machine: GrantKind): Promise<SessionBlob | null> {
  let text: string | null;
  try {
    text = await storage.get(key);
  } catch (error) {
    throw storageError(error);
  }
  if (text === null) return null;
  try {
    return parseSessionBlob(text, machine);
  } catch (error) {
    // An unreadable blob would fail the same way on every start: drop it.
    await storage.remove(key).catch(() => undefined);
    throw error;
  }
}

/** Writes a session blob; storage failures become `storage_error` / `storage_quota_exceeded`. */
export async function writeSession(storage: StorageService, key: string, blob: SessionBlob): Promise<void> {
  try {
    await storage.set(key, JSON.stringify(blob));
  } catch (error) {
    throw storageError(error);
  }
}

/** Removes the session stored under `key`; storage failures become `storage_error`. */
export async function removeSession(storage: StorageService, key: string): Promise<void> {
  try {
    await storage.remove(key);
  } catch (error) {
    throw storageError(error);
  }
}

/** The states in which an XState snapshot of a grant machine may be persisted. */
export const STABLE_STATES: readonly string[] = ['idle', 'awaitingCallback', 'awaitingUser', 'authenticated', 'error'];

/** Context fields that are runtime dependencies, never persisted. */
const RUNTIME_KEYS = ['provider', 'client', 'services', 'options'] as const;

/** A grant machine's XState snapshot without its runtime dependencies: plain JSON. */
export interface PersistedGrantSnapshot {
  value: string;
  context: Record<string, unknown>;
  [key: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutRuntime(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...record };
  for (const key of RUNTIME_KEYS) delete copy[key];
  return copy;
}

/**
 * `actor.getPersistedSnapshot()` without the runtime dependencies (provider,
 * client, services, options — in context and in the inputs of the running
 * timers), ready for `JSON.stringify`. Throws `OAuthError('invalid_snapshot')`
 * outside the stable states (`idle`, `awaitingCallback`, `awaitingUser`,
 * `authenticated`, `error`): restoring a snapshot taken mid-request would send
 * that request again.
 */
export function persistSnapshot(actor: AnyActorRef): PersistedGrantSnapshot {
  const persisted: unknown = actor.getPersistedSnapshot();
  if (!isRecord(persisted) || typeof persisted.value !== 'string' || !isRecord(persisted.context)) {
    throw invalidSnapshot('not a grant machine snapshot');
  }
  if (!STABLE_STATES.includes(persisted.value)) {
    throw invalidSnapshot(`the machine is in ${persisted.value}, which is not a stable state`);
  }
  const children: Record<string, unknown> = {};
  if (isRecord(persisted.children)) {
    for (const [id, child] of Object.entries(persisted.children)) {
      if (!isRecord(child) || !isRecord(child.snapshot)) continue;
      const input = child.snapshot.input;
      children[id] = { ...child, snapshot: { ...child.snapshot, input: isRecord(input) ? withoutRuntime(input) : input } };
    }
  }
  const plain: unknown = JSON.parse(
    JSON.stringify({ ...persisted, context: withoutRuntime(persisted.context), children }),
  );
  if (!isRecord(plain) || typeof plain.value !== 'string' || !isRecord(plain.context)) {
    throw invalidSnapshot('the snapshot does not survive JSON');
  }
  return { ...plain, value: plain.value, context: plain.context };
}

/**
 * Starts-ready actor from a snapshot made by {@link persistSnapshot}: puts the
 * runtime dependencies from `input` back into the context and into the inputs
 * of the timers, so an expiry timer restarts with the restored `expiresAt`.
 * The actor is returned unstarted; call `.start()`.
 */
export function restoreActor<TMachine extends AnyStateMachine>(
  machine: TMachine,
  snapshot: PersistedGrantSnapshot,
  input: GrantInput,
): Actor<TMachine> {
  if (!isRecord(snapshot) || typeof snapshot.value !== 'string' || !isRecord(snapshot.context)) {
    throw invalidSnapshot('not a grant machine snapshot');
  }
  if (!STABLE_STATES.includes(snapshot.value)) {
    throw invalidSnapshot(`the snapshot is in ${snapshot.value}, which is not a stable state`);
  }
  const runtime = {
    provider: input.provider,
    client: input.client,
    services: input.services,
    options: resolveGrantOptions(input.options),
  };
  const children: Record<string, unknown> = {};
  if (isRecord(snapshot.children)) {
    for (const [id, child] of Object.entries(snapshot.children)) {
      if (!isRecord(child) || !isRecord(child.snapshot)) continue;
      const childInput = child.snapshot.input;
      // persistSnapshot stripped the same keys from the children's inputs (a device poll needs them all).
      const revived = isRecord(childInput) ? { ...childInput, ...runtime } : childInput;
      children[id] = { ...child, snapshot: { ...child.snapshot, input: revived } };
    }
  }
  const restored = { ...snapshot, context: { ...snapshot.context, ...runtime }, children };
  // The shape was checked above; XState revives the rest (state nodes, children) itself.
  // TypeScript cannot relate a generic machine's options to GrantInput, hence the widening.
  const generic: AnyStateMachine = machine;
  return createActor(generic, { input, snapshot: restored as unknown as Snapshot<unknown> }) as Actor<TMachine>;
}

