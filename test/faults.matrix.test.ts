/**
 * The fault matrix: every fault a network, a provider, a storage or a clock
 * can throw at the library (rows) against every operation that talks to the
 * provider (columns), through the public API only. Every cell checks the same
 * invariants (test/support/invariants.ts), then the fault's own contract.
 *
 * A cell: bring the session to the point before the operation, arm the
 * fault, start the operation's callers, keep the fault armed until they
 * settled and the library has been quiet for a moment (or the fault was hit
 * often enough), disarm, then check — and recover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuthClient } from '../src/client.js';
import type { OAuthError } from '../src/errors.js';
import type { TokenSet } from '../src/protocol/types.js';
import type { TestFault } from '../src/testing/index.js';
import type { Endpoint, MemoryFault } from './support/faultyNetwork.js';
import { socketFaultReachesServer, type SocketFault } from './support/faultyServer.js';
import type { StorageMethod } from './support/faultyStorage.js';
import { ACCESS_TOKEN_TTL_MS, BACKOFF_PASSES_MS, SOCKET_TIMEOUT_MS, createFaultWorld, type FaultWorld, type Transport } from './support/faultWorld.js';
import {
  LIVENESS_MS,
  allSettleWithin,
  atMostOneTokenRequestInFlight,
  contract,
  describeReason,
  everyRejectionIsOAuthError,
  newestRefreshTokenIsStored,
  noCodeSentTwice,
  noRequestLoop,
  noUnhandledRejection,
  recovers,
  storageHoldsTokens,
  unhandledRejections,
  type Caller,
  type Outcome,
} from './support/invariants.js';

/** The fault stays armed at most this long (real time) while callers have not settled. */
const WINDOW_MS = 1_500;
/** After the callers settled, the fault stays armed this long: a library in a request loop shows it here. */
const QUIET_MS = 100;

