/**
 * Model-based tests: `xstate/graph` walks each grant machine's chart (with
 * its actors' done and error events listed as events), and every shortest
 * path it finds is replayed on a real actor against the test authorization
 * server, with faults arranged so that each actor ends the way the path
 * says. The replays record every transition the real actors take
 * (inspection `@xstate.microstep`); the last test asserts that every
 * transition of every chart was exercised.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, type AnyStateMachine, type AnyTransitionDefinition, type AnyStateNode, type AnyMachineSnapshot } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { implicitMachine } from '../machines/legacy/implicit.js';
import { passwordMachine } from '../machines/legacy/password.js';
import { expiryTimerFiresAt, RESTORE_RETRY_MS } from '../machines/lifecycle.js';
import type { SessionBlob } from '../machines/persistence.js';
import { discoveryTransitions, providerLogoutTransitions } from './support/discoveryTransitions.js';
import { PUSHED_AUTHORIZATION_TRANSITIONS } from './support/pushedAuthorizationTransitions.js';
import { CLIENT_CREDENTIALS_NONCE_TRANSITION, EXCHANGE_NONCE_TRANSITION, RENEWAL_NONCE_TRANSITION } from './support/dpopNonceTransitions.js';

const DPOP_NONCE = [EXCHANGE_NONCE_TRANSITION, RENEWAL_NONCE_TRANSITION];
import type { GrantContext, GrantEvent, GrantInput, PendingAuthorization } from '../machines/types.js';
import { OAuthError } from '../src/errors.js';
import type { TokenSet } from '../src/protocol/types.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { manualClock, xstateClock, type ManualClock } from '../src/services/clock.js';
import type { Clock, StorageService } from '../src/services/types.js';
import { createHarness, REDIRECT_URI, type Harness, type HarnessOptions } from './machines.fixtures.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * An event of the abstract walk: a caller's event, an actor's done/error event, a delay's event or
 * an event the machine's own actors send (typed loosely on purpose).
 */
type AbstractEvent =
  | GrantEvent
  | { type: `xstate.${'done' | 'error'}.actor.${string}` | `xstate.after.${string}`; output?: unknown; error?: unknown; variant?: string }
  | { type: 'REFRESH_LOCK_FAILED'; error: unknown; variant: string };

/** The options of every replayed actor (and of the abstract walk, so that both count attempts alike). */
const GRANT_OPTIONS = { retryBaseMs: 0, maxRefreshAttempts: 2 };

const ISSUER = 'https://auth.test';
const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;

function abstractTokens(variant: { refresh: boolean; expired?: boolean }): TokenSet {
  const tokens: TokenSet = { accessToken: 'at', tokenType: 'Bearer', expiresAt: variant.expired ? T0 - 1 : T0 + HOUR, raw: {} };
  if (variant.refresh) tokens.refreshToken = 'rt';
  return tokens;
}

const pending: PendingAuthorization = {
  state: 'abstract-state',
  codeVerifier: 'v'.repeat(43),
  redirectUri: REDIRECT_URI,
  scopes: ['openid'],
  createdAt: T0,
  expiresAt: T0 + 600_000,
  issuer: ISSUER,
};

function blob(state: SessionBlob['state'], machine: SessionBlob['machine']): SessionBlob {
  if (state === 'authenticated') return { version: 1, machine, state, tokens: abstractTokens({ refresh: true }), savedAt: T0 };
  if (state === 'awaitingCallback') return { version: 1, machine, state, pending, savedAt: T0 };
  return {
    version: 1,
    machine,
    state,
    device: { deviceCode: 'dc', userCode: 'UC', verificationUri: `${ISSUER}/device`, expiresAt: T0 + 600_000, interval: 5 },
    savedAt: T0,
  };
}

const done = (id: string, output: unknown, variant: string): AbstractEvent => ({ type: `xstate.done.actor.${id}`, output, variant });
const failed = (id: string, code: string, variant: string, status?: number, retryable?: boolean): AbstractEvent => ({
  type: `xstate.error.actor.${id}`,
  error: new OAuthError(code, { status, ...(retryable === undefined ? {} : { retryable }) }),
  variant,
});

/** A stored session newer than the one held: another tab renewed it (fresh), or renewed it long ago (due again). */
function newerSession(context: GrantContext, machine: SessionBlob['machine'], due: boolean): SessionBlob {
  const tokens = { ...abstractTokens({ refresh: true }), accessToken: 'at-newer', refreshToken: 'rt-newer' };
  // Due: stored an hour ago, and about to expire.
  if (due) tokens.expiresAt = T0 + 30_000;
  return { version: 1, machine, state: 'authenticated', tokens, savedAt: due ? T0 - HOUR : T0, generation: (context.generation ?? 0) + 1 };
}

