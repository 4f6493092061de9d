/**
 * The token lifecycle every grant shares: `authenticated` ⇄ `refreshing`, the
 * expiry timer, `loggingOut`, and the session-changed handling.
 *
 * How it is shared: every grant machine uses the same context and event types
 * (`GrantContext`, `GrantEvent`), so this file declares the lifecycle once
 * with its own `setup()` — its actors, guards and actions — and builds the
 * three states with `createStateConfig`, which type-checks them here. Each
 * grant machine spreads {@link lifecycleActors}, {@link lifecycleGuards} and
 * {@link lifecycleActions} into its own `setup()` and places
 * {@link authenticatedState}, {@link refreshingState} and
 * {@link loggingOutState} at its root, next to its own `idle` and `error`
 * states (the transitions here target those siblings by name). An invoked
 * child machine was the alternative; it would hide `authenticated` and
 * `refreshing` one level down, away from the state names callers match on.
 *
 * What the pieces guarantee:
 * - the expiry timer is an invoked callback actor whose input is the refresh
 *   time, so it starts again when a persisted snapshot is restored (XState
 *   `after` timers are not persisted);
 * - one refresh at a time across tabs and processes: it runs inside
 *   `storage.lock(storageKey + ':refresh')` when the storage has a lock, and
 *   first adopts a newer session another tab already stored instead of
 *   spending an old refresh token;
 * - the new tokens are stored before the machine forgets the old refresh
 *   token; a response without a refresh token keeps the old one;
 * - `invalid_grant` ends the session, and so does a refreshed ID token naming
 *   another user (OIDC Core §12.2); a transient failure retries with
 *   jittered exponential backoff while the still-valid access token stays
 *   usable, and never loses the refresh token.
 */
import { assign, enqueueActions, fromCallback, fromPromise, setup, spawnChild } from 'xstate';
import { OAuthError, type OAuthErrorCode, type OAuthErrorJSON } from '../src/errors.js';
import { decodeJwtPayload } from '../src/protocol/idToken.js';
import { refreshTokens, requestClientCredentials, revokeToken } from '../src/protocol/operations.js';
import type { ClientConfig, ProviderConfig, TokenSet } from '../src/protocol/types.js';
import type { Services, StorageService } from '../src/services/types.js';
import { readSession, removeSession, writeSession, type SessionBlob } from './persistence.js';
import { startTimer } from './timers.js';
import { renewalBackoff } from '../src/session/backoff.js';
import { accessTokenIsValid, renewalDueAt, tokensAreFresh } from '../src/session/freshness.js';
import { isNewerSession, type SessionStamp } from '../src/session/newer.js';
import type {
  DeferredEvent,
  GrantContext,
  GrantEvent,
  GrantInput,
  GrantKind,
  GrantRuntime,
  GrantTag,
  LoginRequest,
} from './types.js';
import { requestedScopes, resolveGrantOptions, runtimeOf } from './types.js';

// ---------------------------------------------------------------------------
// Context

/** The initial context of a grant machine, from its input. */
export function initialGrantContext(grant: GrantKind, input: GrantInput): GrantContext {
  return {
    grant,
    provider: input.provider,
    client: input.client,
    services: input.services,
    options: resolveGrantOptions(input.options),
    deferred: [],
    ...(input.resource === undefined ? {} : { resource: input.resource }),
  };
}

/** The RFC 8707 resource of a client-credentials request: the login's, else the input's. */
export function resourceOf(context: GrantContext): string | undefined {
  return context.login?.resource ?? context.resource;
}

/** Whether the tokens can be renewed without the user: with a refresh token, or by asking again (client credentials). */
function canRenew(grant: GrantKind, tokens: TokenSet | undefined): boolean {
  return tokens !== undefined && (tokens.refreshToken !== undefined || grant === 'clientCredentials');
}

/**
 * When the expiry timer fires: at {@link renewalDueAt} when the tokens can be
 * renewed (after a failed renewal not before its backoff ends), `expiresAt`
 * when they cannot, never when they do not expire.
 */
export function expiryTimerFiresAt(context: GrantContext): number | undefined {
  const tokens = context.tokens;
  if (tokens?.expiresAt === undefined) return undefined;
  if (!canRenew(context.grant, tokens)) return tokens.expiresAt;
  const due = renewalDueAt(tokens, context.savedAt, context.options) ?? tokens.expiresAt;
  return Math.max(due, context.retryNotBefore ?? due);
}

/**
 * Anything thrown, as an `OAuthError`. A `TypeError` is what the protocol
 * builders throw for bad arguments (a missing redirect URI, a forbidden
 * scope…): a configuration mistake, so `invalid_request` and never retried.
 */
