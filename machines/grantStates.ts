/**
 * The states every grant machine has around its own login states:
 * `restoring` (read the stored session, resume a login in progress), `idle`
 * and `error`. They differ between grants only in where a login starts,
 * where a stored login in progress resumes and whether a callback may be
 * waiting, so each is built once here, from those parameters, with the
 * lifecycle's `createStateConfig` (type-checked against the shared context,
 * events, actors, guards and actions — see `lifecycle.ts`), and placed at a
 * grant machine's root next to its own login states:
 *
 * ```ts
 * restoring: restoringState({ resumesIn: 'awaitingUser', callbackMayWait: false }),
 * idle: idleState({ loginStartsIn: 'requestingCode', callbackRestores: false }),
 * error: errorState({ loginStartsIn: 'requestingCode', retry: 'renew or log in again' }),
 * ```
 */
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import { lifecycle } from './lifecycle.js';
import type { SessionBlob } from './persistence.js';

/** The state a grant's `LOGIN` (and a `RETRY` of a failed login) enters. */
export type LoginStart = 'redirecting' | 'exchanging' | 'requestingCode';

export interface RestoringChart {
  /** Where a stored login in progress resumes: the redirect grants' pending authorization, the device grant's device code; none for the others. */
  resumesIn?: 'awaitingCallback' | 'awaitingUser';
  /**
   * The redirect grants: a `CALLBACK` is deferred while restoring (and may be what started the
   * machine, on the callback page), so an expired pending authorization is kept for its verdict and
   * a callback with nothing pending ends in `error`.
   */
  callbackMayWait: boolean;
}

/**
 * `restoring`: reads the stored session; tokens → `authenticated`, a stored login in progress →
 * `resumesIn`, nothing → `idle`. `LOGIN` (and with `callbackMayWait`, `CALLBACK`) received meanwhile
 * is deferred and replayed once the session is known.
 */
export function restoringState({ resumesIn, callbackMayWait }: RestoringChart) {
  return lifecycle.createStateConfig({
    invoke: {
      id: 'readSession',
      src: 'read stored session',
      input: ({ context }) => {
        const callbackWaiting = callbackMayWait && context.deferred.some((event) => event.type === 'CALLBACK');
        return {
          services: context.services,
          storageKey: context.options.storageKey,
          machine: context.grant,
          // The callback page needs the pending authorization even when restoring is off.
          skip: !context.options.restore && !callbackWaiting,
          callbackWaiting,
        };
      },
      onDone: [
        {
          guard: { type: 'the stored session has tokens', params: ({ event }) => ({ blob: event.output }) },
          target: 'authenticated',
          actions: [{ type: 'remember stored session', params: ({ event }) => ({ blob: event.output }) }, 'replay deferred events'],
        },
        ...(resumesIn === undefined
          ? []
          : [
              {
                guard: {
                  type: resumesIn === 'awaitingCallback' ? ('an authorization is stored' as const) : ('a device authorization is stored' as const),
                  params: storedSession,
                },
                target: resumesIn,
                actions: [{ type: 'remember stored session', params: storedSession }, 'replay deferred events'],
              } as const,
            ]),
        ...(callbackMayWait
          ? [
              {
                // A fresh actor on the callback page, and nothing is pending: refuse rather than wait.
                guard: 'a callback is waiting',
                target: 'error',
                actions: [
                  { type: 'fail with', params: { code: 'pending_missing', description: 'no authorization is pending' } },
                  'replay deferred events',
                ],
              } as const,
            ]
          : []),
        { target: 'idle', actions: 'replay deferred events' },
      ],
      onError: [
        ...(callbackMayWait
          ? [
              {
                guard: 'a callback is waiting',
                target: 'error',
                actions: [
                  { type: 'remember failure', params: failure },
                  'replay deferred events',
                ],
              } as const,
            ]
          : []),
        {
          target: 'idle',
          actions: [{ type: 'remember failure', params: ({ event }) => ({ error: event.error }) }, 'replay deferred events'],
        },
      ],
    },
    on: callbackMayWait
      ? { LOGIN: { actions: 'defer event' }, CALLBACK: { actions: 'defer event' } }
      : { LOGIN: { actions: 'defer event' } },
  });
}

// Typed here: a transition inside a conditional spread gets no contextual type from createStateConfig.
const storedSession = ({ event }: { event: DoneActorEvent<SessionBlob | null> }) => ({ blob: event.output });
const failure = ({ event }: { event: ErrorActorEvent }) => ({ error: event.error });

export interface IdleChart {
  loginStartsIn: LoginStart;
  /** The redirect grants: a `CALLBACK` on a fresh actor that skipped restore goes back to `restoring` to load the pending authorization. */
  callbackRestores: boolean;
}

/** `idle`: no session. `LOGIN` starts a login in `loginStartsIn`; `LOGOUT` still clears storage. */
export function idleState({ loginStartsIn, callbackRestores }: IdleChart) {
  const login = { target: loginStartsIn, actions: ['remember login request', 'clear failure'] } as const;
  return lifecycle.createStateConfig({
    tags: ['ready'],
    on: callbackRestores
      ? { LOGIN: login, CALLBACK: { target: 'restoring', actions: 'defer event' }, LOGOUT: 'loggingOut' }
      : { LOGIN: login, LOGOUT: 'loggingOut' },
  });
}

export interface ErrorChart {
  loginStartsIn: LoginStart;
  /**
   * What `RETRY` does: renew set-aside tokens after a failed refresh, else start the login again;
   * only start it again (no renewable tokens, the implicit grant); or only renew (a password is never kept).
   */
  retry: 'renew or log in again' | 'log in again' | 'renew only';
}

/** `error`: the failure is in `context.error`. `RETRY` per {@link ErrorChart.retry}, `LOGIN` starts over, `CANCEL` → `idle`. */
export function errorState({ loginStartsIn, retry }: ErrorChart) {
  const renew = { guard: 'set-aside tokens can be renewed', target: 'refreshing', actions: 'take back set-aside tokens' } as const;
  const again = { target: loginStartsIn, actions: 'clear failure' } as const;
  return lifecycle.createStateConfig({
    tags: ['error', 'ready'],
    on: {
      RETRY: retry === 'renew or log in again' ? [renew, again] : retry === 'log in again' ? again : renew,
      LOGIN: { target: loginStartsIn, actions: ['remember login request', 'clear failure'] },
      LOGOUT: 'loggingOut',
      CANCEL: { target: 'idle', actions: 'clear failure' },
    },
  });
}
