/**
 * Property: whatever happens — the clock jumping forwards and backwards,
 * bursts of concurrent callers, the token endpoint failing and healing,
 * clients stopped, restarted and logging out at any point, two clients on one
 * storage (memoryStorage and its lock) — the library keeps the invariants of
 * test/support/invariants.ts after every step, and every caller settles.
 *
 * Through the public API only (createOAuthClient), against the in-memory test
 * server on a manual clock shared with the clients. The seed is printed;
 * replay a run with FAULTS_SEED=<seed> (and FAULTS_PATH=<path> from fast-check's report, for its shrunk counterexample).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { OAuthClient } from '../src/client.js';
import type { OAuthError } from '../src/errors.js';
import { webCrypto } from '../src/services/index.js';
import type { CryptoService } from '../src/services/types.js';
import type { TestFault } from '../src/testing/index.js';
import { BACKOFF_PASSES_MS, createFaultWorld, type FaultWorld } from './support/faultWorld.js';
import {
  allSettleWithin,
  atMostOneTokenRequestInFlight,
  contract,
  everyRejectionIsOAuthError,
  newestRefreshTokenIsStored,
  noCodeSentTwice,
  noRequestLoop,
  noUnhandledRejection,
  recovers,
  unhandledRejections,
  type Caller,
} from './support/invariants.js';

type Slot = 0 | 1;
type NetworkFault = '503' | '500 server_error' | 'dropped' | 'HTML 200' | '429' | 'invalid_grant';

type Step =
  | { kind: 'tick'; ms: number }
  | { kind: 'rewind'; ms: number }
  | { kind: 'burst'; slot: Slot; callers: number }
  | { kind: 'fault'; fault: NetworkFault }
  | { kind: 'heal' }
  | { kind: 'restart'; slot: Slot }
  | { kind: 'stop'; slot: Slot }
  /** Stops the client right after the next token request is sent (by either client). */
  | { kind: 'stop after next request'; slot: Slot }
  | { kind: 'logout'; slot: Slot }
  | { kind: 'login'; slot: Slot };

const FAULTS: Record<NetworkFault, TestFault> = {
  '503': { status: 503 },
  '500 server_error': { status: 500, body: { error: 'server_error' } },
  dropped: { drop: true },
  'HTML 200': { notJson: true },
  '429': { status: 429, body: 'Too Many Requests' },
  invalid_grant: { oauthError: 'invalid_grant' },
};

const slot = fc.constantFrom<Slot>(0, 1);
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 * 3_600_000 }).map((ms): Step => ({ kind: 'tick', ms })), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 3_600_000 }).map((ms): Step => ({ kind: 'rewind', ms })), weight: 1 },
  { arbitrary: fc.record({ slot, callers: fc.integer({ min: 1, max: 8 }) }).map((s): Step => ({ kind: 'burst', ...s })), weight: 4 },
  { arbitrary: fc.constantFrom<NetworkFault>('503', '500 server_error', 'dropped', 'HTML 200', '429', 'invalid_grant').map((fault): Step => ({ kind: 'fault', fault })), weight: 2 },
  { arbitrary: fc.constant<Step>({ kind: 'heal' }), weight: 2 },
  { arbitrary: slot.map((s): Step => ({ kind: 'restart', slot: s })), weight: 1 },
  { arbitrary: slot.map((s): Step => ({ kind: 'stop', slot: s })), weight: 1 },
  { arbitrary: slot.map((s): Step => ({ kind: 'stop after next request', slot: s })), weight: 1 },
  { arbitrary: slot.map((s): Step => ({ kind: 'logout', slot: s })), weight: 1 },
  { arbitrary: slot.map((s): Step => ({ kind: 'login', slot: s })), weight: 1 },
);

/** After a step, wait until the library is quiet, or only a few microtasks (the next step lands mid-request). */
const settles = fc.oneof(
  { arbitrary: fc.constant<'quiet'>('quiet'), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 40 }), weight: 2 },
);
const script = fc.array(fc.tuple(step, settles), { minLength: 1, maxLength: 12 });