export function toOAuthError(thrown: unknown): OAuthError {
  if (thrown instanceof OAuthError) return thrown;
  if (thrown instanceof TypeError) {
    return new OAuthError('invalid_request', { description: thrown.message, retryable: false, cause: thrown });
  }
  return OAuthError.from(thrown);
}

/**
 * Stores fresh tokens as the session (state `authenticated`). A storage
 * failure does not lose them: they are returned with the failure, because a
 * redeemed code or a rotated refresh token cannot be spent again.
 */
export async function storeNewSession(
  services: Services,
  storageKey: string,
  grant: GrantKind,
  tokens: TokenSet,
  generation = 0,
): Promise<NewSession> {
  const savedAt = services.clock.now();
  try {
    await writeSession(services.storage, storageKey, { version: 1, machine: grant, state: 'authenticated', tokens, savedAt, generation });
  } catch (thrown) {
    return { tokens, savedAt, generation, storageError: OAuthError.from(thrown, 'storage_error').toJSON() };
  }
  return { tokens, savedAt, generation };
}

/**
 * Throws `aborted` when the actor stopped before a request is sent. Once a
 * token request is sent it is not given the actor's signal: the server may
 * already have redeemed the code or rotated the refresh token, so its answer
 * is read and stored even when nobody waits for it any more.
 */
export function notStopped(signal: AbortSignal, during: string): void {
  if (signal.aborted) throw new OAuthError('aborted', { description: `stopped before ${during}`, retryable: false });
}

// ---------------------------------------------------------------------------
// Actors

export interface ExpiryTimerInput {
  fireAt: number | undefined;
  services: Services;
}

/** Sends `EXPIRY_DUE` at `fireAt` by `services.clock`; never without a `fireAt`. */
const waitForTokenExpiry = fromCallback<GrantEvent, ExpiryTimerInput>(({ input, sendBack }) => {
  if (input.fireAt === undefined) return undefined;
  return startTimer(input.services.clock, input.fireAt - input.services.clock.now(), () => sendBack({ type: 'EXPIRY_DUE' }));
});

/** What a token request gives back, once the tokens are stored. */
export interface NewSession {
  tokens: TokenSet;
  savedAt: number;
  /** See `GrantContext.generation`; absent: 0. */
  generation?: number;
  /** The new tokens could not be stored; they are kept in memory and the failure is reported. */
  storageError?: OAuthErrorJSON;
}

export interface RenewInput extends GrantRuntime {
  grant: GrantKind;
  /** The tokens whose refresh token is spent: ours, or newer ones another tab stored (adopted while checking the store). */
  tokens: TokenSet;
  savedAt: number | undefined;
  generation: number | undefined;
  scopes: string[] | undefined;
  /** RFC 8707: sent with a client-credentials renewal. */
  resource: string | undefined;
}

export interface RefreshLockInput {
  services: Services;
  storageKey: string;
}

/** The lock that makes a refresh single flight across tabs and processes (when the storage has one). */
function refreshLockKey(storageKey: string): string {
  return `${storageKey}:refresh`;
}

/**
 * Renewal requests sent under a refresh lock and not yet stored, per storage and lock: the lock is
 * released only once they are (a request that left is read and stored even after its state was left).
 */
const sentUnderLock = new WeakMap<StorageService, Map<string, Promise<unknown>>>();

function underLock(storage: StorageService, key: string, request: Promise<unknown>): void {
  const byKey = sentUnderLock.get(storage) ?? new Map<string, Promise<unknown>>();
  sentUnderLock.set(storage, byKey);
  const settled = request.then(
    () => undefined,
    () => undefined,
  );
  byKey.set(key, settled);
  void settled.then(() => {
    if (byKey.get(key) === settled) byKey.delete(key);
  });
}

/**
 * Takes `storage.lock(storageKey + ':refresh')` and holds it until the state that invoked it is
 * left (and a request sent under it is stored); sends `REFRESH_LOCK_GRANTED` once held, at once
 * when the storage has no lock, and `REFRESH_LOCK_FAILED` when the lock cannot be taken.
 */
const holdRefreshLock = fromCallback<GrantEvent, RefreshLockInput>(({ input, sendBack }) => {
  const { storage } = input.services;
  const key = refreshLockKey(input.storageKey);
  if (storage.lock === undefined) {
    sendBack({ type: 'REFRESH_LOCK_GRANTED' });
    return undefined;
  }
  let left = false;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  storage
    .lock(key, async () => {
      if (left) return;
      sendBack({ type: 'REFRESH_LOCK_GRANTED' });
      await released;
      await sentUnderLock.get(storage)?.get(key);
    })
    .catch((error: unknown) => {
      if (!left) sendBack({ type: 'REFRESH_LOCK_FAILED', error });
    });
  return () => {
    left = true;
    release();
  };
});

