/**
 * Property tests: random sequences of caller events, forged and replayed
 * callbacks, clock ticks and injected server faults, run against the test
 * authorization server. fast-check prints the seed and the shrunk sequence
 * of any failure.
 */
import { fc, test } from '@fast-check/vitest';
import { expect, vi } from 'vitest';
import type { Actor } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import type { GrantContext } from '../machines/types.js';
import type { ManualClock } from '../src/services/clock.js';
import { createHarness, stateOf, storedSession, type Harness } from './machines.fixtures.js';

type Command =
  | { kind: 'LOGIN' }
  | { kind: 'CALLBACK'; callback: 'valid' | 'forged state' | 'replayed' | 'wrong iss' | 'denied' }
  | { kind: 'REFRESH' }
  | { kind: 'LOGOUT' }
  | { kind: 'CANCEL' }
  | { kind: 'RETRY' }
  | { kind: 'tick'; ms: number }
  | { kind: 'fault'; fault: 'token 503' | 'token invalid_grant' | 'token dropped' | 'revoke 503' }
  | { kind: 'restart' };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant<Command>({ kind: 'LOGIN' }),
  fc.constantFrom<'valid' | 'forged state' | 'replayed' | 'wrong iss' | 'denied'>(
    'valid',
    'valid',
    'forged state',
    'replayed',
    'wrong iss',
    'denied',
  ).map((callback): Command => ({ kind: 'CALLBACK', callback })),
  fc.constant<Command>({ kind: 'REFRESH' }),
  fc.constant<Command>({ kind: 'LOGOUT' }),
  fc.constant<Command>({ kind: 'CANCEL' }),
  fc.constant<Command>({ kind: 'RETRY' }),
  fc.integer({ min: 0, max: 2 * 3_600_000 }).map((ms): Command => ({ kind: 'tick', ms })),
  fc
    .constantFrom<'token 503' | 'token invalid_grant' | 'token dropped' | 'revoke 503'>('token 503', 'token invalid_grant', 'token dropped', 'revoke 503')
    .map((fault): Command => ({ kind: 'fault', fault })),
  fc.constant<Command>({ kind: 'restart' }),
);

/** The real `setImmediate`, captured before fake timers are installed: WebCrypto settles on a real tick. */
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

/**
 * Waits until the actor is ready and not busy, running due timers; the clock moves only by a backoff the
 * actor waits out (its timers run on the clock).
 */
async function settle(actor: Actor<typeof authorizationCodeMachine>, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    const snapshot = actor.getSnapshot();
    if (snapshot.hasTag('ready') && !snapshot.hasTag('busy')) return;
    if (snapshot.matches({ refreshing: 'retrying' })) clock.advance(Math.max(0, (snapshot.context.retryNotBefore ?? 0) - clock.now()));
    if (snapshot.matches({ exchanging: 'waiting' })) clock.advance(Math.max(0, (snapshot.context.exchange?.retryAt ?? 0) - clock.now()));
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => (i < 100 ? realSetImmediate(resolve) : realSetTimeout(resolve, 1)));
  }
  throw new Error(`did not settle: ${stateOf(actor)}`);
}

interface World {
  h: Harness;
  actor: Actor<typeof authorizationCodeMachine>;
  /** Codes the server issued for this actor's own authorization requests, sent back with the right state. */
  ownCodes: Set<string>;
  /** Codes sent back in callbacks that must be refused. */
  refusedCodes: Set<string>;
  usedCallbacks: string[];
  /** The last authorization URL the actor produced (kept across a restart, like the browser's address bar). */
  authorizationUrl: string | undefined;
}

async function run(world: World, cmd: Command): Promise<void> {
  const { h } = world;
  world.authorizationUrl = world.actor.getSnapshot().context.authorizationUrl ?? world.authorizationUrl;
  const context = (): GrantContext => world.actor.getSnapshot().context;
  switch (cmd.kind) {
    case 'LOGIN':
    case 'REFRESH':
    case 'LOGOUT':
    case 'CANCEL':
    case 'RETRY':
      world.actor.send({ type: cmd.kind });
      return;
    case 'tick':
      h.server.clock.advance(cmd.ms);
      await vi.advanceTimersByTimeAsync(cmd.ms);
      return;
    case 'restart':
      world.actor.stop();
      world.actor = h.start(authorizationCodeMachine);
      return;
    case 'fault':
      if (cmd.fault === 'token 503') h.server.fail('token', { status: 503 }, { times: 2 });
      if (cmd.fault === 'token invalid_grant') h.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
      if (cmd.fault === 'token dropped') h.server.fail('token', { drop: true });
      if (cmd.fault === 'revoke 503') h.server.fail('revoke', { status: 503 });
      return;
    case 'CALLBACK': {
      if (cmd.callback === 'replayed') {
        // A replayed code may have been redeemed once already; "at most once" is what is checked for it.
        const used = world.usedCallbacks[0] ?? 'https://app.test/callback?code=made-up&state=made-up';
        if (world.usedCallbacks.length === 0) world.refusedCodes.add('made-up');
        world.actor.send({ type: 'CALLBACK', url: used });
        return;
      }
      const url = context().authorizationUrl ?? world.authorizationUrl;
      if (url === undefined || context().pending === undefined) {
        world.actor.send({ type: 'CALLBACK', url: 'https://app.test/callback?code=made-up&state=made-up' });
        world.refusedCodes.add('made-up');
        return;
      }
      if (cmd.callback === 'denied') h.server.nextAuthorization({ deny: true });
      const callback = new URL(await h.server.authorize(url));
      if (cmd.callback === 'forged state') callback.searchParams.set('state', 'forged');
      if (cmd.callback === 'wrong iss') callback.searchParams.set('iss', 'https://evil.test');
      const code = callback.searchParams.get('code');
      if (code !== null) (cmd.callback === 'valid' ? world.ownCodes : world.refusedCodes).add(code);
      world.usedCallbacks.push(callback.toString());
      world.actor.send({ type: 'CALLBACK', url: callback.toString() });
      return;
    }
  }
}