/** Repeatable randomness for the clients (PKCE, state, backoff jitter); hashing stays WebCrypto. */
function seededCrypto(seed: number): CryptoService {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return {
    randomBytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
    sha256: webCrypto().sha256,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until no request has been in flight for a moment (a backoff waits for the manual clock, which only the steps move). */
async function quiescent(world: FaultWorld): Promise<void> {
  const deadline = performance.now() + 1_000;
  let quietSince = performance.now();
  while (performance.now() < deadline) {
    if (world.network.inFlight('token') + world.network.inFlight('revoke') > 0) quietSince = performance.now();
    else if (performance.now() - quietSince >= 15) return;
    await sleep(2);
  }
}

interface Model {
  world: FaultWorld;
  slots: [OAuthClient<'authorization_code'> | undefined, OAuthClient<'authorization_code'> | undefined];
  callers: Caller[];
  /** A logout or an invalid_grant may have ended the session: at the end a fresh login is allowed. */
  mayHaveEnded: boolean;
  /** How far the rewinds set the clock back: a manual clock's pending timers (a backoff) are postponed by as much. */
  rewound: number;
}

/** A caller whose rejection is looked at later: observed now, so it never counts as unhandled. */
function call(model: Model, label: string, promise: Promise<unknown>): void {
  promise.catch(() => undefined);
  model.callers.push({ label, promise });
}

function clientIn(model: Model, at: Slot): OAuthClient<'authorization_code'> {
  const existing = model.slots[at];
  if (existing !== undefined) return existing;
  const created = model.world.codeClient();
  model.slots[at] = created;
  return created;
}

function apply(model: Model, s: Step): void {
  const { world } = model;
  switch (s.kind) {
    case 'tick':
      world.clock.advance(s.ms);
      return;
    case 'rewind':
      world.clock.set(world.clock.now() - s.ms);
      model.rewound += s.ms;
      return;
    case 'burst': {
      const client = model.slots[s.slot];
      if (client === undefined) return;
      for (let n = 0; n < s.callers; n += 1) call(model, `getAccessToken() on client ${s.slot}`, client.getAccessToken());
      return;
    }
    case 'fault':
      if (s.fault === 'invalid_grant') model.mayHaveEnded = true;
      world.network.arm('token', { server: FAULTS[s.fault] });
      return;
    case 'heal':
      world.network.disarm();
      return;
    case 'restart':
      model.slots[s.slot]?.stop();
      model.slots[s.slot] = world.codeClient();
      return;
    case 'stop':
      model.slots[s.slot]?.stop();
      model.slots[s.slot] = undefined;
      return;
    case 'stop after next request': {
      const client = model.slots[s.slot];
      if (client === undefined) return;
      world.network.onCall = (endpoint) => {
        if (endpoint !== 'token') return;
        world.network.onCall = undefined;
        queueMicrotask(() => client.stop());
        if (model.slots[s.slot] === client) model.slots[s.slot] = undefined;
      };
      return;
    }
    case 'logout': {
      const client = model.slots[s.slot];
      if (client === undefined) return;
      model.mayHaveEnded = true;
      call(model, `logout() on client ${s.slot}`, client.logout());
      return;
    }
    case 'login': {
      const client = clientIn(model, s.slot);
      const login = (async () => {
        if ((await client.getTokens()) !== undefined) return;
        await world.signIn(client);
      })();
      call(model, `login on client ${s.slot}`, login);
      return;
    }
  }
}

/** The invariants; `quiet`: no request is under way, so storage must hold the newest refresh token too. */
async function checkInvariants(model: Model, unhandledFrom: number, list: unknown[], requestsBefore: number, quiet: boolean): Promise<void> {
  const { world } = model;
  const settled = await Promise.all(
    model.callers.map(async (caller) => {
      const outcome = await Promise.race([caller.promise.then(() => undefined, (reason: unknown) => ({ reason })), sleep(0).then(() => 'pending' as const)]);
      return outcome;
    }),
  );
  const rejected = settled.flatMap((outcome, index) =>
    outcome !== undefined && outcome !== 'pending' ? [{ label: model.callers[index]?.label ?? '', status: 'rejected' as const, reason: outcome.reason, at: 0 }] : [],
  );
  everyRejectionIsOAuthError(rejected);
  atMostOneTokenRequestInFlight(world.network);
  contract(world.network.maxInFlight('token', 'refresh_token') <= 1, 'two refreshes of the shared session were in flight at once');
  noCodeSentTwice(world.server, { refreshTokens: true });
  if (quiet) newestRefreshTokenIsStored(world.server, world.storage, 'spa');
  noRequestLoop(world.network, requestsBefore);
  noUnhandledRejection(list, unhandledFrom);
}

const unhandled = unhandledRejections();
beforeAll(() => unhandled.start());
afterAll(() => unhandled.stop());

const seed = Number(process.env['FAULTS_SEED'] ?? Date.now() % 2 ** 31);

describe('faults, property', () => {
  it('after any script of clock jumps, caller bursts, token endpoint faults, stops, restarts, logouts and two clients on one storage: every caller settles with a token or an OAuthError, one refresh at a time, no code or spent refresh token sent again, storage holds the newest refresh token, no request loop, and the session recovers once the faults stop', async () => {
    console.log(`faults.property seed: ${seed} (replay with FAULTS_SEED=${seed})`);
    await fc.assert(
      fc.asyncProperty(script, fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (steps, cryptoSeed) => {
        const world = await createFaultWorld('memory', { crypto: seededCrypto(cryptoSeed) });
        const unhandledFrom = unhandled.list.length;
        const model: Model = { world, slots: [undefined, undefined], callers: [], mayHaveEnded: false, rewound: 0 };
        try {
          await world.signIn(clientIn(model, 0));
          for (const [index, [s, settle]] of steps.entries()) {
            const requestsBefore = world.network.requests.length;
            apply(model, s);
            if (settle === 'quiet') await quiescent(world);
            else for (let tick = 0; tick < settle; tick += 1) await Promise.resolve();
            try {
              await checkInvariants(model, unhandledFrom, unhandled.list, requestsBefore, settle === 'quiet');
            } catch (error) {
              throw new Error(`after step ${index + 1} (${JSON.stringify(s)}): ${error instanceof Error ? error.message : String(error)}`);
            }
          }
          // The faults stop: everyone settles, and the session works again.
          const recoveryFrom = world.network.requests.length;
          world.network.disarm();
          world.network.onCall = undefined;
          // A request sent while the fault was armed still answers with it: let those settle first, so the
          // hold-back their failures start is the one the clock is moved past.
          await quiescent(world);
          // …and the hold-back after the failures passes: a later demand retries after the backoff.
          // (A manual clock's timers keep their due time when it is set back: the time rewound passes again.)
          world.clock.advance(BACKOFF_PASSES_MS + model.rewound);
          // Time goes on: a retry that was waiting out its backoff (on the manual clock) makes its next attempt.
          world.driveClock();
          const outcomes = await allSettleWithin(model.callers);
          everyRejectionIsOAuthError(outcomes);
          const client = model.slots[0] ?? model.slots[1] ?? clientIn(model, 0);
          await recovers('getAccessToken() once the faults stopped', async () => {
            try {
              await client.getAccessToken();
            } catch (error) {
              const code = (error as Partial<OAuthError>).code;
              if (!model.mayHaveEnded || (code !== 'login_required' && code !== 'invalid_grant')) throw error;
              await world.signIn(client);
              await client.getAccessToken();
            }
          });
          await quiescent(world);
          await checkInvariants(model, unhandledFrom, unhandled.list, recoveryFrom, true).catch((error: unknown) => {
            throw new Error(`at the end: ${error instanceof Error ? error.message : String(error)}`);
          });
        } finally {
          await world.close();
        }
      }),
      // Shrinking a failure is bounded too: the best counterexample so far is reported.
      { numRuns: 60, seed, interruptAfterTimeLimit: 40_000, ...(process.env['FAULTS_PATH'] ? { path: process.env['FAULTS_PATH'] } : {}) },
    );
  }, 120_000);
});