/** The events a caller can send, plus the lifecycle actors' outcomes. */
function lifecycleEvents(context: GrantContext, machine: SessionBlob['machine']): AbstractEvent[] {
  // A renewal keeps a refresh token the session had (rotation or not).
  const refresh = context.tokens?.refreshToken !== undefined;
  const ours: SessionBlob | null =
    context.tokens === undefined
      ? null
      : { version: 1, machine, state: 'authenticated', tokens: context.tokens, savedAt: context.savedAt ?? T0, generation: context.generation ?? 0 };
  // The implicit grant never has a refresh token: every renewal fails with login_required.
  const renewals =
    machine === 'implicit'
      ? [failed('renewTokens', 'login_required', 'no refresh token')]
      : [
          done('renewTokens', { tokens: abstractTokens({ refresh }), savedAt: T0 }, 'renewed'),
          failed('renewTokens', 'invalid_grant', 'invalid_grant', 400),
          failed('renewTokens', 'temporarily_unavailable', 'unavailable', 503, true),
        ];
  const stored = blob('authenticated', machine);
  return [
    { type: 'REFRESH' },
    { type: 'LOGOUT' },
    { type: 'RETRY' },
    { type: 'CANCEL' },
    { type: 'EXPIRY_DUE' },
    { type: 'SESSION_CHANGED' },
    { type: 'SESSION_CHANGED', tokens: abstractTokens({ refresh: machine !== 'implicit' }) },
    done('readSession', null, 'nothing stored'),
    done('readSession', machine === 'implicit' ? { ...stored, tokens: abstractTokens({ refresh: false }) } : stored, 'session stored'),
    failed('readSession', 'invalid_snapshot', 'corrupt'),
    failed('readSession', 'storage_error', 'storage unavailable'),
    { type: `xstate.after.restore retry delay.${machine}.restoreFailed` },
    { type: 'REFRESH_LOCK_GRANTED' },
    { type: 'REFRESH_LOCK_FAILED', error: new OAuthError('storage_error', { retryable: true }), variant: 'lock failed' },
    done('checkStore', ours, 'ours'),
    done('checkStore', null, 'ended elsewhere'),
    ...(machine === 'implicit' ? [] : [done('checkStore', newerSession(context, machine, false), 'newer, fresh'), done('checkStore', newerSession(context, machine, true), 'newer, due')]),
    ...renewals,
    { type: `xstate.after.backoff delay.${machine}.refreshing.retrying` },
    done('endSession', { revoked: ['refresh_token', 'access_token'], notRevoked: [] }, 'revoked'),
    done(
      'endSession',
      {
        revoked: [],
        notRevoked: [{ token: 'access_token', reason: 'failed', error: { name: 'OAuthError', code: 'server_error', retryable: true, status: 503 } }],
        revocationError: { name: 'OAuthError', code: 'server_error', retryable: true, status: 503 },
      },
      'revocation failed',
    ),
    failed('endSession', 'storage_error', 'storage failed'),
  ];
}

function authorizationCodeEvents(snapshot: AnyMachineSnapshot): AbstractEvent[] {
  const context = snapshot.context as GrantContext;
  const refresh = context.login?.scopes === undefined || context.login.scopes.includes('offline_access');
  const events: AbstractEvent[] = [
    { type: 'LOGIN' },
    { type: 'LOGIN', scopes: ['openid'] },
    { type: 'CALLBACK', url: `${REDIRECT_URI}?code=c&state=${context.pending?.state ?? 'none'}&iss=${encodeURIComponent(ISSUER)}` },
    { type: 'CALLBACK', url: `${REDIRECT_URI}?code=c&state=forged&iss=${encodeURIComponent(ISSUER)}` },
    // Its own callback, refused by the server: it ends the pending authorization (a forged one does not).
    { type: 'CALLBACK', url: `${REDIRECT_URI}?error=access_denied&state=${context.pending?.state ?? 'none'}&iss=${encodeURIComponent(ISSUER)}` },
    done('readSession', blob('awaitingCallback', 'authorizationCode'), 'pending stored'),
    // The request is made (never pushed here: the provider has no pushed authorization request endpoint), then opened.
    done('createAuthorization', { pending, params: [], authorizationUrl: `${ISSUER}/authorize?state=${pending.state}`, push: false }, 'created'),
    done('openAuthorization', { pending, authorizationUrl: `${ISSUER}/authorize?state=${pending.state}` }, 'opened'),
    failed('openAuthorization', 'storage_error', 'storage failed'),
    done('exchangeCode', { tokens: abstractTokens({ refresh }), savedAt: T0 }, 'exchanged'),
    done('exchangeCode', { tokens: abstractTokens({ refresh, expired: true }), savedAt: T0 }, 'exchanged, already expired'),
    failed('exchangeCode', 'invalid_grant', 'invalid_grant', 400),
    // Transient: the same code is sent again after the backoff.
    failed('exchangeCode', 'server_error', 'server_error', 500),
    { type: 'xstate.after.exchange retry delay.authorizationCode.exchanging.waiting' },
    ...lifecycleEvents(context, 'authorizationCode'),
  ];
  return events;
}

function clientCredentialsEvents(snapshot: AnyMachineSnapshot): AbstractEvent[] {
  const context = snapshot.context as GrantContext;
  return [
    { type: 'LOGIN' },
    done('requestTokens', { tokens: abstractTokens({ refresh: false }), savedAt: T0 }, 'issued'),
    done('requestTokens', { tokens: abstractTokens({ refresh: false, expired: true }), savedAt: T0 }, 'issued, already expired'),
    failed('requestTokens', 'invalid_client', 'invalid_client', 401),
    ...lifecycleEvents(context, 'clientCredentials'),
  ];
}

const device = { deviceCode: 'dc', userCode: 'UC', verificationUri: `${ISSUER}/device`, expiresAt: T0 + 600_000, interval: 5 };

function deviceCodeEvents(snapshot: AnyMachineSnapshot): AbstractEvent[] {
  const context = snapshot.context as GrantContext;
  const refresh = context.login?.scopes === undefined || context.login.scopes.includes('offline_access');
  return [
    { type: 'LOGIN' },
    { type: 'LOGIN', scopes: ['openid'] },
    done('pollForToken', { tokens: abstractTokens({ refresh, expired: true }), savedAt: T0 }, 'approved, already expired'),
    done('readSession', blob('awaitingUser', 'deviceCode'), 'device stored'),
    done('requestDeviceCode', device, 'issued'),
    failed('requestDeviceCode', 'storage_error', 'storage failed'),
    done('pollForToken', { tokens: abstractTokens({ refresh }), savedAt: T0 }, 'approved'),
    { type: 'POLL_DUE' },
    failed('pollForToken', 'authorization_pending', 'authorization_pending', 400),
    failed('pollForToken', 'slow_down', 'slow_down', 400),
    failed('pollForToken', 'access_denied', 'access_denied', 400),
    ...lifecycleEvents(context, 'deviceCode'),
  ];
}