/** The stored session, read before a refresh spends anything; `undefined` when the store cannot be read now. */
const readSessionToRenew = fromPromise<SessionBlob | null | undefined, { services: Services; storageKey: string; grant: GrantKind }>(
  async ({ input }) => {
    try {
      return await readSession(input.services.storage, input.storageKey, input.grant);
    } catch {
      // An unreadable store must not block a refresh, nor end the session: we still hold our own tokens.
      return undefined;
    }
  },
);

/** The stored session; `undefined` when the store cannot be read now. */
async function readStoredQuietly(input: RenewInput): Promise<SessionBlob | null | undefined> {
  try {
    return await readSession(input.services.storage, input.options.storageKey, input.grant);
  } catch {
    return undefined;
  }
}

/** RFC 6749 §6: a response without a refresh token leaves the old one valid; OIDC Core §12.2: nor need it repeat the ID token. */
function mergeRefreshed(previous: TokenSet, fresh: TokenSet): TokenSet {
  const merged: TokenSet = { ...fresh };
  const refreshToken = fresh.refreshToken ?? previous.refreshToken;
  if (refreshToken !== undefined) merged.refreshToken = refreshToken;
  const idToken = fresh.idToken ?? previous.idToken;
  if (idToken !== undefined) merged.idToken = idToken;
  return merged;
}

/**
 * A refreshed ID token that names another end-user than the one it replaces: the session is mixed
 * up (another user's refresh token, or a server that confused two grants), so it ends, like on
 * `invalid_grant`, instead of keeping the tokens of one user while the server talks about another.
 */
class EndUserChangedError extends OAuthError {}

/**
 * OIDC Core §12.2: "its iss Claim Value MUST be the same as in the ID Token issued when the original
 * authentication occurred; its sub Claim Value MUST be the same". Another `sub` ends the session
 * ({@link EndUserChangedError}); another `iss` is refused like any other bad ID token.
 */
function checkSameEndUser(previous: string | undefined, fresh: string | undefined): void {
  if (previous === undefined || fresh === undefined) return;
  let before: Record<string, unknown>;
  try {
    before = decodeJwtPayload(previous);
  } catch {
    return; // not ours to judge now: the previous token was checked when it arrived
  }
  const after = decodeJwtPayload(fresh); // refreshTokens has checked its claims
  if (before.sub !== after.sub) {
    throw new EndUserChangedError('invalid_id_token', {
      description: 'the refreshed ID token names another subject than the one it replaces',
      retryable: false,
    });
  }
  if (before.iss !== after.iss) {
    throw new OAuthError('invalid_id_token', {
      description: 'the refreshed ID token names another issuer than the one it replaces',
      retryable: false,
    });
  }
}

async function requestNewTokens(input: RenewInput, signal: AbortSignal): Promise<TokenSet> {
  notStopped(signal, 'the refresh');
  const current = input.tokens;
  // No signal: a request that left is read and stored (see notStopped).
  const ctx = { provider: input.provider, client: input.client, services: input.services };
  const clientCredentials = (): Promise<TokenSet> =>
    requestClientCredentials({
      ...ctx,
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
      ...(input.resource === undefined ? {} : { resource: input.resource }),
    });
  if (current.refreshToken === undefined) {
    if (input.grant === 'clientCredentials') return clientCredentials();
    throw new OAuthError('login_required', { description: 'the session has no refresh token', retryable: false });
  }
  try {
    // OIDC Core §12.2: a refreshed ID token is checked like the first one, minus the nonce, and must name the same user.
    const refreshed = await refreshTokens({ ...ctx, refreshToken: current.refreshToken, idToken: {} });
    checkSameEndUser(current.idToken, refreshed.idToken);
    return mergeRefreshed(current, refreshed);
  } catch (thrown) {
    // A client-credentials client can always ask again when its refresh token is refused.
    if (input.grant === 'clientCredentials' && OAuthError.from(thrown).code === 'invalid_grant') return clientCredentials();
    throw thrown;
  }
}

/** One renewal request (the lock is held and the store checked), its answer stored before the old refresh token is forgotten. */
async function renewOnce(input: RenewInput, signal: AbortSignal): Promise<NewSession> {
  const { services, options } = input;
  const stamp: SessionStamp = { savedAt: input.savedAt, generation: input.generation };
  let fresh: TokenSet;
  try {
    fresh = await requestNewTokens(input, signal);
  } catch (thrown) {
    const error = toOAuthError(thrown);
    if (error instanceof EndUserChangedError) {
      await removeSession(services.storage, options.storageKey).catch(() => undefined);
      throw error;
    }
    if (error.code === 'invalid_grant' && !signal.aborted) {
      // Without a lock another process may have rotated concurrently; its tokens are the session now.
      const again = await readStoredQuietly(input);
      if (again != null && isNewerSession(again, input.tokens, stamp)) {
        return { tokens: again.tokens, savedAt: again.savedAt, generation: again.generation ?? 0 };
      }
      // Only our own session is removed: not one another tab or process stored meanwhile.
      if (again === null || (again !== undefined && again.tokens?.refreshToken === input.tokens.refreshToken)) {
        await removeSession(services.storage, options.storageKey).catch(() => undefined);
      }
    }
    throw error;
  }
  // The old refresh token may already be spent: the new tokens are stored before the machine drops the old ones,
  // and even when the actor stopped meanwhile (the next start must not replay the spent one).
  return storeNewSession(services, options.storageKey, input.grant, fresh, (stamp.generation ?? 0) + 1);
}