const unhandled = unhandledRejections();
beforeAll(() => unhandled.start());
afterAll(() => {
  unhandled.stop();
  noUnhandledRejection(unhandled.list);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Operations (columns)

interface Recovery {
  /** The session may have ended (the server acted on a request whose answer was lost; a login was under way). */
  sessionMayHaveEnded: boolean;
  /** The client of the operation was stopped: recover with a new one on the same storage. */
  fresh: boolean;
}

/** One operation, brought to the point just before it. */
interface Run {
  /** Starts the operation: its callers. */
  act(): Caller[];
  /** Stops whatever the operation runs on (`client.stop()`, `cache.clear()`). */
  stop(): void;
  /** The tokens the live client holds, if any. */
  tokens(): Promise<TokenSet | undefined>;
  /** Once the fault stopped: the operation works again. */
  recover(recovery: Recovery): Promise<void>;
  /** Broken promises the operation noticed itself (a logout that resolved too early). */
  violations: string[];
}

interface Operation {
  name: string;
  /** The endpoint its faults target. */
  endpoint: Endpoint;
  /** Its client id at the test server. */
  clientId: 'spa' | 'service' | 'tv';
  /** A login, not a renewal: after a failure a fresh login is the way back. */
  loginTime: boolean;
  /** The caller has no token to fall back on, so a fault shows as a rejection. */
  blocking: boolean;
  /** The held access token stays valid throughout: every caller gets a token. */
  holdsValidToken: boolean;
  /** The fault window ends after this many requests met the fault (a device keeps polling at the server's interval). */
  maxFaultHits: number;
  /** How long its callers may take to settle after the fault: a device polls again only after its interval plus 5 s. */
  livenessMs?: number;
  prepare(world: FaultWorld): Promise<Run>;
}

function sessionEnded(error: unknown): boolean {
  const code = (error as Partial<OAuthError> | undefined)?.code;
  return code === 'invalid_grant' || code === 'login_required';
}

async function tokensOf(client: OAuthClient | undefined): Promise<TokenSet | undefined> {
  return client === undefined ? undefined : client.getTokens().catch(() => undefined);
}

/** A code client signed in, then the clock moved by `advanceMs`; `restart`: the operation runs on a new client on the same storage. */
function renewal(name: string, advanceMs: number, mode: 'callers' | 'timer'): Operation {
  return {
    name,
    endpoint: 'token',
    clientId: 'spa',
    loginTime: false,
    blocking: advanceMs >= ACCESS_TOKEN_TTL_MS,
    holdsValidToken: advanceMs < ACCESS_TOKEN_TTL_MS,
    maxFaultHits: 12,
    async prepare(world) {
      let client = world.codeClient();
      await world.signIn(client);
      if (mode === 'timer') client.stop();
      // The live client's expiry timer runs on this clock: moving it starts the renewal, so the callers'
      // client moves it only once the fault is armed.
      if (mode === 'timer') world.clock.advance(advanceMs);
      const violations: string[] = [];
      return {
        violations,
        act() {
          if (mode === 'callers') world.clock.advance(advanceMs);
          if (mode === 'timer') {
            // A new page load: the restored session is due, so the expiry timer renews it in the background.
            client = world.codeClient();
            const restarted = client;
            return [{ label: 'getAccessToken() after restore', promise: restarted.ready.then(() => restarted.getAccessToken()) }];
          }
          const caller = client;
          return [1, 2, 3].map((n) => ({ label: `getAccessToken() #${n}`, promise: caller.getAccessToken() }));
        },
        stop: () => client.stop(),
        tokens: () => tokensOf(client),
        async recover({ sessionMayHaveEnded, fresh }) {
          if (fresh) client = world.codeClient();
          // Force a renewal, so the stored chain is checked after a write that worked.
          world.clock.advance(ACCESS_TOKEN_TTL_MS + 1_000);
          try {
            await client.getAccessToken();
          } catch (error) {
            if (!sessionMayHaveEnded || !sessionEnded(error)) throw error;
            await world.signIn(client);
            await client.getAccessToken();
          }
        },
      };
    },
  };
}

const OPERATIONS: Operation[] = [
  {
    name: 'code exchange',
    endpoint: 'token',
    clientId: 'spa',
    loginTime: true,
    blocking: true,
    holdsValidToken: false,
    maxFaultHits: 12,
    async prepare(world) {
      const login = world.codeClient();
      const callbackUrl = await world.server.authorize(await login.login());
      login.stop();
      let client: OAuthClient<'authorization_code'> | undefined;
      const violations: string[] = [];
      return {
        violations,
        act() {
          // The callback page: a new client on the same storage restores the pending authorization.
          const callbackPage = world.codeClient();
          client = callbackPage;
          return [{ label: 'handleCallback()', promise: callbackPage.handleCallback(callbackUrl) }];
        },
        stop: () => client?.stop(),
        tokens: () => tokensOf(client),
        async recover({ fresh }) {
          if (!fresh && client !== undefined && (await tokensOf(client)) !== undefined) {
            await client.getAccessToken();
            return;
          }
          client = world.codeClient();
          if ((await tokensOf(client)) === undefined) await world.signIn(client);
          await client.getAccessToken();
        },
      };
    },
  },
  renewal('refresh (expired)', ACCESS_TOKEN_TTL_MS + 1_000, 'callers'),
  renewal('refresh (near expiry)', ACCESS_TOKEN_TTL_MS - 30_000, 'callers'),
  renewal('refresh (expiry timer)', ACCESS_TOKEN_TTL_MS - 30_000, 'timer'),
  {
    name: 'client credentials (cache)',
    endpoint: 'token',
    clientId: 'service',
    loginTime: true,
    blocking: true,
    holdsValidToken: false,
    maxFaultHits: 12,
    async prepare(world) {
      let cache = world.cache();
      const violations: string[] = [];
      return {
        violations,
        act: () => [1, 2, 3].map((n) => ({ label: `cache.getAccessToken() #${n}`, promise: cache.getAccessToken() })),
        stop: () => cache.clear(),
        // cache.getTokens() would ask for a token; client credentials have no refresh token to check anyway.
        tokens: () => Promise.resolve(undefined),
        async recover({ fresh }) {
          if (fresh) cache = world.cache();
          await cache.getAccessToken();
        },
      };
    },
  },
  {
    name: 'client credentials (client)',
    endpoint: 'token',
    clientId: 'service',
    loginTime: true,
    blocking: true,
    holdsValidToken: false,
    maxFaultHits: 12,
    async prepare(world) {
      let client = world.credentialsClient();
      await client.ready;
      const violations: string[] = [];
      return {
        violations,
        act: () => [1, 2, 3].map((n) => ({ label: `getAccessToken() #${n}`, promise: client.getAccessToken() })),
        stop: () => client.stop(),
        tokens: () => tokensOf(client),
        async recover({ fresh }) {
          if (fresh) client = world.credentialsClient();
          await client.getAccessToken();
        },
      };
    },
  },
  {
    name: 'device poll',
    endpoint: 'token',
    clientId: 'tv',
    loginTime: true,
    blocking: true,
    holdsValidToken: false,
    maxFaultHits: 1,
    livenessMs: 15_000,
    async prepare(world) {
      let client = world.deviceClient();
      const login = await client.login();
      world.server.approveDevice(login.userCode);
      const violations: string[] = [];
      return {
        violations,
        act: () => [{ label: 'login().tokens', promise: login.tokens }],
        stop: () => client.stop(),
        tokens: () => tokensOf(client),
        async recover({ fresh }) {
          if (fresh) client = world.deviceClient();
          for (let attempt = 0; (await tokensOf(client)) === undefined; attempt += 1) {
            // A new device login, or the one still pending (restored from storage).
            const again = await client.login();
            try {
              world.server.approveDevice(again.userCode);
            } catch {
              // already approved before the fault
            }
            try {
              await again.tokens;
            } catch (error) {
              if (attempt > 0) throw error;
            }
          }
          await client.getAccessToken();
        },
      };
    },
  },
  {
    name: 'revoke (logout)',
    endpoint: 'revoke',
    clientId: 'spa',
    loginTime: false,
    blocking: false,
    holdsValidToken: false,
    maxFaultHits: 12,
    async prepare(world) {
      let client = world.codeClient();
      await world.signIn(client);
      const violations: string[] = [];
      return {
        violations,
        act: () => {
          const logout = client.logout();
          // logout() never resolves while the session is still stored.
          logout.then(
            () => {
              if (storageHoldsTokens(world.storage)) violations.push('logout() resolved while storage still holds the session');
            },
            () => undefined,
          );
          return [{ label: 'logout()', promise: logout }];
        },
        stop: () => client.stop(),
        tokens: () => tokensOf(client),
        async recover({ fresh }) {
          if (fresh) client = world.codeClient();
          await client.logout();
          contract(!storageHoldsTokens(world.storage), 'after a logout that resolved, storage still holds the session');
          client = world.codeClient();
          await world.signIn(client);
          await client.getAccessToken();
        },
      };
    },
  },
  {
    name: 'discovery',
    endpoint: 'metadata',
    clientId: 'spa',
    loginTime: true,
    blocking: true,
    holdsValidToken: false,
    maxFaultHits: 12,
    async prepare(world) {
      let client: OAuthClient<'authorization_code'> | undefined;
      const violations: string[] = [];
      return {
        violations,
        act() {
          const discovering = world.discoveringClient();
          client = discovering;
          return [{ label: 'ready', promise: discovering.ready }];
        },
        stop: () => client?.stop(),
        tokens: () => tokensOf(client),
        async recover() {
          // A failed discovery is final for that client: a new one tries again.
          client = world.discoveringClient();
          await client.ready;
          expect(await client.login()).toMatch(/^http/);
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------
// Faults (rows)

interface Cell {
  fault: FaultRow;
  world: FaultWorld;
  op: Operation;
  run: Run;
  outcomes: Outcome[];
  errors: OAuthError[];
  /** `performance.now()` when the callers started. */
  actStartedAt: number;
  /** How many tokens the server had issued when the fault was armed. */
  issuedBefore: number;
}

type Check = (cell: Cell) => void | Promise<void>;

interface FaultRow {
  name: string;
  transport: Transport;
  /** The server acted on a faulted request (its answer was lost), so the session may end and a refresh token may be presented twice. */
  reachesServer: boolean;
  /** Operations the fault can meet; the other cells are skipped as not applicable. */
  appliesTo(op: Operation): boolean;
  arm(world: FaultWorld, op: Operation): void;
  disarm(world: FaultWorld): void;
  hits(world: FaultWorld): number;
  /** The behaviour the fixes promise for this fault. */
  check?: Check;
}

const everywhere = (): boolean => true;
const tokenResponses = (op: Operation): boolean => op.endpoint === 'token';

function serverFault(name: string, fault: TestFault, check?: Check, appliesTo: FaultRow['appliesTo'] = everywhere): FaultRow {
  return memoryFault(name, { server: fault }, false, check, appliesTo);
}

function memoryFault(
  name: string,
  fault: MemoryFault,
  reachesServer: boolean,
  check?: Check,
  appliesTo: FaultRow['appliesTo'] = everywhere,
): FaultRow {
  return {
    name,
    transport: 'memory',
    reachesServer,
    appliesTo,
    arm: (world, op) => world.network.arm(op.endpoint, fault),
    disarm: (world) => world.network.disarm(),
    hits: (world) => world.network.hits,
    ...(check === undefined ? {} : { check }),
  };
}

function pathOf(endpoint: Endpoint): (path: string) => boolean {
  return (path) => path.includes('/.well-known/') ? endpoint === 'metadata' : path.endsWith(`/${endpoint}`);
}

function socketFault(name: string, fault: SocketFault, check: Check): FaultRow {
  return {
    name,
    transport: 'socket',
    reachesServer: socketFaultReachesServer(fault),
    appliesTo: everywhere,
    arm: (world, op) => world.proxy?.arm(pathOf(op.endpoint), fault),
    disarm: (world) => world.proxy?.disarm(),
    hits: (world) => world.proxy?.hits ?? 0,
    check,
  };
}

function storageFault(method: StorageMethod, appliesTo: FaultRow['appliesTo']): FaultRow {
  return {
    name: `storage ${method} throws`,
    transport: 'memory',
    reachesServer: false,
    appliesTo,
    arm: (world) => world.storage.arm(method),
    disarm: (world) => world.storage.disarm(),
    hits: (world) => world.storage.hits,
    check: ({ errors }) => {
      for (const error of errors) contract(error.code === 'storage_error', `a storage failure surfaced as ${error.code}, not storage_error`);
    },
  };
}

/** Rejections that may follow a fault the server acted on: the grant was spent, the session is over. */
const SESSION_OVER = ['invalid_grant', 'login_required'];

/** Every rejection has one of `codes` (or, after a fault the server acted on, says the session is over). */
function rejectionsAre(codes: string[]): Check {
  return ({ errors, fault }) => {
    for (const error of errors) {
      const allowed = codes.includes(error.code) || (fault.reachesServer && SESSION_OVER.includes(error.code));
      contract(allowed, `rejected with ${error.code}, expected ${codes.join(' or ')}`);
    }
  };
}

/** A blocking operation shows the fault: at least one caller rejected. */
function blockingRejects(cell: Cell, what: string): void {
  if (cell.op.blocking) contract(cell.errors.length > 0, `${cell.op.name} did not reject on ${what}`);
}

const redirectCheck: Check = (cell) => {
  contract((cell.world.other?.received.length ?? 0) === 0, `the other origin received ${cell.world.other?.received.map((r) => `${r.method} ${r.url}`).join(', ')}`);
  for (const error of cell.errors) {
    contract(error.code === 'unexpected_redirect' && !error.retryable, `a redirect surfaced as ${error.code} (retryable ${error.retryable}), not unexpected_redirect (not retryable)`);
  }
  blockingRejects(cell, 'a redirect');
};

const hangCheck: Check = (cell) => {
  for (const error of cell.errors) {
    const allowed = (error.code === 'timeout' && error.retryable) || (cell.fault.reachesServer && SESSION_OVER.includes(error.code));
    contract(allowed, `a request that never finished surfaced as ${error.code}, not timeout`);
  }
  if (cell.op.holdsValidToken) {
    // The held token is valid: it is served without waiting for the hung request.
    for (const outcome of cell.outcomes) {
      contract(outcome.status === 'fulfilled' && outcome.at - cell.actStartedAt < SOCKET_TIMEOUT_MS, `${outcome.label} waited ${Math.round(outcome.at - cell.actStartedAt)} ms for a hung refresh instead of serving the held token`);
    }
  }
};

const RETRY_AFTER_MS = 2_000;

const retryAfterCheck: Check = (cell) => {
  for (const error of cell.errors) {
    if (error.status !== 429) continue;
    const retryAfterMs = (error as OAuthError & { retryAfterMs?: number }).retryAfterMs;
    contract(retryAfterMs === RETRY_AFTER_MS, `a 429 with Retry-After: 2 gave retryAfterMs ${String(retryAfterMs)}`);
  }
  // Honoured: the library's own next request waits for it.
  const settledAt = Math.max(...cell.outcomes.map((outcome) => outcome.at));
  const requests = cell.world.network.requests.filter((request) => request.endpoint === cell.op.endpoint && request.startedAt >= cell.actStartedAt);
  requests.forEach((request, index) => {
    const next = requests[index + 1];
    if (request.status !== 429 || next === undefined || next.startedAt > settledAt || request.clockSettledAt === undefined) return;
    // On the clock the machines' timers run on (the world drives it while the callers run).
    const gap = (next.clockStartedAt ?? 0) - request.clockSettledAt;
    contract(gap >= RETRY_AFTER_MS, `the next request came ${Math.round(gap)} ms (clock) after a 429 with Retry-After: 2`);
  });
};

const transientCheck: Check = ({ errors }) => {
  for (const error of errors) {
    if (SESSION_OVER.includes(error.code)) continue;
    contract(error.retryable, `a ${String(error.status)} surfaced as ${error.code}, not retryable`);
  }
};

/** The tokens the client holds came from a response of the fault window (not the ones from before it). */
async function tokensFromTheWindow(cell: Cell, expiresIn: number): Promise<TokenSet | undefined> {
  contract(cell.errors.length === 0, `a valid token response with expires_in ${expiresIn} was refused: ${cell.errors.map((e) => e.code).join(', ')}`);
  const tokens = await cell.run.tokens();
  // The cache shows no tokens without asking for one; every other operation holds the session it just got.
  if (cell.op.name === 'client credentials (cache)') return undefined;
  contract(tokens !== undefined, `after a valid token response with expires_in ${expiresIn} the client holds no session`);
  if (tokens === undefined) return undefined;
  const issued = cell.world.server.issuedTokens().slice(cell.issuedBefore).map((token) => token.token);
  contract(issued.includes(tokens.accessToken), `a valid token response with expires_in ${expiresIn} was refused: the client still holds the token from before`);
  return tokens;
}

/** `expires_in` the client cannot use: the tokens are good, their lifetime is unknown. */
function lifetimeUnknownCheck(expiresIn: number): Check {
  return async (cell) => {
    const tokens = await tokensFromTheWindow(cell, expiresIn);
    if (tokens !== undefined) contract(tokens.expiresAt === undefined, `expires_in ${expiresIn} gave expiresAt ${String(tokens.expiresAt)} instead of an unknown lifetime`);
  };
}

const hugeLifetimeCheck: Check = async (cell) => {
  const tokens = await tokensFromTheWindow(cell, 1e9);
  if (tokens?.expiresAt !== undefined) {
    contract(Number.isSafeInteger(tokens.expiresAt) && tokens.expiresAt > cell.world.clock.now(), `expires_in 1e9 gave expiresAt ${tokens.expiresAt}`);
  }
};

function rewriteExpiresIn(expiresIn: number): MemoryFault {
  return { rewrite: (body) => ('access_token' in body ? { ...body, expires_in: expiresIn } : body) };
}

const clockBack = (): FaultRow => {
  let moved = new WeakSet<FaultWorld>();
  return {
    name: 'clock goes back 1 h',
    transport: 'memory',
    reachesServer: false,
    appliesTo: everywhere,
    arm(world, op) {
      world.network.arm(op.endpoint, {
        before: () => {
          if (moved.has(world)) return;
          moved.add(world);
          world.clock.set(world.clock.now() - 3_600_000);
        },
      });
    },
    disarm: (world) => world.network.disarm(),
    hits: (world) => world.network.hits,
  };
};

const FAULTS: FaultRow[] = [
  serverFault('500', { status: 500, body: { error: 'server_error' } }, transientCheck),
  serverFault('502', { status: 502, body: '<html><body>Bad gateway</body></html>', headers: { 'content-type': 'text/html' } }, transientCheck),
  serverFault('503', { status: 503 }, transientCheck),
  serverFault('429 Retry-After: 2', { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '2' } }, retryAfterCheck),
  socketFault('timeout before headers', 'no answer', hangCheck),
  socketFault('stall after headers', 'stall after headers', hangCheck),
  socketFault('connection reset mid-body', 'reset mid-body', rejectionsAre(['network_error', 'timeout'])),
  serverFault('truncated JSON', { status: 200, body: '{"access_token":"at_trunc', headers: { 'content-type': 'application/json' } }, rejectionsAre(['invalid_response'])),
  serverFault('HTML 200 page', { notJson: true }, rejectionsAre(['invalid_response'])),
  socketFault('307 redirect to another origin', { redirect: 307 }, redirectCheck),
  socketFault('302 redirect to another origin', { redirect: 302 }, redirectCheck),
  // The server issued these tokens (a refresh token it rotated): only the answer is odd.
  memoryFault('expires_in 0', rewriteExpiresIn(0), true, lifetimeUnknownCheck(0), tokenResponses),
  memoryFault('expires_in negative', rewriteExpiresIn(-3600), true, lifetimeUnknownCheck(-3600), tokenResponses),
  memoryFault('expires_in huge (1e9)', rewriteExpiresIn(1e9), true, hugeLifetimeCheck, tokenResponses),
  storageFault('get', (op) => !['client credentials (client)', 'device poll', 'revoke (logout)'].includes(op.name)),
  storageFault('set', (op) => op.name !== 'discovery' && op.name !== 'revoke (logout)'),
  storageFault('remove', (op) => op.name === 'revoke (logout)'),
  clockBack(),
];

// ---------------------------------------------------------------------------
// The cell

/** Keeps the fault armed until the callers settled and the library was quiet, or it was hit enough, or the window closed. */
async function faultWindow(world: FaultWorld, fault: FaultRow, op: Operation, callers: Caller[]): Promise<void> {
  let settledAt: number | undefined;
  void Promise.allSettled(callers.map((caller) => caller.promise)).then(() => {
    settledAt = performance.now();
  });
  const deadline = performance.now() + WINDOW_MS;
  while (performance.now() < deadline) {
    if (fault.hits(world) >= op.maxFaultHits) return;
    if (settledAt !== undefined && fault.hits(world) > 0 && performance.now() - settledAt >= QUIET_MS) return;
    await sleep(5);
  }
}

/** Waits until no request is in flight (a stopped client may still finish one in the background). */
async function networkIdle(world: FaultWorld): Promise<void> {
  const endpoints: Endpoint[] = ['token', 'revoke', 'metadata', 'device_authorization'];
  const deadline = performance.now() + LIVENESS_MS;
  while (endpoints.some((endpoint) => world.network.inFlight(endpoint) > 0) && performance.now() < deadline) await sleep(5);
  await sleep(20);
}

/** (e), given a moment: the answer to the last request may still be on its way to storage (a bound, not a timing assertion). */
async function checkStored(world: FaultWorld, op: Operation, run: Run): Promise<void> {
  const deadline = performance.now() + 1_000;
  for (;;) {
    try {
      newestRefreshTokenIsStored(world.server, world.storage, op.clientId, (await run.tokens())?.refreshToken);
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

async function runCell(fault: FaultRow, op: Operation, { blameUnhandled }: { blameUnhandled: boolean }): Promise<void> {
  const world = await createFaultWorld(fault.transport);
  const unhandledFrom = unhandled.list.length;
  try {
    const run = await op.prepare(world);
    const from = world.network.requests.length;
    const issuedBefore = world.server.issuedTokens().length;
    fault.arm(world, op);
    // From here on the manual clock moves (fast): backoffs and device polls pass, nothing waits on real time.
    world.driveClock();
    const actStartedAt = performance.now();
    const callers = run.act();
    await faultWindow(world, fault, op, callers);
    fault.disarm(world);
    const outcomes = await allSettleWithin(callers, op.livenessMs);
    const errors = everyRejectionIsOAuthError(outcomes);
    contract(fault.hits(world) > 0, `the fault never met ${op.name} (the cell would pass vacuously)`);
    for (const violation of run.violations) contract(false, violation);
    await fault.check?.({ fault, world, op, run, outcomes, errors, actStartedAt, issuedBefore });
    atMostOneTokenRequestInFlight(world.network);
    noCodeSentTwice(world.server, { refreshTokens: !fault.reachesServer });
    // A lost answer or a failed write leaves an old refresh token behind until the next renewal; else it is newest at once.
    if (!fault.reachesServer && !fault.name.startsWith('storage')) {
      await networkIdle(world);
      await checkStored(world, op, run);
    }
    // The fault stops, and the hold-back after the last failure passes (a later demand retries after the backoff):
    // a request that met the fault and is still under way fails first.
    await networkIdle(world);
    world.clock.advance(BACKOFF_PASSES_MS);
    await recovers(op.name, () => run.recover({ sessionMayHaveEnded: fault.reachesServer, fresh: false }), op.livenessMs);
    await checkStored(world, op, run);
    atMostOneTokenRequestInFlight(world.network);
    noCodeSentTwice(world.server, { refreshTokens: !fault.reachesServer });
    noRequestLoop(world.network, from);
    await sleep(5);
    if (blameUnhandled) noUnhandledRejection(unhandled.list, unhandledFrom);
  } finally {
    await world.close();
  }
}

// ---------------------------------------------------------------------------
// stop() at each await

/** Calls `onCall(n)` for each fetch and storage call the world makes from now on. */
function countCalls(world: FaultWorld, onCall: (n: number, what: string) => void): () => string[] {
  const calls: string[] = [];
  world.network.onCall = (endpoint) => {
    calls.push(`fetch ${endpoint}`);
    onCall(calls.length, `fetch ${endpoint}`);
  };
  world.storage.onCall = (method) => {
    calls.push(`storage ${method}`);
    onCall(calls.length, `storage ${method}`);
  };
  return () => calls;
}

/** The fetch and storage calls the operation makes, fault-free. */
async function awaitsOf(op: Operation): Promise<string[]> {
  const world = await createFaultWorld('memory');
  try {
    const run = await op.prepare(world);
    const calls = countCalls(world, () => undefined);
    world.driveClock();
    await allSettleWithin(run.act(), op.livenessMs);
    await networkIdle(world);
    return calls();
  } finally {
    await world.close();
  }
}

async function stopAt(op: Operation, n: number): Promise<void> {
  const blameUnhandled = sequential;
  const world = await createFaultWorld('memory');
  const unhandledFrom = unhandled.list.length;
  try {
    const run = await op.prepare(world);
    const from = world.network.requests.length;
    countCalls(world, (count) => {
      // Right after the call was made, before the library's await on it resumes.
      if (count === n) queueMicrotask(() => run.stop());
    });
    world.driveClock();
    const outcomes = await allSettleWithin(run.act(), op.livenessMs);
    const errors = everyRejectionIsOAuthError(outcomes);
    for (const error of errors) contract(error.code === 'aborted', `a call racing stop() rejected with ${error.code}, not aborted`);
    await networkIdle(world);
    world.network.onCall = undefined;
    world.storage.onCall = undefined;
    atMostOneTokenRequestInFlight(world.network);
    noCodeSentTwice(world.server, { refreshTokens: true });
    // A refresh whose request was sent still stores the server's answer.
    if (op.endpoint !== 'revoke') await checkStored(world, op, { ...run, tokens: () => Promise.resolve(undefined) });
    world.clock.advance(BACKOFF_PASSES_MS);
    await recovers(op.name, () => run.recover({ sessionMayHaveEnded: op.loginTime, fresh: true }), op.livenessMs);
    await checkStored(world, op, run);
    noCodeSentTwice(world.server, { refreshTokens: true });
    noRequestLoop(world.network, from);
    await sleep(5);
    if (blameUnhandled) noUnhandledRejection(unhandled.list, unhandledFrom);
  } finally {
    await world.close();
  }
}

async function runStopCell(op: Operation): Promise<void> {
  const calls = await awaitsOf(op);
  expect(calls.length, `${op.name} makes no fetch or storage call`).toBeGreaterThan(0);
  for (let n = 1; n <= calls.length; n += 1) {
    try {
      await stopAt(op, n);
    } catch (error) {
      throw new Error(`stop() after call ${n} of ${calls.length} (${calls[n - 1]}; calls: ${calls.join(', ')}): ${error instanceof Error ? error.message : describeReason(error)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// The matrix

/**
 * Some cells wait in real time (a socket timeout, a hung body until the liveness bound; a device poll
 * interval or a Retry-After passes on the driven manual clock), so cells run side by side (vitest's maxConcurrency). An unhandled
 * rejection is then caught by the file's collector but not blamed on one cell: FAULTS_SEQUENTIAL=1
 * runs the cells one by one, each checking that none arose while it ran.
 */
/**
 * Cells whose defect is known and not fixed yet (none now: a restore that cannot read the storage waits in
 * `restoreFailed`, callers get its `storage_error`, and the storage is read again after a delay).
 */
const OPEN_DEFECTS = new Set<string>();

const sequential = process.env['FAULTS_SEQUENTIAL'] === '1';
const cellTest = sequential ? it : it.concurrent;

(sequential ? describe : describe.concurrent)('fault matrix', () => {
  describe.each(FAULTS.map((fault) => ({ fault, name: fault.name })))('$name', ({ fault }) => {
    const cells = OPERATIONS.map((op) => ({ op, cell: `${op.name} × ${fault.name}` }));
    const applicable = cells.filter(({ op }) => fault.appliesTo(op));
    cellTest.each(applicable.filter(({ cell }) => !OPEN_DEFECTS.has(cell)))('$cell', async ({ op }) => {
      await runCell(fault, op, { blameUnhandled: sequential });
    }, 30_000);
    // An open defect's cell must keep failing: once it passes, this fails and the cell moves back above.
    it.fails.each(applicable.filter(({ cell }) => OPEN_DEFECTS.has(cell)))('$cell (open defect)', async ({ op }) => {
      await runCell(fault, op, { blameUnhandled: false });
    }, 30_000);
    it.skip.each(cells.filter(({ op }) => !fault.appliesTo(op)))('$cell (not applicable)', () => undefined);
  });

  describe('stop() at each await', () => {
    cellTest.each(OPERATIONS.map((op) => ({ op, cell: `${op.name} × stop() at each await` })))('$cell', async ({ op }) => {
      await runStopCell(op);
    }, 60_000);
  });
});