function passwordEvents(snapshot: AnyMachineSnapshot): AbstractEvent[] {
  const context = snapshot.context as GrantContext;
  const refresh = context.login?.scopes === undefined || context.login.scopes.includes('offline_access');
  return [
    { type: 'LOGIN', ...CREDENTIALS },
    { type: 'LOGIN' },
    { type: 'LOGIN', ...CREDENTIALS, scopes: ['read'] },
    done('requestTokens', { tokens: abstractTokens({ refresh }), savedAt: T0 }, 'issued'),
    done('requestTokens', { tokens: abstractTokens({ refresh, expired: true }), savedAt: T0 }, 'issued, already expired'),
    failed('requestTokens', 'invalid_grant', 'invalid_grant', 400),
    ...lifecycleEvents(context, 'password'),
  ];
}

function implicitCallback(state: string): string {
  const fragment = new URLSearchParams({ access_token: `at-${state}`, token_type: 'Bearer', expires_in: '3600', state, iss: ISSUER });
  return `${REDIRECT_URI}#${fragment}`;
}

function implicitEvents(snapshot: AnyMachineSnapshot): AbstractEvent[] {
  const context = snapshot.context as GrantContext;
  return [
    { type: 'LOGIN' },
    { type: 'CALLBACK', url: implicitCallback(context.pending?.state ?? 'none') },
    { type: 'CALLBACK', url: implicitCallback('forged') },
    { type: 'CALLBACK', url: `${REDIRECT_URI}#error=access_denied&state=${context.pending?.state ?? 'none'}&iss=${encodeURIComponent(ISSUER)}` },
    done('readSession', blob('awaitingCallback', 'implicit'), 'pending stored'),
    done('prepareAuthorization', { pending, authorizationUrl: `${ISSUER}/authorize?state=${pending.state}` }, 'prepared'),
    failed('prepareAuthorization', 'storage_error', 'storage failed'),
    done('storeTokens', { tokens: abstractTokens({ refresh: false }), savedAt: T0 }, 'stored'),
    done('storeTokens', { tokens: abstractTokens({ refresh: false, expired: true }), savedAt: T0 }, 'stored, already expired'),
    ...lifecycleEvents(context, 'implicit'),
  ];
}

/** Abstract state: the state value and the context facts the guards read. */
function serialize(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as GrantContext;
  const tokens = context.tokens;
  return JSON.stringify({
    value: snapshot.value,
    tokens: tokens === undefined ? null : `${tokens.refreshToken ? 'r' : '-'}${tokens.expiresAt !== undefined && tokens.expiresAt <= T0 ? 'x' : '-'}`,
    stale: context.staleTokens === undefined ? null : context.staleTokens.refreshToken !== undefined,
    pending: context.pending !== undefined,
    device: context.device?.interval ?? null,
    deferred: context.deferred.map((event) => event.type),
    attempts: context.refreshAttempts ?? 0,
    offline: context.login?.scopes === undefined || context.login.scopes.includes('offline_access'),
  });
}

function abstractInput(): GrantInput {
  return {
    provider: { issuer: ISSUER, authorizationEndpoint: `${ISSUER}/authorize`, tokenEndpoint: `${ISSUER}/token`, revocationEndpoint: `${ISSUER}/revoke`, authorizationResponseIssParameterSupported: true },
    client: { clientId: 'app', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
    services: {
      fetch: () => Promise.reject(new Error('the abstract walk does no I/O')),
      crypto: { randomBytes: (n) => new Uint8Array(n), sha256: async () => new Uint8Array(32) },
      storage: memoryStorage(),
      clock: manualClock(T0),
    },
    options: GRANT_OPTIONS,
  };
}

// ---------------------------------------------------------------------------
// Replaying an abstract path on a real actor

/** Storage whose next write or removal can be made to fail. */
function faultyStorage() {
  const backing = memoryStorage();
  const faults = { failNextSet: false, failNextRemove: false, delayNextSet: false, failGets: 0, failLocks: 0 };
  const storage: StorageService = {
    get: (key) => {
      if (faults.failGets > 0) {
        faults.failGets -= 1;
        return Promise.reject(new Error('injected storage failure'));
      }
      return backing.get(key);
    },
    set: (key, value) => {
      if (faults.failNextSet) {
        faults.failNextSet = false;
        return Promise.reject(new Error('injected storage failure'));
      }
      if (faults.delayNextSet) {
        // Held until the (fake) timers run: keeps a redirect under way while the path sends its next event.
        faults.delayNextSet = false;
        return new Promise<void>((resolve) => setTimeout(resolve, 60_000)).then(() => backing.set(key, value));
      }
      return backing.set(key, value);
    },
    remove: (key) => {
      if (faults.failNextRemove) {
        faults.failNextRemove = false;
        return Promise.reject(new Error('injected storage failure'));
      }
      return backing.remove(key);
    },
    lock: (key, fn) => {
      if (faults.failLocks > 0 && key.endsWith(':refresh')) {
        faults.failLocks -= 1;
        return Promise.reject(new OAuthError('storage_error', { description: 'injected lock failure', retryable: true }));
      }
      return backing.lock === undefined ? fn() : backing.lock(key, fn);
    },
  };
  return { storage, faults, backing };
}

interface Replay {
  h: Harness;
  /**
   * The timers of the replayed actor (its expiry timer, delays and device poll): a clock of their own, moved
   * only when the path says a timer fires, so that jumping the time (tokens that arrive expired) fires none.
   */
  timers: ManualClock;
  faults: { failNextSet: boolean; failNextRemove: boolean; delayNextSet: boolean; failGets: number; failLocks: number };
  /** The storage under the faults: what the path arranges there is written past them. */
  backing: StorageService;
  machine: AnyStateMachine;
  /** The last authorization URL any actor of this replay produced. */
  authorizationUrl: string | undefined;
  covered: Set<AnyTransitionDefinition>;
  actor: ReturnType<typeof createActor<AnyStateMachine>> | undefined;
  /** State values the real actor passed through since the last check. */
  visited: unknown[];
  /** Types of the events the real actor processed, in order. */
  processed: string[];
}

const covered = new Map<AnyStateMachine, Set<AnyTransitionDefinition>>();

function contextOf(replay: Replay): GrantContext {
  if (replay.actor === undefined) throw new Error('no actor');
  return replay.actor.getSnapshot().context as GrantContext;
}

/**
 * Runs an actor of the same kind on the same storage to put a session or
 * pending record there (again, up to three times, when a fault the path
 * arranged for a request that never came hits it instead).
 */
async function sideRun(replay: Replay, run: 'pending' | 'session'): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const side = createActor(replay.machine, { input: { ...replay.h.input, options: { restore: false } }, clock: xstateClock(replay.h.services.clock) });
    side.start();
    await settle(side);
    side.send(loginEventFor(replay.machine));
    await settle(side);
    const context = side.getSnapshot().context as GrantContext;
    if (context.authorizationUrl !== undefined) replay.authorizationUrl = context.authorizationUrl;
    if (run === 'session' && context.authorizationUrl !== undefined) {
      side.send({ type: 'CALLBACK', url: await sideCallback(replay, context) });
      await settle(side);
    }
    if (run === 'session' && context.device !== undefined) {
      replay.h.server.approveDevice(context.device.userCode);
      replay.h.server.clock.advance(context.device.interval * 1000);
      await pollAnswered(side);
    }
    const end = side.getSnapshot() as AnyMachineSnapshot;
    side.stop();
    const wanted = run === 'session' ? ['authenticated'] : ['awaitingCallback', 'awaitingUser'];
    if (wanted.includes(typeof end.value === 'string' ? end.value : Object.keys(end.value)[0] ?? '')) return;
  }
  throw new Error(`the side ${run} run failed three times`);
}