/** One renewal request under the refresh lock; the lock is kept until its answer is stored. */
const renewTokens = fromPromise<NewSession, RenewInput>(({ input, signal }) => {
  const request = renewOnce(input, signal);
  underLock(input.services.storage, refreshLockKey(input.options.storageKey), request);
  return request;
});

/** A stored session as the tokens a refresh adopts. */
function storedAsNewSession(blob: SessionBlob | null | undefined): NewSession {
  if (blob?.tokens === undefined) throw new TypeError('adopting a stored session without tokens');
  return { tokens: blob.tokens, savedAt: blob.savedAt, generation: blob.generation ?? 0 };
}

export interface EndSessionInput {
  provider: ProviderConfig;
  client: ClientConfig;
  services: Services;
  storageKey: string;
  tokens: TokenSet | undefined;
}

/** What logging out gives back: the first revocation failure, which did not stop the logout. */
export interface LogoutOutcome {
  revocationError?: OAuthErrorJSON;
}

/** RFC 7009: revokes the refresh token, then the access token, where the provider has a revocation endpoint; clears storage. */
const endSession = fromPromise<LogoutOutcome, EndSessionInput>(async ({ input, signal }) => {
  const outcome: LogoutOutcome = {};
  const { tokens, provider } = input;
  if (tokens !== undefined && provider.revocationEndpoint !== undefined) {
    // RFC 7009 §2.1: revoking the refresh token first stops new access tokens even if the second call fails.
    const revocations: [string | undefined, 'refresh_token' | 'access_token'][] = [
      [tokens.refreshToken, 'refresh_token'],
      [tokens.accessToken, 'access_token'],
    ];
    for (const [token, tokenTypeHint] of revocations) {
      if (token === undefined) continue;
      try {
        await revokeToken({ provider, client: input.client, services: input.services, signal, token, tokenTypeHint });
      } catch (thrown) {
        const error = toOAuthError(thrown);
        outcome.revocationError ??= error.toJSON();
        // RFC 9110 §10.2.3: a server that asked to wait gets no second request now; the session ends all the same.
        if (error.retryAfterMs !== undefined) break;
      }
    }
  }
  await removeSession(input.services.storage, input.storageKey);
  // The claims of redeemed codes are the session's too (see claimPendingAuthorization); best effort, since the
  // server refuses a code sent twice anyway.
  await input.services.storage.remove(`${input.storageKey}:claims`).catch(() => undefined);
  return outcome;
});

export interface ReadSessionInput {
  services: Services;
  storageKey: string;
  machine: GrantKind;
  /** Do not touch storage (`options.restore === false` and nothing asks for it). */
  skip: boolean;
  /** A CALLBACK is waiting: keep an expired pending authorization so the callback gets `pending_expired`. */
  callbackWaiting: boolean;
}

/**
 * Reads the persisted session. An expired pending authorization or device
 * code is removed (unless a callback waits for its verdict); a blob that does
 * not validate is removed and rejected as `invalid_snapshot`.
 */
const readStoredSession = fromPromise<SessionBlob | null, ReadSessionInput>(async ({ input }) => {
  if (input.skip) return null;
  const blob = await readSession(input.services.storage, input.storageKey, input.machine);
  if (blob === null) return null;
  const now = input.services.clock.now();
  const expired =
    (blob.state === 'awaitingCallback' && blob.pending !== undefined && blob.pending.expiresAt <= now && !input.callbackWaiting) ||
    (blob.state === 'awaitingUser' && blob.device !== undefined && blob.device.expiresAt <= now);
  if (expired) {
    await removeSession(input.services.storage, input.storageKey).catch(() => undefined);
    return null;
  }
  return blob;
});

/**
 * Removes the stored login or expired session this machine forgets, in the
 * background; never fails (a failure leaves a blob that the next restore
 * rejects or replaces). A stored session whose access token is still valid is
 * kept: the machine forgetting a login in progress or its expired tokens
 * never had it, so another tab or process stored it meanwhile.
 */
