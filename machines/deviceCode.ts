/**
 * The device authorization grant (RFC 8628): the device shows a user code,
 * the user approves on another device, the machine polls the token endpoint.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import { OAuthError } from '../src/errors.js';
import { pollDeviceToken, requestDeviceAuthorization } from '../src/protocol/operations.js';
import {
  authenticatedState,
  initialGrantContext,
  lifecycleActions,
  lifecycleDelays,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
  sessionChangedTransitions,
  sessionToRestore,
  storedBlob,
  whenRestoreFails,
  thrownError,
  type LifecycleChildren,
  discoveringState,
  endingProviderSessionState,
  discoveryFailedState,
  startingState,
} from './lifecycle.js';
import { lifecycleActors, notStopped, storeNewSession, toOAuthError, type NewSession } from './lifecycleActors.js';
import { MAX_RETRY_AFTER_MS } from '../src/session/backoff.js';
import { pendingLoginKey, writeSession, type SessionBlob } from './persistence.js';
import { startTimer } from './timers.js';
import type { DeviceAuthorizationState, GrantContext, GrantEvent, GrantInput, GrantTag, WithRuntime } from './types.js';
import { requestedScopes, runtimeOf, withRuntime } from './types.js';

export interface DeviceRequestInput extends WithRuntime {
  scopes: string[] | undefined;
}

/** RFC 8628 §3.1–3.2, then stores the device authorization so a restarted app keeps polling. */
const requestDeviceCode = fromPromise<DeviceAuthorizationState, DeviceRequestInput>(async ({ input, signal }) => {
  const { provider, client, services, options } = runtimeOf(input);
  const request = { provider, client, services, signal };
  const device: DeviceAuthorizationState = await requestDeviceAuthorization(
    input.scopes === undefined ? request : { ...request, scopes: input.scopes },
  );
  const blob: SessionBlob = { version: 1, machine: 'deviceCode', state: 'awaitingUser', device, savedAt: services.clock.now() };
  await writeSession(services.storage, pendingLoginKey(options.storageKey), blob);
  return device;
});

export interface PollInput extends WithRuntime {
  device: DeviceAuthorizationState;
}

export interface PollTimerInput extends WithRuntime {
  /** Epoch ms on `services.clock` when the next poll is due: kept in a persisted snapshot, so a restore waits out the rest. */
  fireAt: number;
}

/** Sends `POLL_DUE` at `fireAt` by `services.clock` (an invoked actor, so it starts again when a snapshot is restored). */
const waitForPollInterval = fromCallback<GrantEvent, PollTimerInput>(({ input, sendBack }) => {
  const { clock } = runtimeOf(input).services;
  return startTimer(clock, input.fireAt - clock.now(), () => sendBack({ type: 'POLL_DUE' }));
});

/**
 * RFC 8628 §3.4–3.5: polls once. Throws the server's `authorization_pending`
 * / `slow_down` for the machine to poll again after its interval, and
 * `expired_token` once the device code is past its `expires_in`.
 */
const pollForToken = fromPromise<NewSession, PollInput>(async ({ input, signal }) => {
  const { provider, client, services, options, dpop } = runtimeOf(input);
  const { device } = input;
  if (services.clock.now() >= device.expiresAt) {
    throw new OAuthError('expired_token', { description: 'the device code expired before the user approved', retryable: false });
  }
  notStopped(signal, 'the device poll');
  // No signal once sent: an approval the server answers with tokens is stored even if the actor stopped.
  const tokens = await pollDeviceToken({ provider, client, services, deviceCode: device.deviceCode, ...(dpop === undefined ? {} : { dpop }) });
  return storeNewSession(services, options.storageKey, 'deviceCode', tokens);
});

/** The least time between two polls, whatever interval the server announced. */
const MIN_POLL_INTERVAL_S = 1;

/** When the next poll is due: `interval` seconds from now (RFC 8628 §3.2: a stored one is floored too). */
function nextPollAt(context: GrantContext): number {
  const interval = Math.max(context.device?.interval ?? MIN_POLL_INTERVAL_S, MIN_POLL_INTERVAL_S);
  return runtimeOf(context).services.clock.now() + interval * 1000;
}

type ErrorParams = { error: unknown };

/**
 * The device authorization grant (RFC 8628) as an XState v5 machine.
 *
 * States: `restoring` (→ `restoreFailed` while the storage cannot be read) → `idle` → `requestingCode` → `awaitingUser` →
 * `authenticated` ⇄ `refreshing`, `loggingOut`, `error`. Events: `LOGIN`,
 * `REFRESH`, `LOGOUT`, `RETRY`, `CANCEL`, `SESSION_CHANGED`. While
 * `awaitingUser`, `context.device` holds what to show the user.
 */