/** The redirect back to a side actor: from the server, or (implicit grant, which the server does not offer) made here. */
async function sideCallback(replay: Replay, context: GrantContext): Promise<string> {
  if (replay.machine === implicitMachine) return implicitCallback(context.pending?.state ?? 'none');
  return replay.h.server.authorize(context.authorizationUrl ?? '');
}

/** Real tokens of a session, for SESSION_CHANGED. */
async function realTokens(replay: Replay): Promise<TokenSet> {
  const side = createActor(replay.machine, {
    input: { ...replay.h.input, services: { ...replay.h.services, storage: memoryStorage() } },
    clock: xstateClock(replay.h.services.clock),
  });
  side.start();
  await settle(side);
  side.send(loginEventFor(replay.machine));
  await settle(side);
  const context = side.getSnapshot().context as GrantContext;
  if (context.authorizationUrl !== undefined) {
    side.send({ type: 'CALLBACK', url: await sideCallback(replay, context) });
    await settle(side);
  }
  if (context.device !== undefined) {
    replay.h.server.approveDevice(context.device.userCode);
    replay.h.server.clock.advance(context.device.interval * 1000);
    await pollAnswered(side);
  }
  const tokens = (side.getSnapshot().context as GrantContext).tokens;
  side.stop();
  if (tokens === undefined) throw new Error('the side login gave no tokens');
  return tokens;
}

/** The real `setImmediate`, captured before the fake timers are installed: WebCrypto settles on a real tick. */
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

/** Waits (running due timers, never the clock) until the actor is ready and not busy. */
async function settle(actor: { getSnapshot(): AnyMachineSnapshot }): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active' || (snapshot.hasTag('ready') && !snapshot.hasTag('busy'))) return;
    // Waiting out a backoff: nothing happens until the path moves the clock.
    if (snapshot.matches({ refreshing: 'retrying' }) || snapshot.matches({ exchanging: 'waiting' })) return;
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => (i < 100 ? realSetImmediate(resolve) : realSetTimeout(resolve, 1)));
  }
  throw new Error(`did not settle: ${JSON.stringify(actor.getSnapshot().value)}`);
}

/** Waits until a side actor's device poll (started by moving the clock) has been answered. */
async function pollAnswered(actor: { getSnapshot(): AnyMachineSnapshot }): Promise<void> {
  for (let i = 0; i < 1_000 && actor.getSnapshot().matches('awaitingUser'); i += 1) {
    await new Promise<void>((resolve) => (i < 100 ? realSetImmediate(resolve) : realSetTimeout(resolve, 1)));
  }
  await settle(actor);
}

/** Waits until the real actor has processed an event of this type (the outcome the path says comes next). */
async function outcome(replay: Replay, type: string, since: number): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    if (replay.processed.slice(since).includes(type)) return;
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => (i < 100 ? realSetImmediate(resolve) : realSetTimeout(resolve, 1)));
  }
  throw new Error(`the real actor never processed ${type}; it processed ${replay.processed.slice(since).join(', ')}`);
}

