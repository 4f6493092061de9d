/**
 * The work the token lifecycle's chart invokes by name (`machines/lifecycle.ts`
 * places it): the expiry timer, the refresh lock, reading and storing the
 * session, the refresh request, ending a session. Plain async functions and
 * callback actors over the services; the chart decides when each runs.
 */
import { fromCallback, fromPromise } from 'xstate';
import { OAuthError, type OAuthErrorJSON } from '../src/errors.js';
import { discover, type DiscoveryOptions } from '../src/protocol/discovery.js';
import { decodeJwtPayload } from '../src/protocol/idToken.js';
import { refreshTokens, requestClientCredentials, revokeToken } from '../src/protocol/operations.js';
import type { ProviderConfig, TokenSet } from '../src/protocol/types.js';
import type { Services, StorageService } from '../src/services/types.js';
import { accessTokenIsValid } from '../src/session/freshness.js';
import { isNewerSession, type SessionStamp } from '../src/session/newer.js';
import { pendingLoginKey, readSession, removeSession, writeProviderLogout, writeSession, type SessionBlob } from './persistence.js';
import { buildEndSessionUrl, type EndSessionUrlOptions } from '../src/protocol/endSession.js';
import { createState } from '../src/protocol/random.js';
import { startTimer } from './timers.js';
import { RUNTIME, runtimeOf, type EndSessionRequest, type GrantEvent, type GrantKind, type LogoutResult, type RevocableToken, type WithRuntime } from './types.js';

/**
 * Anything thrown, as an `OAuthError`. A `TypeError` is what the protocol
 * builders throw for bad arguments (a missing redirect URI, a malformed
 * endpoint…): a configuration mistake the library caught before sending
 * anything, so `configuration_error` (never a server's code) and never retried.
 */