const removeStoredSession = fromPromise<void, { services: Services; storageKey: string; machine: GrantKind }>(async ({ input }) => {
  const { storage, clock } = input.services;
  const stored = await readSession(storage, input.storageKey, input.machine).catch(() => null);
  if (stored?.state === 'authenticated' && stored.tokens !== undefined && accessTokenIsValid(stored.tokens, clock.now())) return;
  await storage.remove(input.storageKey).catch(() => undefined);
});

/** The actors of the lifecycle, to spread into a grant machine's `setup({ actors })`. */
export const lifecycleActors = {
  'wait for token expiry': waitForTokenExpiry,
  'hold the refresh lock': holdRefreshLock,
  'read the session to renew': readSessionToRenew,
  'renew tokens': renewTokens,
  'end session': endSession,
  'read stored session': readStoredSession,
  'remove stored session': removeStoredSession,
};

// ---------------------------------------------------------------------------
// Guards

/** The stored session when it is newer than the tokens held (see {@link isNewerSession}). */
function storedNewer(context: GrantContext, blob: SessionBlob | null | undefined): SessionBlob | undefined {
  if (blob == null || context.tokens === undefined) return undefined;
  return isNewerSession(blob, context.tokens, { savedAt: context.savedAt, generation: context.generation }) ? blob : undefined;
}

type GuardArgs = { context: GrantContext };

/** The guards of the lifecycle, to spread into a grant machine's `setup({ guards })`. */
export const lifecycleGuards = {
  'tokens can be renewed': ({ context }: GuardArgs) => canRenew(context.grant, context.tokens),
  'set-aside tokens can be renewed': ({ context }: GuardArgs) => canRenew(context.grant, context.staleTokens),
  'the access token is still valid': ({ context }: GuardArgs) =>
    context.tokens !== undefined && accessTokenIsValid(context.tokens, context.services.clock.now()),
  'the server ended the session': (_: GuardArgs, params: { error: unknown }) => toOAuthError(params.error).code === 'invalid_grant',
  'the refreshed ID token names another user': (_: GuardArgs, params: { error: unknown }) => params.error instanceof EndUserChangedError,
  // A transient failure is tried again, at most `maxRefreshAttempts` requests in all.
  'another attempt is allowed': ({ context }: GuardArgs, params: { error: unknown }) =>
    toOAuthError(params.error).retryable && (context.refreshAttempts ?? 0) + 1 < context.options.maxRefreshAttempts,
  // Our session was stored, and the store now holds none (or a new login): another tab or process logged out,
  // and its logout revoked or spent what we hold. Renewing would spend a refresh token the session no longer
  // owns, or bring back a session the user ended.
  'the session ended elsewhere': ({ context }: GuardArgs, params: { blob: SessionBlob | null | undefined }) =>
    context.unsaved !== true && (params.blob === null || (params.blob !== undefined && params.blob.state !== 'authenticated')),
  // Another tab rotated the tokens while we waited for the lock: spending our (now old) refresh token
  // would trip the server's reuse detection (RFC 9700 §4.14.2).
  'another tab stored newer tokens': ({ context }: GuardArgs, params: { blob: SessionBlob | null | undefined }) =>
    storedNewer(context, params.blob) !== undefined,
  'another tab stored fresh tokens': ({ context }: GuardArgs, params: { blob: SessionBlob | null | undefined }) => {
    const stored = storedNewer(context, params.blob);
    return stored?.tokens !== undefined && tokensAreFresh(stored.tokens, stored.savedAt, context.options, context.services.clock.now());
  },
  'the storage could not be read': (_: GuardArgs, params: { error: unknown }) => toOAuthError(params.error).code === 'storage_error',
  'the event carries tokens': (_: GuardArgs, params: { tokens: TokenSet | undefined }) => params.tokens !== undefined,
  'the stored session has tokens': (_: GuardArgs, params: { blob: SessionBlob | null }) =>
    params.blob?.state === 'authenticated' && params.blob.tokens !== undefined,
  'a callback is waiting': ({ context }: GuardArgs) => context.deferred.some((event) => event.type === 'CALLBACK'),
  // The two logins in progress that survive a reload (the redirect grants' and the device grant's).
  'an authorization is stored': (_: GuardArgs, params: { blob: SessionBlob | null }) => params.blob?.state === 'awaitingCallback',
  'a device authorization is stored': (_: GuardArgs, params: { blob: SessionBlob | null }) => params.blob?.state === 'awaitingUser',
};

// ---------------------------------------------------------------------------
// Actions