async function withWorld(check: (world: World) => Promise<void>): Promise<void> {
  vi.useFakeTimers();
  try {
    // Backoff of 0 ms: settle() runs due timers but never moves time, so that the clock moves only by `tick`.
    const h = createHarness({ server: { logSecrets: true }, grant: { retryBaseMs: 0, maxRefreshAttempts: 2 } });
    const world: World = { h, actor: h.start(authorizationCodeMachine), ownCodes: new Set(), refusedCodes: new Set(), usedCallbacks: [], authorizationUrl: undefined };
    await check(world);
    world.actor.stop();
    await vi.runOnlyPendingTimersAsync();
    expect(h.actorErrors).toEqual([]);
  } finally {
    vi.useRealTimers();
  }
}

const commands = fc.array(command, { minLength: 1, maxLength: 14 });
const runs = { numRuns: 60 };

test.prop([commands], runs)(
  'never authenticated without a successful exchange of a code this actor issued; refused codes are never redeemed; a code is redeemed at most once, and sent again only after a transient failure',
  async (cmds) => {
    await withWorld(async (world) => {
      await settle(world.actor, world.h.server.clock);
      for (const cmd of cmds) {
        await run(world, cmd);
        await settle(world.actor, world.h.server.clock);
        const exchanges = world.h.server.tokenRequests('authorization_code');
        const redeemed = exchanges.map((entry) => entry.params.code ?? '');
        for (const code of world.refusedCodes) expect(redeemed).not.toContain(code);
        const succeeded = exchanges.filter((entry) => entry.status === 200).map((entry) => entry.params.code ?? '');
        expect(new Set(succeeded).size).toBe(succeeded.length);
        // The same code again only after its sending failed transiently (5xx, 429, dropped), never after it was answered.
        exchanges.forEach((entry, index) => {
          const earlier = exchanges.slice(0, index).filter((before) => before.params.code === entry.params.code);
          for (const before of earlier) expect(before.status === 0 || before.status === 429 || before.status >= 500, `resent after ${before.status}`).toBe(true);
        });
        if (world.actor.getSnapshot().hasTag('signedIn')) {
          const succeeded = exchanges.filter((entry) => entry.status === 200 && world.ownCodes.has(entry.params.code ?? ''));
          expect(succeeded.length).toBeGreaterThan(0);
        }
      }
    });
  },
);

test.prop([commands], runs)('tokens are in context exactly in authenticated and refreshing', async (cmds) => {
  await withWorld(async (world) => {
    await settle(world.actor, world.h.server.clock);
    for (const cmd of cmds) {
      await run(world, cmd);
      // Checked at every snapshot, not only settled ones.
      const snapshot = world.actor.getSnapshot();
      const signedIn = ['authenticated', 'refreshing'].includes(stateOf(world.actor));
      expect(snapshot.context.tokens !== undefined, `in ${stateOf(world.actor)}`).toBe(signedIn);
      await settle(world.actor, world.h.server.clock);
      const settled = world.actor.getSnapshot();
      const settledSignedIn = ['authenticated', 'refreshing'].includes(stateOf(world.actor));
      expect(settled.context.tokens !== undefined, `in ${stateOf(world.actor)}`).toBe(settledSignedIn);
      expect(settled.hasTag('signedIn')).toBe(settledSignedIn);
    }
  });
});

test.prop([commands], runs)('a refresh token is never lost on a retryable failure', async (cmds) => {
  await withWorld(async (world) => {
    await settle(world.actor, world.h.server.clock);
    for (const cmd of cmds) {
      const before = world.actor.getSnapshot().context;
      const refreshBefore = before.tokens?.refreshToken ?? before.staleTokens?.refreshToken;
      await run(world, cmd);
      await settle(world.actor, world.h.server.clock);
      const after = world.actor.getSnapshot().context;
      if (refreshBefore !== undefined && after.error?.retryable === true && cmd.kind !== 'LOGOUT') {
        const refreshAfter = after.tokens?.refreshToken ?? after.staleTokens?.refreshToken;
        expect(refreshAfter).toBeDefined();
        const stored = await storedSession(world.h.storage);
        expect(stored?.tokens).toMatchObject({ refreshToken: expect.any(String) });
      }
    }
  });
});

test.prop([commands], runs)('the pending authorization is gone after its own callback, valid or not; a forged one leaves it', async (cmds) => {
  await withWorld(async (world) => {
    await settle(world.actor, world.h.server.clock);
    for (const cmd of cmds) {
      const before = world.actor.getSnapshot().context.pending;
      await run(world, cmd);
      await settle(world.actor, world.h.server.clock);
      if (cmd.kind !== 'CALLBACK') continue;
      if (world.actor.getSnapshot().hasTag('awaitingCallback')) {
        // Refused as another login's callback: the pending authorization (the one held, or the one a fresh
        // restore found in storage) is untouched.
        expect(world.actor.getSnapshot().context.error?.code).toBe('state_mismatch');
        expect(world.actor.getSnapshot().context.pending).toBeDefined();
        if (before !== undefined) expect(world.actor.getSnapshot().context.pending).toEqual(before);
        continue;
      }
      expect(world.actor.getSnapshot().context.pending).toBeUndefined();
      await vi.advanceTimersByTimeAsync(0);
      const stored = await storedSession(world.h.storage);
      expect(stored?.pending).toBeUndefined();
    }
  });
});