/** Makes the real world produce the actor outcome the abstract path says comes next. */
async function arrange(replay: Replay, event: AbstractEvent): Promise<void> {
  const { h, faults } = replay;
  // The device poll's interval: move the clocks until its timer fires.
  if (event.type === 'POLL_DUE') {
    advance(replay, Math.max(contextOf(replay).device!.interval, 1) * 1000);
    return;
  }
  if (!('variant' in event) || event.variant === undefined) {
    if (!event.type.startsWith('xstate.after.')) return;
  }
  const variant = 'variant' in event ? event.variant : undefined;
  const tokens = replay.actor === undefined ? undefined : (contextOf(replay).tokens ?? contextOf(replay).staleTokens);
  switch (`${event.type.replace(/^xstate\.(done|error)\.actor\./, '')}:${variant}`) {
    case 'readSession:storage unavailable':
      faults.failGets += 1;
      return;
    case 'REFRESH_LOCK_FAILED:lock failed':
      faults.failLocks += 1;
      return;
    case 'checkStore:ours': {
      // The session this actor holds is what the store holds.
      const context = contextOf(replay);
      if (context.tokens === undefined) return;
      const ours: SessionBlob = { version: 1, machine: context.grant, state: 'authenticated', tokens: context.tokens, savedAt: context.savedAt ?? h.server.clock.now(), generation: context.generation ?? 0 };
      return replay.backing.set('oauth-machines', JSON.stringify(ours));
    }
    case 'checkStore:ended elsewhere':
      return replay.backing.remove('oauth-machines');
    case 'checkStore:newer, fresh':
    case 'checkStore:newer, due': {
      // Another tab renewed the session: real tokens of the same client, one generation newer.
      const context = contextOf(replay);
      const tokens = await realTokens(replay);
      const now = h.server.clock.now();
      // Due: stored an hour ago, and about to expire (the server still accepts its refresh token).
      if (variant === 'newer, due') tokens.expiresAt = now + 30_000;
      const savedAt = variant === 'newer, due' ? now - HOUR : now;
      const newer: SessionBlob = { version: 1, machine: context.grant, state: 'authenticated', tokens, savedAt, generation: (context.generation ?? 0) + 1 };
      return replay.backing.set('oauth-machines', JSON.stringify(newer));
    }
    case 'readSession:nothing stored':
      await h.storage.remove('oauth-machines');
      return;
    case 'readSession:pending stored':
      return sideRun(replay, 'pending');
    case 'readSession:device stored':
      return sideRun(replay, 'pending');
    case 'readSession:session stored':
      return sideRun(replay, 'session');
    case 'readSession:corrupt':
      return h.storage.set('oauth-machines', '{corrupt');
    case 'prepareAuthorization:storage failed':
    case 'openAuthorization:storage failed':
    case 'requestDeviceCode:storage failed':
      faults.failNextSet = true;
      return;
    case 'exchangeCode:invalid_grant':
      h.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
      return;
    case 'exchangeCode:server_error':
      h.server.fail('token', { oauthError: 'server_error', status: 500 });
      return;
    case 'requestTokens:invalid_grant':
      h.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
      return;
    case 'requestTokens:invalid_client':
      h.server.fail('token', { oauthError: 'invalid_client', status: 401 });
      return;
    // Arranged before the POLL_DUE that starts the poll (the poll interval's timer is what waits for the clock).
    case 'pollForToken:access_denied':
      h.server.denyDevice(contextOf(replay).device!.userCode);
      return;
    case 'pollForToken:authorization_pending':
      return;
    case 'pollForToken:slow_down':
      h.server.fail('token', { oauthError: 'slow_down', status: 400 });
      return;
    case 'pollForToken:approved':
    case 'pollForToken:approved, already expired':
      h.server.approveDevice(contextOf(replay).device!.userCode);
      return;
    case 'renewTokens:invalid_grant':
      if (tokens?.refreshToken !== undefined) h.server.revokeToken(tokens.refreshToken);
      else h.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
      return;
    case 'renewTokens:unavailable':
      h.server.fail('token', { status: 503 });
      return;
    case 'endSession:revocation failed':
      h.server.fail('revoke', { status: 503 }, { times: 2 });
      return;
    case 'endSession:storage failed':
      faults.failNextRemove = true;
      return;
    default:
      break;
  }
  // A delay: move the clocks (a backoff of 0 ms is due at once, but still waits for the clock to move).
  if (event.type.startsWith('xstate.after.backoff delay.')) {
    const { retryNotBefore } = contextOf(replay);
    advance(replay, Math.max(0, (retryNotBefore ?? 0) - h.server.clock.now()));
  } else if (event.type.startsWith('xstate.after.restore retry delay.')) {
    advance(replay, RESTORE_RETRY_MS);
  } else if (event.type.startsWith('xstate.after.exchange retry delay.')) {
    advance(replay, Math.max(0, (contextOf(replay).exchange?.retryAt ?? 0) - h.server.clock.now()));
  }
}

/** Time passes: the server's clock and the replayed actor's timers move together. */
function advance(replay: Replay, ms: number): void {
  replay.h.server.clock.advance(ms);
  replay.timers.advance(ms);
}

/** After an actor outcome: what the abstract output implies that the real server cannot give directly. */
async function afterOutcome(replay: Replay, event: AbstractEvent): Promise<void> {
  if ('variant' in event && event.variant?.endsWith('already expired')) {
    const expiresAt = contextOf(replay).tokens?.expiresAt;
    // Jump the clock past expiry without running the expiry timer.
    if (expiresAt !== undefined) replay.h.server.clock.set(expiresAt);
  }
}

/** Sends a caller's event for real (a valid callback is a real redirect from the server). */
async function perform(replay: Replay, event: AbstractEvent): Promise<void> {
  const actor = replay.actor!;
  if (event.type === 'CALLBACK' && 'url' in event && replay.machine === implicitMachine) {
    const valid = event.url.includes(`state=${pending.state}`);
    const state = (actor.getSnapshot().context as GrantContext).pending?.state;
    // The pending authorization's own callback, denied by the server, carries its real state too.
    const own = (value: string) => (event.url.includes('error=') ? event.url.replace(`state=${pending.state}`, `state=${value}`) : implicitCallback(value));
    actor.send({ type: 'CALLBACK', url: valid && state !== undefined ? own(state) : event.url });
    return;
  }
  if (event.type === 'CALLBACK' && 'url' in event) {
    const valid = event.url.includes(`state=${pending.state}`);
    if (valid && event.url.includes('error=access_denied')) replay.h.server.nextAuthorization({ deny: true });
    const url = valid && replay.authorizationUrl !== undefined ? await replay.h.server.authorize(replay.authorizationUrl) : event.url;
    actor.send({ type: 'CALLBACK', url });
    return;
  }
  if (event.type === 'EXPIRY_DUE') {
    const fireAt = expiryTimerFiresAt(contextOf(replay));
    if (fireAt !== undefined && replay.h.server.clock.now() < fireAt) replay.h.server.clock.set(fireAt);
    // `authenticated` has one timer, the expiry timer: it fires now.
    replay.timers.advance(2 ** 31);
    return;
  }
  if (event.type === 'SESSION_CHANGED' && 'tokens' in event && event.tokens !== undefined) {
    // As another tab would: store the session, then tell this one.
    const tokens = await realTokens(replay);
    const grant = (actor.getSnapshot().context as GrantContext).grant;
    const stored: SessionBlob = { version: 1, machine: grant, state: 'authenticated', tokens, savedAt: replay.h.server.clock.now() };
    await replay.h.storage.set('oauth-machines', JSON.stringify(stored));
    actor.send({ type: 'SESSION_CHANGED', tokens });
    return;
  }
  if (event.type === 'SESSION_CHANGED') {
    await replay.h.storage.remove('oauth-machines');
  }
  actor.send(event as GrantEvent);
}

