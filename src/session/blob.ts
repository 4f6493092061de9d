/**
 * The persisted session: one versioned blob per storage key, validated whole
 * (valibot) when read back, whoever reads it — a machine restoring, a refresh
 * comparing with another tab's session, the browser's tab sync.
 *
 * Only stable states are ever persisted (`awaitingCallback`, `awaitingUser`,
 * `authenticated`): a blob written mid-request would, once restored, send
 * that request again — and redeeming an authorization code twice is what
 * RFC 6749 §4.1.2 tells servers to treat as an attack.
 */
import * as v from 'valibot';
import { OAuthError } from '../errors.js';
import { TokenSetSchema, type TokenSet } from './tokenSet.js';

/** The grant machines, as a blob names the one that wrote it. */
export type GrantKind = 'authorizationCode' | 'clientCredentials' | 'deviceCode' | 'password' | 'implicit';

/** The states a session blob may record. */
export type PersistedState = 'awaitingCallback' | 'awaitingUser' | 'authenticated';

/** An authorization request sent to the user agent, waiting for its callback (RFC 6749 §4.1.1). */
export interface PendingAuthorization {
  state: string;
  /**
   * The PKCE verifier (RFC 7636 §4.1); empty for the implicit grant, which redeems no code; `null`
   * when no challenge was sent (the provider's `quirks.pkce: 'unsupported'`): the exchange then sends
   * no verifier (the protocol's `nopkce`).
   */
  codeVerifier: string | null;
  /** Sent when the scopes include `openid` (OIDC Core §3.1.2.1). */
  nonce?: string;
  redirectUri: string;
  scopes: string[];
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; a callback after this is refused with `pending_expired`. */
  expiresAt: number;
  /** The issuer the callback's `iss` must match (RFC 9207). */
  issuer?: string;
  /** The app's own data, given to `login({ appState })` and handed back with the callback's tokens. JSON. */
  appState?: unknown;
  /** Where the browser helper goes once the callback is handled (same origin, checked at `login`). */
  returnTo?: string;
  /** Extra parameters of the code exchange this login asked for (`login({ tokenParams })`). */
  tokenParams?: Record<string, string>;
}

/** A device authorization in progress (RFC 8628 §3.2). */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  /** Where the user goes: an absolute `https:` URL, or `http:` on loopback. */
  verificationUri: string;
  /** The same, with the user code in it (RFC 8628 §3.3.1); the same rule. */
  verificationUriComplete?: string;
  /** Epoch ms after which the device code is no longer valid. */
  expiresAt: number;
  /** Seconds to wait between polls, at least 1 (RFC 8628 §3.2: default 5, also for a value below a second). */
  interval: number;
}

/** What a grant machine writes to storage under its storage key. */
export interface SessionBlob {
  version: 1;
  machine: GrantKind;
  state: PersistedState;
  tokens?: TokenSet;
  pending?: PendingAuthorization;
  device?: DeviceAuthorization;
  /** Epoch ms of the write. */
  savedAt: number;
  /** How many renewals the tokens have been through (absent: 0); see {@link isNewerSession}. */
  generation?: number;
}

const Text = v.pipe(v.string(), v.minLength(1));
const Time = v.pipe(v.number(), v.finite());
/** A count: renewals, failures. */
export const CountSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const GrantKindSchema = v.picklist(['authorizationCode', 'clientCredentials', 'deviceCode', 'password', 'implicit']);

export const PendingAuthorizationSchema = v.object({
  state: Text,
  codeVerifier: v.nullable(v.string()),
  nonce: v.exactOptional(Text),
  redirectUri: Text,
  scopes: v.array(v.string()),
  createdAt: Time,
  expiresAt: Time,
  issuer: v.exactOptional(Text),
  appState: v.exactOptional(v.unknown()),
  returnTo: v.exactOptional(Text),
  tokenParams: v.exactOptional(v.record(v.string(), v.string())),
}) satisfies v.GenericSchema<unknown, PendingAuthorization>;

export const DeviceAuthorizationSchema = v.object({
  deviceCode: Text,
  userCode: Text,
  verificationUri: Text,
  verificationUriComplete: v.exactOptional(Text),
  expiresAt: Time,
  interval: v.pipe(v.number(), v.finite(), v.minValue(0)),
}) satisfies v.GenericSchema<unknown, DeviceAuthorization>;

const SessionBlobSchema = v.pipe(
  v.object({
    version: v.literal(1),
    machine: GrantKindSchema,
    state: v.picklist(['awaitingCallback', 'awaitingUser', 'authenticated']),
    tokens: v.exactOptional(TokenSetSchema),
    pending: v.exactOptional(PendingAuthorizationSchema),
    device: v.exactOptional(DeviceAuthorizationSchema),
    savedAt: Time,
    generation: v.exactOptional(CountSchema),
  }),
  // Each state carries the data it needs to be resumed.
  v.check(
    (blob) =>
      (blob.state === 'authenticated' && blob.tokens !== undefined) ||
      (blob.state === 'awaitingCallback' && blob.pending !== undefined) ||
      (blob.state === 'awaitingUser' && blob.device !== undefined),
    'the state lacks its data',
  ),
) satisfies v.GenericSchema<unknown, SessionBlob>;

function invalidBlob(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_snapshot', { description, retryable: false, cause });
}

/**
 * Validates a stored blob (as text) written by `machine`; throws
 * `OAuthError('invalid_snapshot')` for anything else: not JSON, another
 * version, a malformed or incomplete blob, another machine's.
 */
export function parseSessionBlob(text: string, machine: GrantKind): SessionBlob {
  const blob = lastBlob?.text === text ? lastBlob.blob : readBlob(text);
  lastBlob = { text, blob };
  if (blob.machine !== machine) throw invalidBlob(`the stored session belongs to the ${blob.machine} machine`);
  return blob;
}

function readBlob(text: string): SessionBlob {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidBlob('the stored session is not JSON', error);
  }
  const result = v.safeParse(SessionBlobSchema, json);
  if (!result.success) {
    const versioned = typeof json === 'object' && json !== null && 'version' in json && json.version !== 1;
    throw invalidBlob(versioned ? 'the stored session has an unknown version' : `the stored session is malformed: ${v.summarize(result.issues)}`);
  }
  return result.output;
}

/** The blob as stored. */
export function serializeSessionBlob(blob: SessionBlob): string {
  const text = JSON.stringify(blob);
  lastBlob = { text, blob };
  return text;
}

/**
 * The last blob written or read, with its text: the same text is the same
 * blob, so a session read back after this process wrote or read it (every
 * refresh reads the store first) is not parsed and validated again. Blobs are
 * never mutated once made, so sharing one is safe.
 */
let lastBlob: { text: string; blob: SessionBlob } | undefined;

/**
 * The state and write time a stored value says it has, read without
 * validating the rest: for code that only routes values (the browser's tab
 * sync), never for code that uses the tokens. `undefined`: not JSON, or not
 * an object.
 */
export function sessionBlobHeader(text: string): { state?: unknown; savedAt?: number } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { state, savedAt } = json as { state?: unknown; savedAt?: unknown };
  return typeof savedAt === 'number' && Number.isFinite(savedAt) ? { state, savedAt } : { state };
}