export function toOAuthError(thrown: unknown): OAuthError {
  if (thrown instanceof OAuthError) return thrown;
  if (thrown instanceof TypeError) {
    return new OAuthError('configuration_error', { description: thrown.message, retryable: false, cause: thrown });
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

export interface ExpiryTimerInput extends WithRuntime {
  fireAt: number | undefined;
}

/** Sends `EXPIRY_DUE` at `fireAt` by `services.clock`; never without a `fireAt`. */
const waitForTokenExpiry = fromCallback<GrantEvent, ExpiryTimerInput>(({ input, sendBack }) => {
  if (input.fireAt === undefined) return undefined;
  const { clock } = runtimeOf(input).services;
  return startTimer(clock, input.fireAt - clock.now(), () => sendBack({ type: 'EXPIRY_DUE' }));
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

export interface RenewInput extends WithRuntime {
  grant: GrantKind;
  /** The tokens whose refresh token is spent: ours, or newer ones another tab stored (adopted while checking the store). */
  tokens: TokenSet;
  savedAt: number | undefined;
  generation: number | undefined;
  scopes: string[] | undefined;
  /** RFC 8707: sent with a client-credentials renewal. */
  resource: string | undefined;
  /** Extra parameters of a refresh-token request (`refresh({ tokenParams })`). */
  extraParams?: Record<string, string> | undefined;
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
const holdRefreshLock = fromCallback<GrantEvent, WithRuntime>(({ input, sendBack }) => {
  const { services, options } = runtimeOf(input);
  const { storage } = services;
  const key = refreshLockKey(options.storageKey);
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
const readSessionToRenew = fromPromise<SessionBlob | null | undefined, WithRuntime & { grant: GrantKind }>(
  async ({ input }) => {
    const { services, options } = runtimeOf(input);
    try {
      return await readSession(services.storage, options.storageKey, input.grant);
    } catch {
      // An unreadable store must not block a refresh, nor end the session: we still hold our own tokens.
      return undefined;
    }
  },
);

/** The stored session; `undefined` when the store cannot be read now. */
async function readStoredQuietly(input: RenewInput): Promise<SessionBlob | null | undefined> {
  try {
    const { services, options } = runtimeOf(input);
    return await readSession(services.storage, options.storageKey, input.grant);
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
export class EndUserChangedError extends OAuthError {}

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
  const { provider, client, services, dpop } = runtimeOf(input);
  const ctx = { provider, client, services, ...(dpop === undefined ? {} : { dpop }) };
  const clientCredentials = (): Promise<TokenSet> =>
    requestClientCredentials({
      ...ctx,
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
      ...(input.resource === undefined ? {} : { resource: input.resource }),
      // `refresh({ tokenParams })` goes with the renewal, whichever request it takes.
      ...(input.extraParams === undefined ? {} : { extraParams: input.extraParams }),
    });
  if (current.refreshToken === undefined) {
    if (input.grant === 'clientCredentials') return clientCredentials();
    throw new OAuthError('login_required', { description: 'the session has no refresh token', retryable: false });
  }
  try {
    // OIDC Core §12.2: a refreshed ID token is checked like the first one, minus the nonce, and must name the same user.
    const refreshed = await refreshTokens({
      ...ctx,
      refreshToken: current.refreshToken,
      idToken: {},
      ...(input.extraParams === undefined ? {} : { extraParams: input.extraParams }),
    });
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
  const { services, options } = runtimeOf(input);
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
  const { services, options } = runtimeOf(input);
  underLock(services.storage, refreshLockKey(options.storageKey), request);
  return request;
});

/** A stored session as the tokens a refresh adopts. */
export function storedAsNewSession(blob: SessionBlob | null | undefined): NewSession {
  if (blob?.tokens === undefined) throw new TypeError('adopting a stored session without tokens');
  return { tokens: blob.tokens, savedAt: blob.savedAt, generation: blob.generation ?? 0 };
}

export interface EndSessionInput extends WithRuntime {
  tokens: TokenSet | undefined;
}

/** What logging out gives back: what was (not) revoked, and the first revocation failure, which did not stop the logout. */
export interface LogoutOutcome extends LogoutResult {
  revocationError?: OAuthErrorJSON;
}

/** RFC 7009: revokes the refresh token, then the access token, where the provider has a revocation endpoint; clears storage. */
const endSession = fromPromise<LogoutOutcome, EndSessionInput>(async ({ input, signal }) => {
  const outcome: LogoutOutcome = { revoked: [], notRevoked: [] };
  const { tokens } = input;
  const { provider, client, services, options, dpop } = runtimeOf(input);
  // RFC 7009 §2.1: revoking the refresh token first stops new access tokens even if the second call fails.
  const held: [string, RevocableToken][] = [];
  if (tokens?.refreshToken !== undefined) held.push([tokens.refreshToken, 'refresh_token']);
  if (tokens !== undefined) held.push([tokens.accessToken, 'access_token']);
  let waitAsked = false;
  for (const [token, tokenTypeHint] of held) {
    if (provider.revocationEndpoint === undefined) {
      outcome.notRevoked.push({ token: tokenTypeHint, reason: 'no_revocation_endpoint' });
      continue;
    }
    if (waitAsked) {
      outcome.notRevoked.push({ token: tokenTypeHint, reason: 'not_attempted' });
      continue;
    }
    try {
      await revokeToken({ provider, client, services, signal, token, tokenTypeHint, ...(dpop === undefined ? {} : { dpop }) });
      outcome.revoked.push(tokenTypeHint);
    } catch (thrown) {
      const error = toOAuthError(thrown);
      outcome.revocationError ??= error.toJSON();
      const refused = error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429;
      outcome.notRevoked.push({ token: tokenTypeHint, reason: refused ? 'refused' : 'failed', error: error.toJSON() });
      // RFC 9110 §10.2.3: a server that asked to wait gets no second request now; the session ends all the same.
      if (error.retryAfterMs !== undefined) waitAsked = true;
    }
  }
  await removeSession(services.storage, options.storageKey);
  // A login in progress ends with the session (a logout cancels it).
  await services.storage.remove(pendingLoginKey(options.storageKey)).catch(() => undefined);
  // A DPoP-bound session's key goes with it (its tokens are revoked or dropped); best effort, as the next login makes a new one.
  await dpop?.forget().catch(() => undefined);
  // The claims of redeemed codes are the session's too (see claimPendingAuthorization); best effort, since the
  // server refuses a code sent twice anyway.
  await services.storage.remove(`${options.storageKey}:claims`).catch(() => undefined);
  return outcome;
});

export interface ReadSessionInput extends WithRuntime {
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
  const { services, options } = runtimeOf(input);
  const session = await readSession(services.storage, options.storageKey, input.machine);
  const pendingKey = pendingLoginKey(options.storageKey);
  // A login in progress that does not validate is only dropped (readSession removed it): the session stands.
  let pending = await readSession(services.storage, pendingKey, input.machine).catch((error: unknown) => {
    if (toOAuthError(error).code === 'invalid_snapshot') return null;
    throw error;
  });
  const now = services.clock.now();
  const expired =
    pending !== null &&
    ((pending.state === 'awaitingCallback' && pending.pending !== undefined && pending.pending.expiresAt <= now && !input.callbackWaiting) ||
      (pending.state === 'awaitingUser' && pending.device !== undefined && pending.device.expiresAt <= now));
  if (expired) {
    await removeSession(services.storage, pendingKey).catch(() => undefined);
    pending = null;
  }
  // A callback waiting is for the login in progress; otherwise a stored session comes first (a login given up at
  // the provider does not sign the user out), and a login in progress is resumed only without one.
  if (pending !== null && (input.callbackWaiting || session === null)) return pending;
  return session;
});

/**
 * Removes the stored login or expired session this machine forgets, in the
 * background; never fails (a failure leaves a blob that the next restore
 * rejects or replaces). A stored session whose access token is still valid is
 * kept: the machine forgetting a login in progress or its expired tokens
 * never had it, so another tab or process stored it meanwhile.
 */
export const removeStoredSession = fromPromise<void, WithRuntime & { machine: GrantKind }>(async ({ input }) => {
  const { services, options } = runtimeOf(input);
  const { storage, clock } = services;
  // The login in progress this machine forgets.
  await storage.remove(pendingLoginKey(options.storageKey)).catch(() => undefined);
  const stored = await readSession(storage, options.storageKey, input.machine).catch(() => null);
  if (stored?.state === 'authenticated' && stored.tokens !== undefined && accessTokenIsValid(stored.tokens, clock.now())) return;
  await storage.remove(options.storageKey).catch(() => undefined);
});

export interface ProviderLogoutInput extends WithRuntime {
  /** The ID token of the session just ended: `id_token_hint` (RP-Initiated Logout §2 RECOMMENDS it). */
  idToken: string | undefined;
  request: EndSessionRequest;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2: keeps a fresh `state`, then sends
 * the user agent to the provider's `end_session_endpoint` with `id_token_hint`,
 * `client_id`, `post_logout_redirect_uri` and that `state`. Resolves with the URL.
 */
const endProviderSession = fromPromise<string, ProviderLogoutInput>(async ({ input }) => {
  const { provider, client, services, options } = runtimeOf(input);
  const state = createState(services.crypto);
  const urlOptions: EndSessionUrlOptions = { state };
  if (input.idToken !== undefined) urlOptions.idTokenHint = input.idToken;
  if (input.request.postLogoutRedirectUri !== undefined) urlOptions.postLogoutRedirectUri = input.request.postLogoutRedirectUri;
  const url = buildEndSessionUrl(provider, client, urlOptions);
  // Kept before navigating: navigation may unload the page.
  await writeProviderLogout(services.storage, options.storageKey, { state, expiresAt: services.clock.now() + options.callbackTtlMs });
  await services.navigate?.(url);
  return url;
});

/** The endpoint each grant needs beyond the token endpoint, and why. */
const GRANT_NEEDS: Partial<Record<GrantKind, { field: keyof ProviderConfig; what: string }>> = {
  authorizationCode: { field: 'authorizationEndpoint', what: 'authorization_endpoint (RFC 8414 §2)' },
  implicit: { field: 'authorizationEndpoint', what: 'authorization_endpoint (RFC 8414 §2)' },
  deviceCode: { field: 'deviceAuthorizationEndpoint', what: 'device_authorization_endpoint (RFC 8628 §4)' },
};

/**
 * Reads the issuer's metadata (RFC 8414, falling back to OpenID Connect
 * Discovery) into the provider: the given fields override the discovered
 * ones. Metadata without an endpoint the grant needs is `unsupported_operation`.
 */
const discoverProvider = fromPromise<ProviderConfig, WithRuntime & { grant: GrantKind }>(async ({ input, signal }) => {
  const slot = input[RUNTIME];
  const given = slot.discover;
  if (given === undefined) throw new TypeError('discovering without an issuer');
  const options: DiscoveryOptions = { signal };
  if (given.allowInsecureRequests === true) options.allowInsecureRequests = true;
  // A profile's multi-tenant issuer (its documents name `{tenantid}` where the request named the tenant).
  if (given.quirks?.acceptsDiscoveredIssuer !== undefined) options.acceptIssuer = given.quirks.acceptsDiscoveredIssuer;
  const { fallback, issuer: _requested, ...overrides } = given;
  let discovered: ProviderConfig;
  try {
    discovered = await discover(given.issuer, { fetch: slot.services.fetch, clock: slot.services.clock }, options);
  } catch (error) {
    // No metadata document at all (RFC 8414 §3: 404, or 410 Gone): the configured fallback, relative endpoints against the issuer.
    if (fallback === undefined || !(error instanceof OAuthError && (error.status === 404 || error.status === 410))) throw error;
    discovered = { issuer: given.issuer, baseUrl: given.issuer, ...fallback };
  }
  // The issuer stays the document's: equal to the given one, or one its quirks accept (Entra's `{tenantid}` template).
  const merged: ProviderConfig = { ...discovered };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  const needs = GRANT_NEEDS[input.grant];
  if (needs !== undefined && typeof merged[needs.field] !== 'string') {
    throw new OAuthError('unsupported_operation', {
      description: `The discovered metadata of ${given.issuer} has no ${needs.what}, which this grant needs`,
      retryable: false,
    });
  }
  return merged;
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
  'discover the provider': discoverProvider,
  'end the session at the provider': endProviderSession,
};
