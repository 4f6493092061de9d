/**
 * The machines' storage: the session blob (its format is `src/session/blob.ts`)
 * read, written and removed under the storage key, and the claims that let a
 * code be sent once. Callers who persist XState snapshots themselves use
 * `snapshots.ts`.
 */
import * as v from 'valibot';
import { OAuthError } from '../src/errors.js';
import { parseSessionBlob, serializeSessionBlob, type GrantKind, type PendingAuthorization, type SessionBlob } from '../src/session/blob.js';
import { storageFailure } from '../src/services/storageFailure.js';
import type { StorageService } from '../src/services/types.js';

export type { PersistedState, SessionBlob } from '../src/session/blob.js';
export { parseSessionBlob } from '../src/session/blob.js';

const Text = v.pipe(v.string(), v.minLength(1));
const Time = v.pipe(v.number(), v.finite());

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
    throw storageFailure(error);
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

/**
 * Where a login in progress is kept — a pending authorization
 * (`awaitingCallback`) or a device authorization (`awaitingUser`) — beside the
 * session under `key`: a login started in one tab or process, or from `error`
 * with tokens set aside, must not overwrite a session that is still good.
 */
export function pendingLoginKey(key: string): string {
  return `${key}:pending`;
}

/** Writes a session blob; storage failures become `storage_error` / `storage_quota_exceeded`. */
export async function writeSession(storage: StorageService, key: string, blob: SessionBlob): Promise<void> {
  try {
    await storage.set(key, serializeSessionBlob(blob));
  } catch (error) {
    throw storageFailure(error);
  }
}

/** Removes the session stored under `key`; storage failures become `storage_error`. */
export async function removeSession(storage: StorageService, key: string): Promise<void> {
  try {
    await storage.remove(key);
  } catch (error) {
    throw storageFailure(error);
  }
}

/** The claims of pending authorizations: which `state`s have had their code sent, and until when that matters. */
const ClaimsSchema = v.array(v.object({ state: Text, until: Time }));

/** The most claims kept: the authorizations of one storage key that can be in flight at once. */
const MAX_CLAIMS = 20;

/**
 * Claims a pending authorization before its code is sent, so that of two tabs
 * or processes holding the same one (the callback page loaded twice, a login
 * tab and a callback tab, two servers on Redis) exactly one sends the code;
 * the other gets `pending_missing` (RFC 9700 §4.2.4: a replayed code revokes
 * what it gave). Under `storage.lock` when the storage has one, a list of
 * claimed `state`s under `key + ':claims'` is read and, unless it names this
 * one, extended; the list forgets a claim once its authorization expired.
 * Then the stored pending authorization is removed if it is this one (not a
 * newer login another tab started). Without a lock the read and the write
 * are two steps, as atomic as the storage allows.
 */
export async function claimPendingAuthorization(
  storage: StorageService,
  key: string,
  machine: GrantKind,
  pending: Pick<PendingAuthorization, 'state' | 'expiresAt'>,
  now: number,
): Promise<void> {
  const claimsKey = `${key}:claims`;
  const claim = async (): Promise<void> => {
    const claims = parseClaims(await readText(storage, claimsKey)).filter((entry) => entry.until > now);
    if (claims.some((entry) => entry.state === pending.state)) {
      throw new OAuthError('pending_missing', {
        description: 'the authorization was already redeemed (another tab, process or a reload sent its code)',
        retryable: false,
      });
    }
    claims.push({ state: pending.state, until: pending.expiresAt });
    await writeText(storage, claimsKey, JSON.stringify(claims.slice(-MAX_CLAIMS)));
  };
  await (storage.lock === undefined ? claim() : storage.lock(claimsKey, claim));
  const stored = await readSession(storage, pendingLoginKey(key), machine).catch(() => null);
  if (stored?.state === 'awaitingCallback' && stored.pending?.state === pending.state) await removeSession(storage, pendingLoginKey(key));
}

function parseClaims(text: string | null): Array<{ state: string; until: number }> {
  if (text === null) return [];
  try {
    const result = v.safeParse(ClaimsSchema, JSON.parse(text));
    return result.success ? result.output : [];
  } catch {
    return []; // an unreadable list is replaced: it can only have held claims of this key
  }
}

async function readText(storage: StorageService, key: string): Promise<string | null> {
  try {
    return await storage.get(key);
  } catch (error) {
    throw storageFailure(error);
  }
}

async function writeText(storage: StorageService, key: string, text: string): Promise<void> {
  try {
    await storage.set(key, text);
  } catch (error) {
    throw storageFailure(error);
  }
}


/** The logout at the provider under way (RP-Initiated Logout §2): its `state`, and until when its return is taken. */
const ProviderLogoutSchema = v.object({ state: Text, expiresAt: Time });

/** Where the pending provider logout of the session under `key` is kept. */
function providerLogoutKey(key: string): string {
  return `${key}:logout`;
}

/** Keeps the `state` sent to the provider's end-session endpoint, so its return can be told from a forged one. */
export async function writeProviderLogout(storage: StorageService, key: string, logout: { state: string; expiresAt: number }): Promise<void> {
  await writeText(storage, providerLogoutKey(key), JSON.stringify(logout));
}

/**
 * Takes the return from the provider's end-session endpoint: its `state` must
 * be the one kept (`state_mismatch` otherwise, and the record stays for the
 * real return), in time (`pending_expired`); none kept is `pending_missing`.
 * The record is removed once matched.
 */
export async function consumeProviderLogout(storage: StorageService, key: string, state: string | null, now: number): Promise<void> {
  const text = await readText(storage, providerLogoutKey(key));
  let kept: { state: string; expiresAt: number } | undefined;
  try {
    const result = text === null ? undefined : v.safeParse(ProviderLogoutSchema, JSON.parse(text));
    kept = result?.success === true ? result.output : undefined;
  } catch {
    kept = undefined;
  }
  if (kept === undefined) throw new OAuthError('pending_missing', { description: 'no logout at the provider is pending', retryable: false });
  if (state !== kept.state) {
    throw new OAuthError('state_mismatch', { description: 'the logout return does not carry the state that was sent', retryable: false });
  }
  await removeText(storage, providerLogoutKey(key));
  if (now > kept.expiresAt) throw new OAuthError('pending_expired', { description: 'the logout at the provider took too long', retryable: false });
}

async function removeText(storage: StorageService, key: string): Promise<void> {
  try {
    await storage.remove(key);
  } catch (error) {
    throw storageFailure(error);
  }
}
