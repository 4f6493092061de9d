/**
 * The device authorization grant (RFC 8628): the device shows a user code,
 * the user approves on another device, the machine polls the token endpoint.
 */
import { assign, fromPromise, setup } from 'xstate';
import { OAuthError } from '../src/protocol/errors.js';
import { pollDeviceToken, requestDeviceAuthorization } from '../src/protocol/operations.js';
import {
  authenticatedState,
  initialGrantContext,
  lifecycleActions,
  lifecycleActors,
  lifecycleGuards,
  loggingOutState,
  refreshingState,
  sessionChangedTransitions,
  storeNewSession,
  toOAuthError,
  type LifecycleChildren,
  type NewSession,
} from './lifecycle.js';
import { errorState, idleState, restoringState } from './grantStates.js';
import { writeSession, type SessionBlob } from './persistence.js';
import { sleep } from './timers.js';
import type { DeviceAuthorizationState, GrantContext, GrantEvent, GrantInput, GrantRuntime, GrantTag } from './types.js';
import { runtimeOf, requestedScopes } from './types.js';

export interface DeviceRequestInput extends GrantRuntime {
  scopes: string[] | undefined;
}

/** RFC 8628 §3.1–3.2, then stores the device authorization so a restarted app keeps polling. */
const requestDeviceCode = fromPromise<DeviceAuthorizationState, DeviceRequestInput>(async ({ input, signal }) => {
  const { services } = input;
  const request = { provider: input.provider, client: input.client, services, signal };
  const device: DeviceAuthorizationState = await requestDeviceAuthorization(
    input.scopes === undefined ? request : { ...request, scopes: input.scopes },
  );
  const blob: SessionBlob = { version: 1, machine: 'deviceCode', state: 'awaitingUser', device, savedAt: services.clock.now() };
  await writeSession(services.storage, input.options.storageKey, blob);
  return device;
});

export interface PollInput extends GrantRuntime {
  device: DeviceAuthorizationState;
}

/**
 * RFC 8628 §3.4–3.5: waits `interval` seconds, then polls once. Throws the
 * server's `authorization_pending` / `slow_down` for the machine to poll
 * again, and `expired_token` once the device code is past its `expires_in`.
 */
const pollForToken = fromPromise<NewSession, PollInput>(async ({ input, signal }) => {
  const { services, device } = input;
  await sleep(device.interval * 1000, signal);
  if (services.clock.now() >= device.expiresAt) {
    throw new OAuthError('expired_token', { description: 'the device code expired before the user approved', retryable: false });
  }
  const tokens = await pollDeviceToken({ provider: input.provider, client: input.client, services, signal, deviceCode: device.deviceCode });
  if (signal.aborted) throw new OAuthError('aborted', { description: 'stopped while polling', retryable: false });
  return storeNewSession(services, input.options.storageKey, 'deviceCode', tokens);
});

type ErrorParams = { error: unknown };

/**
 * The device authorization grant (RFC 8628) as an XState v5 machine.
 *
 * States: `restoring` → `idle` → `requestingCode` → `awaitingUser` →
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
    children: LifecycleChildren & { requestDeviceCode: 'request device authorization'; pollForToken: 'poll for token' };
  },
  actors: {
    ...lifecycleActors,
    'request device authorization': requestDeviceCode,
    'poll for token': pollForToken,
  },
  guards: {
    ...lifecycleGuards,
    // RFC 8628 §3.5: keep polling while the user has not decided (and through transient failures).
    'the user has not decided yet': (_, params: ErrorParams) => {
      const error = toOAuthError(params.error);
      return error.code === 'authorization_pending' || (error.retryable && error.code !== 'slow_down');
    },
    'the server asks to slow down': (_, params: ErrorParams) => toOAuthError(params.error).code === 'slow_down',
  },
  actions: {
    ...lifecycleActions,
    'remember device authorization': assign((_, params: { device: DeviceAuthorizationState }) => ({ device: params.device })),
    // RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests".
    'poll more slowly': assign(({ context }) => ({
      device: context.device === undefined ? undefined : { ...context.device, interval: context.device.interval + 5 },
    })),
    'forget device authorization': assign({ device: undefined }),
  },
}).createMachine({
  id: 'deviceCode',
  context: ({ input }) => initialGrantContext('deviceCode', input),
  initial: 'restoring',
  on: { ...sessionChangedTransitions },
  states: {
    restoring: restoringState({ resumesIn: 'awaitingUser', callbackMayWait: false }),
    idle: idleState({ loginStartsIn: 'requestingCode', callbackRestores: false }),
    requestingCode: {
      tags: ['busy', 'ready'],
      invoke: {
        id: 'requestDeviceCode',
        src: 'request device authorization',
        input: ({ context }) => ({
          ...runtimeOf(context),
          scopes: requestedScopes(context),
        }),
        onDone: {
          target: 'awaitingUser',
          actions: { type: 'remember device authorization', params: ({ event }) => ({ device: event.output }) },
        },
        onError: { target: 'error', actions: { type: 'remember failure', params: ({ event }) => ({ error: event.error }) } },
      },
      on: {
        CANCEL: { target: 'idle', actions: 'forget the stored session' },
        LOGOUT: 'loggingOut',
      },
    },
    awaitingUser: {
      tags: ['ready'],
      invoke: {
        id: 'pollForToken',
        src: 'poll for token',
        input: ({ context }) => {
          if (context.device === undefined) throw new TypeError('awaitingUser without a device authorization');
          return {
            ...runtimeOf(context),
            device: context.device,
          };
        },
        onDone: {
          target: 'authenticated',
          actions: ['forget device authorization', { type: 'remember new session', params: ({ event }) => event.output }],
        },
        onError: [
          {
            guard: { type: 'the user has not decided yet', params: ({ event }) => ({ error: event.error }) },
            target: 'awaitingUser',
            reenter: true,
          },
          {
            guard: { type: 'the server asks to slow down', params: ({ event }) => ({ error: event.error }) },
            target: 'awaitingUser',
            reenter: true,
            actions: 'poll more slowly',
          },
          {
            // expired_token, access_denied, or anything the server will not change its mind about.
            target: 'error',
            actions: [
              'forget device authorization',
              'forget the stored session',
              { type: 'remember failure', params: ({ event }) => ({ error: event.error }) },
            ],
          },
        ],
      },
      on: {
        CANCEL: { target: 'idle', actions: ['forget device authorization', 'forget the stored session'] },
        LOGOUT: { target: 'loggingOut', actions: 'forget device authorization' },
      },
    },
    authenticated: authenticatedState,
    refreshing: refreshingState,
    loggingOut: loggingOutState,
    error: errorState({ loginStartsIn: 'requestingCode', retry: 'renew or log in again' }),
  },
});