/** The endpoint a busy state waits on (redirecting waits on WebCrypto, which is never instant). */
const IN_FLIGHT_ENDPOINT: Record<string, 'token' | 'device_authorization' | 'revoke' | 'storage'> = {
  redirecting: 'storage',
  // Creating the request waits on WebCrypto, never instant, so an event sent at once finds it under way; opening waits on the write.
  'redirecting.opening': 'storage',
  exchanging: 'token',
  'refreshing.attempt.requesting': 'token',
  requestingCode: 'device_authorization',
};

/** A state value as the dotted path of its leaf (`refreshing.attempt.requesting`). */
function leafPath(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const [key, child] = Object.entries(value)[0] ?? ['', ''];
  return `${key}.${leafPath(child)}`;
}

/** The password grant's credentials (the test server's user). */
const CREDENTIALS = { username: 'alice', password: 'correct horse' };

/** How a side actor of this machine logs in. */
function loginEventFor(machine: AnyStateMachine): GrantEvent {
  return machine === passwordMachine ? { type: 'LOGIN', ...CREDENTIALS } : { type: 'LOGIN' };
}

/** An outcome no caller sends: an actor's, a delay's, or one the machine's own actors send back (the refresh lock). */
const isActorEvent = (event: AbstractEvent): boolean =>
  event.type.startsWith('xstate.') || event.type.startsWith('REFRESH_LOCK_') || event.type === 'POLL_DUE';
/** An outcome that waits for the clock: arranged (the clock moved) only once the state that waits is entered. */
const waitsForClock = (event: AbstractEvent): boolean => event.type === 'POLL_DUE' || event.type.startsWith('xstate.after.');

async function replayPath(machine: AnyStateMachine, steps: AbstractStep[], options: HarnessOptions = {}): Promise<void> {
  const { storage, faults, backing } = faultyStorage();
  const h = createHarness({ ...options, storage, grant: GRANT_OPTIONS });
  const transitions = covered.get(machine) ?? new Set<AnyTransitionDefinition>();
  covered.set(machine, transitions);
  const timers = manualClock(0);
  const replay: Replay = { h, timers, faults, backing, machine, authorizationUrl: undefined, covered: transitions, actor: undefined, visited: [], processed: [] };
  const clock: Clock = { now: () => h.server.clock.now(), setTimeout: (fn, ms) => timers.setTimeout(fn, ms) };
  // The outcome of the first restore is arranged before the actor starts.
  const firstRead = steps.find((step) => step.event.type === 'xstate.done.actor.readSession' || step.event.type === 'xstate.error.actor.readSession');
  const firstReadIndex = firstRead === undefined ? -1 : steps.indexOf(firstRead);
  if (firstRead !== undefined) await arrange(replay, firstRead.event);
  const actor = createActor(machine, {
    input: { ...h.input, services: { ...h.services, clock } },
    // The actor's delays run on the clock service, like in the library.
    clock: xstateClock(clock),
    inspect: (inspection) => {
      if (inspection.type === '@xstate.microstep' && inspection.actorRef === replay.actor) {
        for (const transition of (inspection as { _transitions: AnyTransitionDefinition[] })._transitions) transitions.add(transition);
        replay.visited.push((inspection.snapshot as AnyMachineSnapshot).value);
        replay.processed.push(inspection.event.type);
        if (process.env.DEBUG_PATHS) console.log('  ->', JSON.stringify((inspection.snapshot as AnyMachineSnapshot).value), inspection.event.type, JSON.stringify(((inspection.snapshot as AnyMachineSnapshot).context as GrantContext).error ?? null));
      }
    },
  });
  replay.actor = actor;
  actor.subscribe({ error: (error) => h.actorErrors.push(error) });
  actor.start();
  const arranged = new Set<number>(firstReadIndex === -1 ? [] : [firstReadIndex]);
  // Steps whose request is kept pending because a caller's event comes while it is under way.
  const heldOpen = new Set<number>();
  /**
   * Arranges the outcomes of the actors step `index` starts (up to a timer); a request they lead to that a
   * caller's event interrupts is kept pending from the start.
   */
  const arrangeChain = async (index: number): Promise<void> => {
    for (let j = index + 1; j < steps.length && isActorEvent(steps[j]!.event) && !waitsForClock(steps[j]!.event); j += 1) {
      holdOpen(j);
      if (arranged.has(j)) continue;
      await arrange(replay, steps[j]!.event);
      arranged.add(j);
    }
  };
  const holdOpen = (index: number): void => {
    const busyEndpoint = IN_FLIGHT_ENDPOINT[leafPath(steps[index]!.state.value)];
    if (busyEndpoint === undefined || heldOpen.has(index) || index + 1 >= steps.length || isActorEvent(steps[index + 1]!.event)) return;
    heldOpen.add(index);
    if (busyEndpoint === 'storage') faults.delayNextSet = true;
    else h.server.fail(busyEndpoint, { delayMs: 60_000 });
  };
  let outcomesSince = 0;
  for (let i = 1; i < steps.length; i += 1) {
    const step = steps[i]!;
    // The path sends its next event while this state's request is under way: keep that request pending.
    holdOpen(i);
    if (isActorEvent(step.event)) {
      // An outcome no caller event started (a timer's, or the restore's): arrange it now. A timer that fires
      // starts actors in turn: their outcomes are arranged first, like a caller's event's.
      if (!arranged.has(i) && waitsForClock(step.event)) {
        await arrangeChain(i);
        outcomesSince = replay.processed.length;
      }
      const before = arranged.has(i) ? outcomesSince : replay.processed.length;
      if (!arranged.has(i)) await arrange(replay, step.event);
      arranged.add(i);
      await outcome(replay, step.event.type, before);
      // The path sends its next event while the request this outcome started is under way: do not wait for it.
      // Nor while more outcomes follow: the next one is waited for (a request it leads to may be kept pending).
      const inFlight = step.state.hasTag('busy') && i + 1 < steps.length;
      if (!inFlight) await settle(actor);
      await afterOutcome(replay, step.event);
    } else {
      // Arrange the outcomes of the actors this event starts, then send it.
      await arrangeChain(i);
      outcomesSince = replay.processed.length;
      await perform(replay, step.event);
      if (i + 1 < steps.length && isActorEvent(steps[i + 1]!.event)) continue;
      // The path sends its next event while a request is under way: do not wait for it.
      const inFlight = step.state.hasTag('busy') && i + 1 < steps.length;
      if (!inFlight) await settle(actor);
    }
    const context = replay.actor.getSnapshot().context as GrantContext;
    if (context.authorizationUrl !== undefined) replay.authorizationUrl = context.authorizationUrl;
    if (i + 1 < steps.length && isActorEvent(steps[i + 1]!.event)) continue;
    // The real actor went through the state the path says (it may have moved on: the path can end mid-request).
    const value = step.state.value;
    const seen = [...replay.visited, actor.getSnapshot().value];
    expect(seen, `after step ${i} (${step.event.type})`).toContainEqual(value);
    replay.visited = [];
  }
  await vi.runOnlyPendingTimersAsync();
  actor.stop();
  expect(h.actorErrors).toEqual([]);
}