export const deviceCodeMachine = setup({
  types: {} as {
    context: GrantContext;
    events: GrantEvent;
    input: GrantInput;
    tags: GrantTag;
    children: LifecycleChildren & {
      requestDeviceCode: 'request device authorization';
      pollTimer: 'wait for the poll interval';
      pollForToken: 'poll for token';
    };
  },
  actors: {
    ...lifecycleActors,
    'request device authorization': requestDeviceCode,
    'wait for the poll interval': waitForPollInterval,
    'poll for token': pollForToken,
  },
  guards: {
    ...lifecycleGuards,
    // RFC 8628 §3.5: keep polling while the user has not decided.
    // RFC 9449 §8: a poll refused for want of the server's DPoP nonce (which its answer carried) is one more poll at the interval.
    'the user has not decided yet': (_, params: ErrorParams) => ['authorization_pending', 'use_dpop_nonce'].includes(toOAuthError(params.error).code),
    // RFC 8628 §3.5: `slow_down`, and a failed connection ("the client SHOULD use exponential backoff"): poll more slowly.
    'the server asks to slow down': (_, params: ErrorParams) => {
      const error = toOAuthError(params.error);
      return error.code === 'slow_down' || (error.retryable && error.code !== 'authorization_pending');
    },
  },
  delays: lifecycleDelays,
  actions: {
    ...lifecycleActions,
    // Kept beside the stored session, like the redirect grants' pending authorization (see `pendingLoginKey`).
    'remember device authorization': assign((_, params: { device: DeviceAuthorizationState }) => ({ device: params.device })),
    // RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests";
    // a server's Retry-After (RFC 9110 §10.2.3) asks for at least that long.
    'poll more slowly': assign(({ context }, params: ErrorParams) => {
      if (context.device === undefined) return { device: undefined };
      const retryAfterS = Math.min(toOAuthError(params.error).retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) / 1000;
      return { device: { ...context.device, interval: Math.max(context.device.interval + 5, Math.ceil(retryAfterS)) } };
    }),
    'forget device authorization': assign({ device: undefined }),
  },
}).createMachine({
  id: 'deviceCode',
  context: ({ input }) => initialGrantContext('deviceCode', input),
  initial: 'starting',
  on: { ...sessionChangedTransitions },
  states: {
    // Reads the stored session; a LOGIN meanwhile waits for its outcome.
    starting: startingState,
    discovering: discoveringState,
    discoveryFailed: discoveryFailedState,
    restoring: {
      invoke: {
        id: 'readSession',
        src: 'read stored session',
        input: sessionToRestore,
        onDone: [
          {
            guard: { type: 'the stored session has tokens', params: storedBlob },
            target: 'authenticated',
            actions: [{ type: 'remember stored session', params: storedBlob }, 'replay deferred events'],
          },
          {
            guard: { type: 'a device authorization is stored', params: storedBlob },
            target: 'awaitingUser',
            actions: [{ type: 'remember stored session', params: storedBlob }, 'replay deferred events'],
          },
          { target: 'idle', actions: 'replay deferred events' },
        ],
        onError: [
          ...whenRestoreFails,
        ],
      },
      on: { LOGIN: { actions: 'defer event' } },
    },
    // The storage could not be read: a session may be stored. Read again after a while or on RETRY.
    restoreFailed: {
      tags: ['error', 'ready'],
      after: { 'restore retry delay': { target: 'restoring', actions: 'clear failure' } },
      on: {
        RETRY: { target: 'restoring', actions: 'clear failure' },
        LOGIN: { target: 'requestingCode', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
      },
    },
    idle: {
      tags: ['ready'],
      on: {
        LOGIN: { target: 'requestingCode', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
      },
    },
    requestingCode: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestDeviceCode',
        src: 'request device authorization',
        input: ({ context }) => withRuntime(context, { scopes: requestedScopes(context) }),
        onDone: {
          target: 'awaitingUser',
          actions: { type: 'remember device authorization', params: ({ event }) => ({ device: event.output }) },
        },
        onError: { target: 'error', actions: { type: 'remember failure', params: thrownError } },
      },
      on: {
        CANCEL: { target: 'idle', actions: 'forget the stored session' },
        LOGOUT: 'loggingOut',
      },
    },
    // RFC 8628 §3.4–3.5: the user decides elsewhere; the device polls once per interval until then.
    awaitingUser: {
      tags: ['awaitingUser', 'ready'],
      initial: 'waiting',
      states: {
        waiting: {
          invoke: {
            id: 'pollTimer',
            src: 'wait for the poll interval',
            input: ({ context }) => withRuntime(context, { fireAt: nextPollAt(context) }),
          },
          on: { POLL_DUE: 'polling' },
        },
        polling: {
          invoke: {
            id: 'pollForToken',
            src: 'poll for token',
            input: ({ context }) => {
              if (context.device === undefined) throw new TypeError('awaitingUser without a device authorization');
              return withRuntime(context, { device: context.device });
            },
            onDone: {
              target: '#authenticated',
              actions: ['forget device authorization', { type: 'remember new session', params: ({ event }) => event.output }],
            },
            onError: [
              { guard: { type: 'the user has not decided yet', params: thrownError }, target: 'waiting' },
              {
                guard: { type: 'the server asks to slow down', params: thrownError },
                target: 'waiting',
                actions: { type: 'poll more slowly', params: thrownError },
              },
              {
                // expired_token, access_denied, or anything the server will not change its mind about.
                target: '#error',
                actions: [
                  'forget device authorization',
                  'forget the stored session',
                  { type: 'remember failure', params: thrownError },
                ],
              },
            ],
          },
        },
      },
      on: {
        CANCEL: { target: 'idle', actions: ['forget device authorization', 'forget the stored session'] },
        LOGOUT: { target: 'loggingOut', actions: 'forget device authorization' },
      },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    endingProviderSession: endingProviderSessionState,
    error: {
      // Targeted by the refresh's substates (`#error`).
      id: 'error',
      tags: ['error', 'ready'],
      on: {
        RETRY: [
          { guard: 'set-aside tokens can be renewed', target: 'refreshing', actions: 'take back set-aside tokens' },
          { target: 'requestingCode', actions: 'clear failure' },
        ],
        LOGIN: { target: 'requestingCode', actions: ['remember login request', 'clear failure'] },
        LOGOUT: 'loggingOut',
        CANCEL: { target: 'idle', actions: 'clear failure' },
      },
    },
  },
});