/** The actions of the lifecycle, to spread into a grant machine's `setup({ actions })`. */
export const lifecycleActions = {
  'remember new session': assign<GrantContext, GrantEvent, NewSession, GrantEvent, never>((_, params) => ({
    refreshAttempts: undefined,
    tokens: params.tokens,
    savedAt: params.savedAt,
    generation: params.generation ?? 0,
    unsaved: params.storageError === undefined ? undefined : true,
    staleTokens: undefined,
    error: params.storageError,
    renewalFailures: undefined,
    retryNotBefore: undefined,
  })),
  // Nothing the server says may make the library ask again at once: the next renewal waits out a backoff.
  'hold renewals back': assign<GrantContext, GrantEvent, { error: unknown }, GrantEvent, never>(({ context }, params) => {
    const failures = (context.renewalFailures ?? 0) + 1;
    const wait = renewalBackoff(context.services.crypto, context.options.retryBaseMs, failures, toOAuthError(params.error));
    return { renewalFailures: failures, retryNotBefore: context.services.clock.now() + wait };
  }),
  'remember failure': assign<GrantContext, GrantEvent, { error: unknown }, GrantEvent, never>((_, params) => ({
    error: toOAuthError(params.error).toJSON(),
  })),
  // The failure shows in context while the still-valid token is served; the next attempt waits out its backoff.
  'wait before the next attempt': assign<GrantContext, GrantEvent, { error: unknown }, GrantEvent, never>(({ context }, params) => {
    const attempts = (context.refreshAttempts ?? 0) + 1;
    const error = toOAuthError(params.error);
    const wait = renewalBackoff(context.services.crypto, context.options.retryBaseMs, attempts, error);
    return { error: error.toJSON(), refreshAttempts: attempts, retryNotBefore: context.services.clock.now() + wait };
  }),
  'forget the attempts': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ refreshAttempts: undefined }),
  // Newer tokens another tab stored: their refresh token is the one to spend now.
  'adopt the stored tokens': assign<GrantContext, GrantEvent, { blob: SessionBlob | null | undefined }, GrantEvent, never>(
    (_, params) => {
      const adopted = storedAsNewSession(params.blob);
      return { tokens: adopted.tokens, savedAt: adopted.savedAt, generation: adopted.generation, unsaved: undefined };
    },
  ),
  'fail with': assign<GrantContext, GrantEvent, { code: OAuthErrorCode; description: string }, GrantEvent, never>(
    (_, params) => ({ error: new OAuthError(params.code, { description: params.description, retryable: false }).toJSON() }),
  ),
  // The other tab stored them just now; our savedAt follows, so a later refresh compares against them.
  'adopt the tokens of another tab': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context, event }) =>
    event.type === 'SESSION_CHANGED' && event.tokens !== undefined
      ? {
          tokens: event.tokens,
          savedAt: context.services.clock.now(),
          // The other tab's tokens replace ours: they count as one renewal newer.
          generation: (context.generation ?? 0) + 1,
          unsaved: undefined,
          staleTokens: undefined,
          error: undefined,
          pending: undefined,
          device: undefined,
          renewalFailures: undefined,
          retryNotBefore: undefined,
        }
      : {},
  ),
  'remember stored session': assign<GrantContext, GrantEvent, { blob: SessionBlob | null }, GrantEvent, never>(
    (_, { blob }) => ({
      tokens: blob?.state === 'authenticated' ? blob.tokens : undefined,
      pending: blob?.state === 'awaitingCallback' ? blob.pending : undefined,
      device: blob?.state === 'awaitingUser' ? blob.device : undefined,
      savedAt: blob?.savedAt,
      generation: blob?.generation,
      unsaved: undefined,
    }),
  ),
  'remember login request': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ event, context }) => {
    if (event.type !== 'LOGIN') return { login: context.login };
    // Only what a RETRY needs: never the password grant's credentials.
    const login: LoginRequest = {};
    if (event.scopes !== undefined) login.scopes = event.scopes;
    if (event.extraParams !== undefined) login.extraParams = event.extraParams;
    if (event.resource !== undefined) login.resource = event.resource;
    return { login };
  }),
  'forget the login in progress': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({
    pending: undefined,
    exchange: undefined,
    device: undefined,
  }),
  'clear failure': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ error: undefined }),
  'set tokens aside': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context }) => ({
    staleTokens: context.tokens ?? context.staleTokens,
    tokens: undefined,
  })),
  'take back set-aside tokens': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context }) => ({
    tokens: context.staleTokens,
    staleTokens: undefined,
  })),
  'forget tokens': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({
    tokens: undefined,
    staleTokens: undefined,
    savedAt: undefined,
    generation: undefined,
    unsaved: undefined,
    renewalFailures: undefined,
    retryNotBefore: undefined,
  }),
  'remember logout outcome': assign<GrantContext, GrantEvent, LogoutOutcome, GrantEvent, never>((_, params) => ({
    error: params.revocationError,
  })),
  'defer event': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context, event }) => ({
    deferred: event.type === 'LOGIN' || event.type === 'CALLBACK' ? [...context.deferred, event] : context.deferred,
  })),
  'forget the stored session': spawnChild<
    GrantContext,
    GrantEvent,
    undefined,
    GrantEvent,
    { src: 'remove stored session'; logic: typeof removeStoredSession; id: string | undefined }
  >('remove stored session', {
    input: ({ context }) => ({ services: context.services, storageKey: context.options.storageKey, machine: context.grant }),
  }),
  'replay deferred events': enqueueActions<GrantContext, GrantEvent, undefined, GrantEvent, never, never, never, never, never>(
    ({ context, enqueue }) => {
      const deferred: DeferredEvent[] = context.deferred;
      enqueue.assign({ deferred: [] });
      for (const event of deferred) enqueue.raise(event);
    },
  ),
};

