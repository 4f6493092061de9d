/**
 * The token lifecycle every grant shares: `authenticated` ⇄ `refreshing`, the
 * expiry timer, `loggingOut`, and the session-changed handling.
 *
 * How it is shared: every grant machine uses the same context and event types
 * (`GrantContext`, `GrantEvent`), so this file declares the lifecycle once
 * with its own `setup()` — its actors (the work, in `lifecycleActors.ts`),
 * guards, actions and delays — and builds the
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
import { assign, enqueueActions, setup, spawnChild } from 'xstate';
import { OAuthError, type OAuthErrorCode } from '../src/errors.js';
import type { ProviderConfig, TokenSet } from '../src/protocol/types.js';
import { readSession, type SessionBlob } from './persistence.js';
import {
  EndUserChangedError,
  lifecycleActors,
  removeStoredSession,
  storedAsNewSession,
  toOAuthError,
  type LogoutOutcome,
  type NewSession,
  type ReadSessionInput,
  type RenewInput,
} from './lifecycleActors.js';
import { renewalBackoff } from '../src/session/backoff.js';
import { accessTokenIsValid, renewalDueAt, tokensAreFresh } from '../src/session/freshness.js';
import { isNewerSession } from '../src/session/newer.js';
import type {
  DeferredEvent,
  GrantContext,
  GrantEvent,
  GrantInput,
  GrantKind,
  GrantTag,
  LoginRequest,
  ResolvedGrantOptions,
} from './types.js';
import { dpopSessionOf, needsDiscovery, requestedScopes, resolveGrantOptions, RUNTIME, runtimeOf, withRuntime } from './types.js';

// ---------------------------------------------------------------------------
// Context

/** The initial context of a grant machine, from its input. */
export function initialGrantContext(grant: GrantKind, input: GrantInput): GrantContext {
  const options = resolveGrantOptions(input.options);
  return {
    grant,
    [RUNTIME]: {
      ...(needsDiscovery(input.provider) ? { provider: undefined, discover: input.provider } : { provider: input.provider }),
      client: input.client,
      services: input.services,
      options,
      ...dpopSessionOf(input, options),
    },
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
  const due = renewalDueAt(tokens, context.savedAt, runtimeOf(context).options) ?? tokens.expiresAt;
  return Math.max(due, context.retryNotBefore ?? due);
}

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
  'the session at the provider is to end too': ({ context }: GuardArgs) => context.endSession !== undefined,
  'the provider must be discovered': ({ context }: GuardArgs) => context[RUNTIME].provider === undefined,
  // A server that answered (an error status, a bad document) may answer better later; a mistake of ours will not.
  'the failure may pass': ({ context }: GuardArgs) => context.error?.retryable === true,
  'tokens can be renewed': ({ context }: GuardArgs) => canRenew(context.grant, context.tokens),
  'set-aside tokens can be renewed': ({ context }: GuardArgs) => canRenew(context.grant, context.staleTokens),
  'the access token is still valid': ({ context }: GuardArgs) =>
    context.tokens !== undefined && accessTokenIsValid(context.tokens, runtimeOf(context).services.clock.now()),
  'the server ended the session': (_: GuardArgs, params: { error: unknown }) => toOAuthError(params.error).code === 'invalid_grant',
  'the renewal may be sent again with the DPoP nonce': ({ context }: GuardArgs, params: { error: unknown }) =>
    toOAuthError(params.error).code === 'use_dpop_nonce' && context.dpopNonceRetried !== true,
  'the refreshed ID token names another user': (_: GuardArgs, params: { error: unknown }) => params.error instanceof EndUserChangedError,
  // A transient failure is tried again, at most `maxRefreshAttempts` requests in all.
  'another attempt is allowed': ({ context }: GuardArgs, params: { error: unknown }) =>
    toOAuthError(params.error).retryable && (context.refreshAttempts ?? 0) + 1 < runtimeOf(context).options.maxRefreshAttempts,
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
    const { options, services } = runtimeOf(context);
    return stored?.tokens !== undefined && tokensAreFresh(stored.tokens, stored.savedAt, options, services.clock.now());
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
    const { services, options } = runtimeOf(context);
    const wait = renewalBackoff(services.crypto, options.retryBaseMs, failures, toOAuthError(params.error));
    return { renewalFailures: failures, retryNotBefore: services.clock.now() + wait };
  }),
  'remember failure': assign<GrantContext, GrantEvent, { error: unknown }, GrantEvent, never>((_, params) => ({
    error: toOAuthError(params.error).toJSON(),
  })),
  // The failure shows in context while the still-valid token is served; the next attempt waits out its backoff.
  'wait before the next attempt': assign<GrantContext, GrantEvent, { error: unknown }, GrantEvent, never>(({ context }, params) => {
    const attempts = (context.refreshAttempts ?? 0) + 1;
    const error = toOAuthError(params.error);
    const { services, options } = runtimeOf(context);
    const wait = renewalBackoff(services.crypto, options.retryBaseMs, attempts, error);
    return { error: error.toJSON(), refreshAttempts: attempts, retryNotBefore: services.clock.now() + wait };
  }),
  'forget the attempts': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({
    refreshAttempts: undefined,
    refreshParams: undefined,
    dpopNonceRetried: undefined,
  }),
  'send the renewal again with the DPoP nonce': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ dpopNonceRetried: true }),
  // A caller's REFRESH may carry extra token parameters for this renewal (`refresh({ tokenParams })`).
  'remember refresh parameters': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ event }) => ({
    refreshParams: event.type === 'REFRESH' ? event.tokenParams : undefined,
  })),
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
          savedAt: runtimeOf(context).services.clock.now(),
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
    if (event.tokenParams !== undefined) login.tokenParams = event.tokenParams;
    if (event.resource !== undefined) login.resource = event.resource;
    if (event.appState !== undefined) login.appState = event.appState;
    if (event.returnTo !== undefined) login.returnTo = event.returnTo;
    return { login };
  }),
  'forget the login in progress': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({
    pending: undefined,
    exchange: undefined,
    device: undefined,
  }),
  'clear failure': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ error: undefined }),
  'remember the discovered provider': assign<GrantContext, GrantEvent, { provider: ProviderConfig }, GrantEvent, never>(
    ({ context }, params) => ({ [RUNTIME]: { ...context[RUNTIME], provider: params.provider, discover: undefined } }),
  ),
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
  'remember the end-session request': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ event }) => ({
    endSession: event.type === 'LOGOUT' ? event.endSession : undefined,
  })),
  'remember where the provider logout went': assign<GrantContext, GrantEvent, { url: string }, GrantEvent, never>(({ context }, params) => ({
    loggedOut: { revoked: [], notRevoked: [], ...context.loggedOut, endSessionUrl: params.url },
  })),
  'forget the end-session request': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ endSession: undefined }),
  'remember logout outcome': assign<GrantContext, GrantEvent, LogoutOutcome, GrantEvent, never>((_, params) => ({
    error: params.revocationError,
    loggedOut: { revoked: params.revoked, notRevoked: params.notRevoked },
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
    input: ({ context }) => withRuntime(context, { machine: context.grant }),
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
/** How long a failed discovery waits before it asks the issuer again (an outage, a 5xx, a network failure). */
export const DISCOVERY_RETRY_MS = 30_000;

type DelayArgs = { context: GrantContext };

/** The named delays of the lifecycle, to spread into a grant machine's `setup({ delays })`; they run on the actor's clock. */
export const lifecycleDelays = {
  // Set when the attempt failed (`wait before the next attempt`): the jittered backoff, or the server's Retry-After.
  'backoff delay': ({ context }: DelayArgs) => Math.max(0, (context.retryNotBefore ?? 0) - runtimeOf(context).services.clock.now()),
  'restore retry delay': () => RESTORE_RETRY_MS,
  'discovery retry delay': () => DISCOVERY_RETRY_MS,
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
  discover: 'discover the provider';
  endProviderSession: 'end the session at the provider';
};

/**
 * Where every grant machine starts: with the provider's endpoints given it
 * goes straight on to `restoring`; with only its issuer, to `discovering`.
 * Placed at a grant machine's root as `starting`, its initial state.
 */
export const startingState = {
  always: [{ guard: 'the provider must be discovered', target: 'discovering' }, { target: 'restoring' }],
} as const;

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

/**
 * How every grant's `restoring` ends when reading the store failed: a store that could not be read
 * waits in `restoreFailed` (a session may be stored); a blob that did not validate was removed, so
 * there is no session and the grant starts from `idle`. Placed after a grant's own branches.
 */
export const whenRestoreFails = [
  {
    guard: { type: 'the storage could not be read', params: thrownError },
    target: 'restoreFailed',
    actions: [{ type: 'remember failure', params: thrownError }, 'replay deferred events'],
  },
  { target: 'idle', actions: [{ type: 'remember failure', params: thrownError }, 'replay deferred events'] },
] as const;

/** What `restoring` reads: nothing when restoring is off, unless a deferred `CALLBACK` needs its pending authorization. */
export function sessionToRestore({ context }: { context: GrantContext }): ReadSessionInput {
  const callbackWaiting = context.deferred.some((event) => event.type === 'CALLBACK');
  return withRuntime(context, { machine: context.grant, skip: !runtimeOf(context).options.restore && !callbackWaiting, callbackWaiting });
}

/**
 * Reads the issuer's metadata (RFC 8414 / OpenID Connect Discovery); a login
 * or a callback that comes meanwhile waits, and is replayed once the stored
 * session is restored. Placed at a grant machine's root as `discovering`.
 */
export const discoveringState = lifecycle.createStateConfig({
  tags: ['busy'],
  invoke: {
    id: 'discover',
    src: 'discover the provider',
    input: ({ context }) => withRuntime(context, { grant: context.grant }),
    onDone: { target: 'restoring', actions: { type: 'remember the discovered provider', params: ({ event }) => ({ provider: event.output }) } },
    onError: { target: 'discoveryFailed', actions: { type: 'remember failure', params: thrownError } },
  },
  on: { LOGIN: { actions: 'defer event' }, CALLBACK: { actions: 'defer event' } },
});

/**
 * Discovery failed: nothing can be sent before the endpoints are known. A
 * failure that may pass (the issuer down, a 5xx) is tried again after the
 * named delay; `RETRY`, or a `LOGIN` (replayed once discovery is done), tries
 * at once. Tagged `error` without `ready`: the clients' `ready` rejects with it.
 * Placed at a grant machine's root as `discoveryFailed`.
 */
export const discoveryFailedState = lifecycle.createStateConfig({
  tags: ['error'],
  after: { 'discovery retry delay': { guard: 'the failure may pass', target: 'discovering', actions: 'clear failure' } },
  on: {
    RETRY: { target: 'discovering', actions: 'clear failure' },
    LOGIN: { target: 'discovering', actions: ['clear failure', 'defer event'] },
  },
});

/** The session is usable; the expiry timer runs. Placed at a grant machine's root as `authenticated`. */
export const authenticatedState = lifecycle.createStateConfig({
  // Targeted by the refresh's substates (`#authenticated`).
  id: 'authenticated',
  tags: ['signedIn', 'ready'],
  invoke: {
    id: 'expiryTimer',
    src: 'wait for token expiry',
    input: ({ context }) => withRuntime(context, { fireAt: expiryTimerFiresAt(context) }),
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
    REFRESH: { target: 'refreshing', actions: 'remember refresh parameters' },
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
 * The session's lock (`storageKey + ':refresh'`, when the storage has one), held while the state that
 * invokes it is active: a refresh attempt, or a code exchange, which must not race a refresh of the old
 * session in another tab or process. It sends `REFRESH_LOCK_GRANTED` once held, `REFRESH_LOCK_FAILED`
 * when it cannot be taken.
 */
export const sessionLock = {
  id: 'refreshLock',
  src: 'hold the refresh lock',
  input: ({ context }: { context: GrantContext }) => withRuntime(context, {}),
} as const;

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
      invoke: sessionLock,
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
            input: ({ context }) => withRuntime(context, { grant: context.grant }),
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
              return withRuntime(context, {
                grant: context.grant,
                tokens: context.tokens,
                savedAt: context.savedAt,
                generation: context.generation,
                scopes: requestedScopes(context),
                resource: resourceOf(context),
                extraParams: context.refreshParams,
              });
            },
            onDone: { target: '#authenticated', actions: { type: 'remember new session', params: ({ event }) => event.output } },
            onError: [
              // RFC 9449 §8: refused for want of the server's DPoP nonce, which its answer carried: sent again once, under the same lock.
              {
                guard: { type: 'the renewal may be sent again with the DPoP nonce', params: thrownError },
                target: 'requesting',
                reenter: true,
                actions: 'send the renewal again with the DPoP nonce',
              },
              ...renewalFailed,
            ],
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
  // The LOGOUT that entered: whether the provider's session is to end too.
  entry: 'remember the end-session request',
  invoke: {
    id: 'endSession',
    src: 'end session',
    input: ({ context }) => withRuntime(context, { tokens: context.staleTokens }),
    onDone: [
      {
        // Revoked and cleared here; the ID token is kept for the provider's `id_token_hint`.
        guard: 'the session at the provider is to end too',
        target: 'endingProviderSession',
        actions: { type: 'remember logout outcome', params: ({ event }) => event.output },
      },
      {
        target: 'idle',
        actions: ['forget tokens', { type: 'remember logout outcome', params: ({ event }) => event.output }],
      },
    ],
    // The session could not be removed from storage: the logout failed, and says so. The tokens stay set
    // aside, so LOGOUT again revokes and removes them.
    onError: {
      target: 'error',
      actions: [{ type: 'remember failure', params: thrownError }, 'forget the end-session request'],
    },
  },
});

/**
 * OpenID Connect RP-Initiated Logout 1.0: after `loggingOut`, the user agent
 * goes to the provider's `end_session_endpoint` (`id_token_hint`, `state`,
 * `post_logout_redirect_uri`), so the next login is not silent. The local
 * logout is done either way: a failure here (no endpoint, storage) is kept in
 * `error`. Placed at a grant machine's root as `endingProviderSession`.
 */
export const endingProviderSessionState = lifecycle.createStateConfig({
  tags: ['busy', 'ready'],
  invoke: {
    id: 'endProviderSession',
    src: 'end the session at the provider',
    input: ({ context }) => {
      const request = context.endSession ?? {};
      return withRuntime(context, { idToken: context.staleTokens?.idToken, request });
    },
    onDone: {
      target: 'idle',
      actions: ['forget tokens', 'forget the end-session request', { type: 'remember where the provider logout went', params: ({ event }) => ({ url: event.output }) }],
    },
    onError: {
      target: 'idle',
      actions: ['forget tokens', 'forget the end-session request', { type: 'remember failure', params: thrownError }],
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