function allTransitions(machine: AnyStateMachine): AnyTransitionDefinition[] {
  const found: AnyTransitionDefinition[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const list of node.transitions.values()) found.push(...list);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return found;
}

function describeTransition(transition: AnyTransitionDefinition): string {
  const targets = transition.target?.map((target) => target.key).join(',') ?? '(stay)';
  const { guard: rawGuard } = transition;
  const guardName =
    typeof rawGuard === 'string' ? rawGuard : typeof rawGuard === 'object' && rawGuard !== null && 'type' in rawGuard ? String(rawGuard.type) : 'guard';
  const guard = rawGuard === undefined ? '' : ` [${guardName}]`;
  return `${transition.source.key} --${transition.eventType}${guard}--> ${targets}`;
}

function traversal(events: (snapshot: AnyMachineSnapshot) => AbstractEvent[]) {
  return {
    input: abstractInput(),
    events: (snapshot: AnyMachineSnapshot) => events(snapshot) as GrantEvent[],
    serializeState: (snapshot: AnyMachineSnapshot) => serialize(snapshot),
    // One deferred event is enough to exercise deferral; more only grows the space.
    // One slow_down is enough too: each adds 5 s to the interval, a new abstract state every time.
    filterEvents: (snapshot: AnyMachineSnapshot, event: GrantEvent) => {
      const context = snapshot.context as GrantContext;
      if ((event.type === 'LOGIN' || event.type === 'CALLBACK') && context.deferred.length > 0) return false;
      const variant = (event as { variant?: string }).variant;
      return !(variant === 'slow_down' && (context.device?.interval ?? 0) > device.interval);
    },
    limit: 50_000,
  };
}

type AbstractStep = { event: AbstractEvent; state: AnyMachineSnapshot };

/**
 * The shortest path to every abstract state, plus, for every edge of the
 * chart that no such path ends with, the shortest path to its source and
 * that edge (shortest paths reach every state, not every transition).
 */
function pathsOf(machine: AnyStateMachine, events: (snapshot: AnyMachineSnapshot) => AbstractEvent[]): AbstractStep[][] {
  const options = traversal(events);
  const shortest = getShortestPaths(machine, options);
  const toState = new Map<string, AbstractStep[]>();
  for (const path of shortest) toState.set(serialize(path.state), path.steps as AbstractStep[]);
  const edgeKey = (from: AnyMachineSnapshot, event: AbstractEvent, to: AnyMachineSnapshot): string =>
    `${JSON.stringify(from.value)}|${label([{ event }, { event }])}|${JSON.stringify(to.value)}`;
  const seen = new Set<string>();
  for (const steps of toState.values()) {
    for (let i = 1; i < steps.length; i += 1) seen.add(edgeKey(steps[i - 1]!.state, steps[i]!.event, steps[i]!.state));
  }
  const paths: AbstractStep[][] = [...toState.values()];
  for (const { state, event, nextState } of adjacencyMapToArray(getAdjacencyMap(machine, options))) {
    // A caller's event the state ignores leaves the very same snapshot; one it handles (a re-entry
    // too) makes a new one, even when the abstract state does not change.
    if (serialize(state) === serialize(nextState) && (isActorEvent(event) || state === nextState)) continue;
    const key = edgeKey(state, event, nextState);
    const prefix = toState.get(serialize(state));
    if (seen.has(key) || prefix === undefined) continue;
    seen.add(key);
    paths.push([...prefix, { event, state: nextState }]);
  }
  return paths;
}

function label(steps: { event: AbstractEvent }[]): string {
  return steps
    .slice(1)
    .map((step) => `${step.event.type.replace('xstate.', '')}${'variant' in step.event && step.event.variant ? `(${step.event.variant})` : ''}`)
    .join(' → ');
}