// ---------------------------------------------------------------------------
// Delays

/** How long a failed restore waits before it reads the storage again. */
export const RESTORE_RETRY_MS = 5_000;

type DelayArgs = { context: GrantContext };

/** The named delays of the lifecycle, to spread into a grant machine's `setup({ delays })`; they run on the actor's clock. */
export const lifecycleDelays = {
  // Set when the attempt failed (`wait before the next attempt`): the jittered backoff, or the server's Retry-After.
  'backoff delay': ({ context }: DelayArgs) => Math.max(0, (context.retryNotBefore ?? 0) - context.services.clock.now()),
  'restore retry delay': () => RESTORE_RETRY_MS,
};

// ---------------------------------------------------------------------------
// States

/** The invoke ids of the lifecycle's actors; a grant machine's `children` type includes these. */
export type LifecycleChildren = {
  readSession: 'read stored session';
  expiryTimer: 'wait for token expiry';
  refreshLock: 'hold the refresh lock';
  checkStore: 'read the session to renew';
  renewTokens: 'renew tokens';
  endSession: 'end session';
};

/** The lifecycle's `setup()`: its `createStateConfig` type-checks the shared states. */
export const lifecycle = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: LifecycleChildren;
  },
  actors: lifecycleActors,
  guards: lifecycleGuards,
  actions: lifecycleActions,
  delays: lifecycleDelays,
});

/** The stored session an invoke read, as a guard's or an action's params. */
export const storedBlob = <Blob extends SessionBlob | null | undefined>({ event }: { event: { output: Blob } }) => ({ blob: event.output });
/** What an invoke threw (or an actor reported), as a guard's or an action's params. */
export const thrownError = ({ event }: { event: { error: unknown } }) => ({ error: event.error });

/** What `restoring` reads: nothing when restoring is off, unless a deferred `CALLBACK` needs its pending authorization. */
export function sessionToRestore({ context }: { context: GrantContext }): ReadSessionInput {
  const callbackWaiting = context.deferred.some((event) => event.type === 'CALLBACK');
  return {
    services: context.services,
    storageKey: context.options.storageKey,
    machine: context.grant,
    skip: !context.options.restore && !callbackWaiting,
    callbackWaiting,
  };
}

/** The session is usable; the expiry timer runs. Placed at a grant machine's root as `authenticated`. */
export const authenticatedState = lifecycle.createStateConfig({
  // Targeted by the refresh's substates (`#authenticated`).
  id: 'authenticated',
  tags: ['signedIn', 'ready'],
  invoke: {
    id: 'expiryTimer',
    src: 'wait for token expiry',
    input: ({ context }) => ({ fireAt: expiryTimerFiresAt(context), services: context.services }),
  },
  on: {
    EXPIRY_DUE: [
      { guard: 'tokens can be renewed', target: 'refreshing' },
      {
        target: 'error',
        actions: [
          'forget tokens',
          { type: 'fail with', params: { code: 'login_required', description: 'the access token expired and cannot be renewed' } },
          { type: 'forget the stored session' },
        ],
      },
    ],
    REFRESH: 'refreshing',
    LOGOUT: { target: 'loggingOut', actions: 'set tokens aside' },
  },
});

/**
 * How a renewal attempt that failed goes on (a request's error, or a lock that could not be taken):
 * the session ends (`invalid_grant`, another end-user), the attempt is made again after its backoff,
 * the still-valid token is served until a later renewal, or the tokens are set aside for `RETRY`.
 */
const renewalFailed = [
  {
    guard: { type: 'the server ended the session', params: thrownError },
    target: '#error',
    actions: ['forget tokens', { type: 'remember failure', params: thrownError }],
  },
  {
    // A mixed-up session ends like one the server ended (the stored session is already removed).
    guard: { type: 'the refreshed ID token names another user', params: thrownError },
    target: '#error',
    actions: ['forget tokens', { type: 'remember failure', params: thrownError }],
  },
  {
    guard: { type: 'another attempt is allowed', params: thrownError },
    target: '#refreshing.retrying',
    actions: { type: 'wait before the next attempt', params: thrownError },
  },
  {
    // Served until a later renewal, which waits out the hold-back: no request loop.
    guard: 'the access token is still valid',
    target: '#authenticated',
    actions: [
      { type: 'remember failure', params: thrownError },
      { type: 'hold renewals back', params: thrownError },
    ],
  },
  {
    // Never drop a refresh token on a failure: RETRY spends it later, once the backoff is over.
    target: '#error',
    actions: [
      'set tokens aside',
      { type: 'remember failure', params: thrownError },
      { type: 'hold renewals back', params: thrownError },
    ],
  },
] as const;