const authorizationCodePaths = pathsOf(authorizationCodeMachine, authorizationCodeEvents);

describe('authorizationCodeMachine: every shortest path of the chart, replayed against the test server', () => {
  it.each(authorizationCodePaths.map((steps) => [label(steps) || '(start)', steps] as const))('%s', async (_, steps) => {
    await replayPath(authorizationCodeMachine, steps);
  });
});

const serviceClient: HarnessOptions = { client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read'] } };
const clientCredentialsPaths = pathsOf(clientCredentialsMachine, clientCredentialsEvents);

describe('clientCredentialsMachine: every shortest path and edge of the chart, replayed against the test server', () => {
  it.each(clientCredentialsPaths.map((steps) => [label(steps) || '(start)', steps] as const))('%s', async (_, steps) => {
    await replayPath(clientCredentialsMachine, steps, serviceClient);
  });
});

const deviceCodePaths = pathsOf(deviceCodeMachine, deviceCodeEvents);

describe('deviceCodeMachine: every shortest path and edge of the chart, replayed against the test server', () => {
  it.each(deviceCodePaths.map((steps) => [label(steps) || '(start)', steps] as const))('%s', async (_, steps) => {
    await replayPath(deviceCodeMachine, steps);
  });
});

const passwordHarness: HarnessOptions = {
  server: { passwordGrant: true, user: { sub: 'alice', ...CREDENTIALS } },
  client: { clientId: 'service', clientSecret: 'service-secret', scopes: ['read', 'offline_access'] },
};
const passwordPaths = pathsOf(passwordMachine, passwordEvents);

describe('passwordMachine (legacy): every shortest path and edge of the chart, replayed against the test server', () => {
  it.each(passwordPaths.map((steps) => [label(steps) || '(start)', steps] as const))('%s', async (_, steps) => {
    await replayPath(passwordMachine, steps, passwordHarness);
  });
});

const implicitPaths = pathsOf(implicitMachine, implicitEvents);

describe('implicitMachine (legacy): every shortest path and edge of the chart, replayed', () => {
  it.each(implicitPaths.map((steps) => [label(steps) || '(start)', steps] as const))('%s', async (_, steps) => {
    await replayPath(implicitMachine, steps);
  });
});

const ANOTHER_USER = 'requesting --xstate.error.actor.renewTokens [the refreshed ID token names another user]--> error';
// A lock that cannot be taken is a storage failure: never invalid_grant, never about an ID token.
const LOCK_FAILURE_ENDS = [
  'waitingForLock --REFRESH_LOCK_FAILED [the server ended the session]--> error',
  'waitingForLock --REFRESH_LOCK_FAILED [the refreshed ID token names another user]--> error',
];

describe('transition coverage', () => {
  it.each([
    // The path model's sessions carry no ID token, so no refresh names another user; that transition is
    // taken against the test server, with a tampered ID token, in test/machines.idToken.test.ts.
    // A pushed authorization request (RFC 9126) and a request the configuration refuses are taken in
    // test/machines.pushedAuthorization.test.ts (the path model's provider has no pushed authorization request endpoint).
    ['authorization code', authorizationCodeMachine, [...LOCK_FAILURE_ENDS, ANOTHER_USER], [...PUSHED_AUTHORIZATION_TRANSITIONS, ...DPOP_NONCE]],
    // A client-credentials client can always ask again, so its tokens never become unrenewable.
    // A DPoP nonce asked for at renewal: the shared refreshing state's, taken in test/machines.dpop.test.ts.
    ['client credentials', clientCredentialsMachine, ['authenticated --EXPIRY_DUE--> error', ...LOCK_FAILURE_ENDS, ANOTHER_USER], [CLIENT_CREDENTIALS_NONCE_TRANSITION, RENEWAL_NONCE_TRANSITION]],
    ['device code', deviceCodeMachine, [...LOCK_FAILURE_ENDS, ANOTHER_USER], [RENEWAL_NONCE_TRANSITION]],
    ['password', passwordMachine, [...LOCK_FAILURE_ENDS, ANOTHER_USER], [RENEWAL_NONCE_TRANSITION]],
    // Storing the callback's tokens never fails (a storage failure is reported with the tokens kept),
    // and an implicit session has no refresh token, so no renewal succeeds, is retried or adopts another
    // tab's (the abstract walk offers it none).
    [
      'implicit',
      implicitMachine,
      [
        'exchanging --xstate.error.actor.storeTokens--> error',
        'authenticated --EXPIRY_DUE [tokens can be renewed]--> refreshing',
        ...LOCK_FAILURE_ENDS,
        'checkingStore --xstate.done.actor.checkStore [another tab stored fresh tokens]--> authenticated',
        'checkingStore --xstate.done.actor.checkStore [another tab stored newer tokens]--> requesting',
        'requesting --xstate.done.actor.renewTokens--> authenticated',
        'requesting --xstate.error.actor.renewTokens [the server ended the session]--> error',
        ANOTHER_USER,
        'requesting --xstate.error.actor.renewTokens [another attempt is allowed]--> retrying',
      ],
      [RENEWAL_NONCE_TRANSITION],
    ],
  ] as const)('every transition of the %s chart was taken by some replay', (_, machine, unreachable: readonly string[], takenElsewhere: readonly string[] = []) => {
    const taken = covered.get(machine) ?? new Set();
    // The discovery states' transitions are taken in test/machines.discovery.test.ts (these replays start with endpoints given).
    // So are RP-initiated logout's, in test/machines.endSession.test.ts.
    const elsewhere = new Set([...discoveryTransitions(machine), ...providerLogoutTransitions(machine)]);
    const missing = allTransitions(machine)
      .filter((transition) => !taken.has(transition) && !elsewhere.has(transition))
      .map(describeTransition)
      .filter((transition) => !takenElsewhere.includes(transition));
    expect(missing, missing.join('\n')).toEqual(unreachable);
  });
});