/**
 * A refresh is under way; the current access token stays usable. Placed at a grant machine's root as
 * `refreshing`. An attempt waits for the refresh lock (single flight across tabs and processes), checks
 * the store (another tab may have logged out, or renewed already), then sends the request; a transient
 * failure waits in `retrying` (the lock released) before the next attempt.
 */
export const refreshingState = lifecycle.createStateConfig({
  // Targeted from inside its attempt (`#refreshing.retrying`).
  id: 'refreshing',
  tags: ['busy', 'signedIn', 'renewing', 'ready'],
  initial: 'attempt',
  exit: 'forget the attempts',
  on: {
    LOGOUT: { target: 'loggingOut', actions: 'set tokens aside' },
  },
  states: {
    attempt: {
      invoke: {
        id: 'refreshLock',
        src: 'hold the refresh lock',
        input: ({ context }) => ({ services: context.services, storageKey: context.options.storageKey }),
      },
      initial: 'waitingForLock',
      states: {
        waitingForLock: {
          on: {
            REFRESH_LOCK_GRANTED: 'checkingStore',
            REFRESH_LOCK_FAILED: renewalFailed,
          },
        },
        checkingStore: {
          invoke: {
            id: 'checkStore',
            src: 'read the session to renew',
            input: ({ context }) => ({ services: context.services, storageKey: context.options.storageKey, grant: context.grant }),
            onDone: [
              {
                guard: { type: 'the session ended elsewhere', params: storedBlob },
                target: '#error',
                actions: [
                  'forget tokens',
                  { type: 'fail with', params: { code: 'login_required', description: 'the session ended elsewhere: another tab or process logged out' } },
                ],
              },
              {
                guard: { type: 'another tab stored fresh tokens', params: storedBlob },
                target: '#authenticated',
                actions: { type: 'remember new session', params: ({ event }) => storedAsNewSession(event.output) },
              },
              {
                guard: { type: 'another tab stored newer tokens', params: storedBlob },
                target: 'requesting',
                actions: { type: 'adopt the stored tokens', params: storedBlob },
              },
              { target: 'requesting' },
            ],
          },
        },
        requesting: {
          invoke: {
            id: 'renewTokens',
            src: 'renew tokens',
            input: ({ context }): RenewInput => {
              if (context.tokens === undefined) throw new TypeError('refreshing without tokens');
              return {
                grant: context.grant,
                ...runtimeOf(context),
                tokens: context.tokens,
                savedAt: context.savedAt,
                generation: context.generation,
                scopes: requestedScopes(context),
                resource: resourceOf(context),
              };
            },
            onDone: { target: '#authenticated', actions: { type: 'remember new session', params: ({ event }) => event.output } },
            onError: renewalFailed,
          },
        },
      },
    },
    retrying: {
      after: { 'backoff delay': 'attempt' },
    },
  },
});

/** Revokes and clears storage; a revocation failure is recorded in `error` but does not block. Placed as `loggingOut`. */
export const loggingOutState = lifecycle.createStateConfig({
  tags: ['busy', 'ready'],
  invoke: {
    id: 'endSession',
    src: 'end session',
    input: ({ context }) => ({
      provider: context.provider,
      client: context.client,
      services: context.services,
      storageKey: context.options.storageKey,
      tokens: context.staleTokens,
    }),
    onDone: {
      target: 'idle',
      actions: ['forget tokens', { type: 'remember logout outcome', params: ({ event }) => event.output }],
    },
    // The session could not be removed from storage: the logout failed, and says so. The tokens stay set
    // aside, so LOGOUT again revokes and removes them.
    onError: {
      target: 'error',
      actions: { type: 'remember failure', params: thrownError },
    },
  },
});

/**
 * Root-level transitions every grant machine has: another tab or process
 * changed the stored session (the browser helper's tab sync).
 */
export const sessionChangedTransitions = lifecycle.createStateConfig({
  on: {
    SESSION_CHANGED: [
      {
        guard: { type: 'the event carries tokens', params: ({ event }) => ({ tokens: event.tokens }) },
        target: '.authenticated',
        actions: 'adopt the tokens of another tab',
      },
      // The other side already cleared storage, a login in progress included.
      { target: '.idle', actions: ['forget tokens', 'forget the login in progress', 'clear failure'] },
    ],
  },
}).on;
