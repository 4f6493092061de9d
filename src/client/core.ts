/**
 * What every grant's façade shares: the actor (created at once, or once
 * discovery is done), `ready`, the waits, the access-token demand, logout,
 * subscribe and stop. `refresh()` and `userinfo()`, which only the generic
 * client offers, are built on it in `calls.ts`.
 *
 * The façades drive the chart; they do not copy it. They send events and
 * wait — with XState's `waitFor` — on the tag contract of `GrantTag`
 * (machines/types.ts) and on context data, never on state names, so the
 * charts may add, split and rename states freely:
 * - `ready`: restoring is over;
 * - `busy`: a request (or the library's own wait) is under way;
 * - `signedIn`: tokens are held; `renewing`: a renewal is under way;
 * - `awaitingCallback` / `awaitingUser`: a login waits for the user;
 * - `error`: `context.error` says why.
 */
import { createActor, waitFor, type Actor, type AnyActorRef, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
// Types only: each grant's façade hands its own machine to the core, so an app bundles the machines it uses.
import type { authorizationCodeMachine } from '../../machines/authorizationCode.js';
import type { clientCredentialsMachine } from '../../machines/clientCredentials.js';
import type { deviceCodeMachine } from '../../machines/deviceCode.js';
import { resolveGrantOptions, RUNTIME, type EndSessionRequest, type GrantInput, type GrantOptions, type LogoutResult, type WithRuntime } from '../../machines/types.js';
import { OAuthError, type OAuthErrorJSON } from '../errors.js';
import { checkIssuer } from '../protocol/discovery.js';
import type { ClientConfig, ProviderConfig, TokenSet } from '../protocol/types.js';
import { xstateClock } from '../services/clock.js';
import type { Services } from '../services/types.js';
import { MAX_RETRY_AFTER_MS } from '../session/backoff.js';
import { renewalDueAt, tokensAreFresh } from '../session/freshness.js';
import { needsDiscovery, type OAuthGrant, type ProviderOption } from './config.js';
import { contextError, stoppedError, toOAuthError, type ObservedSnapshot, type Verdict } from './snapshot.js';

interface GrantMachines {
  authorization_code: typeof authorizationCodeMachine;
  client_credentials: typeof clientCredentialsMachine;
  device_code: typeof deviceCodeMachine;
}

/** The XState actor behind a client of grant `G`. */
export type GrantActor<G extends OAuthGrant = OAuthGrant> = { [K in G]: Actor<GrantMachines[K]> }[G];

/** A snapshot of the actor behind a client of grant `G`. */
export type GrantSnapshot<G extends OAuthGrant = OAuthGrant> = { [K in G]: SnapshotFrom<GrantMachines[K]> }[G];

/** Any XState inspection observer (the inspector, `createFlowRecorder()`). */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** The events a façade sends. */
export type ClientEvent =
  | { type: 'LOGIN'; scopes?: string[]; extraParams?: Record<string, string>; tokenParams?: Record<string, string> }
  | { type: 'CALLBACK'; url: string }
  | { type: 'REFRESH'; tokenParams?: Record<string, string> }
  | { type: 'LOGOUT'; endSession?: EndSessionRequest }
  | { type: 'RETRY' }
  | { type: 'CANCEL' };

/** The part of the actor a façade drives. */
export interface DrivenActor {
  getSnapshot(): ObservedSnapshot;
  send(event: ClientEvent): void;
  subscribe(observer: { next?: (snapshot: ObservedSnapshot) => void; error?: (error: unknown) => void }): { unsubscribe(): void };
  start(): void;
  stop(): void;
}

/** What the façades read from a grant's context (the context fields of the tag contract). */
export interface ContextView {
  tokens?: TokenSet;
  loggedOut?: LogoutResult;
  staleTokens?: TokenSet;
  savedAt?: number;
  retryNotBefore?: number;
  error?: OAuthErrorJSON;
  authorizationUrl?: string;
  /** The redirect grants' pending authorization: what `login()` carries through the redirect. */
  pending?: { appState?: unknown; returnTo?: string };
  device?: {
    userCode: string;
    verificationUri: string;
    verificationUriComplete?: string;
    expiresAt: number;
    interval: number;
  };
}

export function view(snapshot: ObservedSnapshot): ContextView {
  return snapshot.context as ContextView;
}

/** Tag-contract readings of a snapshot. */
export const is = {
  /** Restoring is over (a failed restore too: `restoreFailed` is tagged `ready`; a failed discovery is not). */
  ready: (s: ObservedSnapshot): boolean => s.hasTag('ready'),
  busy: (s: ObservedSnapshot): boolean => s.hasTag('busy'),
  signedIn: (s: ObservedSnapshot): boolean => s.hasTag('signedIn'),
  renewing: (s: ObservedSnapshot): boolean => s.hasTag('renewing'),
  failed: (s: ObservedSnapshot): boolean => s.hasTag('error'),
  awaitingCallback: (s: ObservedSnapshot): boolean => s.hasTag('awaitingCallback'),
  awaitingUser: (s: ObservedSnapshot): boolean => s.hasTag('awaitingUser'),
  /** At rest without a session nor a login in progress: no tag but `ready`. */
  idle: (s: ObservedSnapshot): boolean =>
    s.hasTag('ready') &&
    !s.hasTag('busy') &&
    !s.hasTag('signedIn') &&
    !s.hasTag('renewing') &&
    !s.hasTag('error') &&
    !s.hasTag('awaitingCallback') &&
    !s.hasTag('awaitingUser'),
};

/** Signed in and no renewal under way: the tokens are the session's, at rest. */
export function restingTokens(snapshot: ObservedSnapshot): TokenSet | undefined {
  return is.signedIn(snapshot) && !is.renewing(snapshot) ? view(snapshot).tokens : undefined;
}

export function loginRequired(cause?: OAuthErrorJSON): OAuthError {
  return new OAuthError('login_required', {
    description: cause ? `No session (the last attempt failed with ${cause.code})` : 'No session: call login() first',
    cause: cause === undefined ? undefined : toOAuthError(cause),
    retryable: false,
  });
}

export function unsupported(description: string): OAuthError {
  return new OAuthError('unsupported_operation', { description, retryable: false });
}

export function cancelled(what: string): OAuthError {
  return new OAuthError('aborted', { description: `The ${what} was cancelled`, retryable: false });
}

/** The logout result when no token was held: nothing to revoke, nothing left valid. */
function nothingHeld(): LogoutResult {
  return { revoked: [], notRevoked: [] };
}

/** Options of `logout()`. */
export interface LogoutOptions {
  /**
   * End the user's session at the provider too (OpenID Connect RP-Initiated
   * Logout 1.0): after revoking, the user agent goes to the provider's
   * `end_session_endpoint` with `id_token_hint` and a `state`, so the next
   * login asks the user again. Needs `provider.endSessionEndpoint`.
   */
  endSession?: boolean;
  /** Where the provider sends the user back (registered with it; absolute). Only with `endSession`. */
  postLogoutRedirectUri?: string;
}

/** `logout()`'s options, checked (unknown keys, a redirect without `endSession`), as the LOGOUT event's request. */
function endSessionRequest(options: LogoutOptions): EndSessionRequest | undefined {
  for (const key of Object.keys(options)) {
    if (key !== 'endSession' && key !== 'postLogoutRedirectUri') throw new TypeError(`logout(): unknown option ${key}; it takes endSession, postLogoutRedirectUri`);
  }
  const { endSession, postLogoutRedirectUri } = options;
  if (postLogoutRedirectUri !== undefined) {
    if (endSession !== true) throw new TypeError('logout(): postLogoutRedirectUri goes with endSession: true');
    if (typeof postLogoutRedirectUri !== 'string' || !URL.canParse(postLogoutRedirectUri)) {
      throw new TypeError('logout(): postLogoutRedirectUri must be an absolute URL');
    }
  }
  if (endSession !== true) return undefined;
  return postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUri };
}

/** The machine's own error for a failed snapshot, else `fallback()`. */
export function failureOf(snapshot: ObservedSnapshot, fallback: () => OAuthError): { error: OAuthError } {
  const json = contextError(snapshot);
  return { error: json ? toOAuthError(json) : fallback() };
}

export function noop(): void {}

/** Any grant's machine, as the core creates its actor. */
export type GrantMachine = GrantMachines[OAuthGrant];

/** What a façade gives the core. */
export interface CoreConfig {
  grant: OAuthGrant;
  /** The grant's machine (given by its façade, so no other grant's machine is bundled). */
  machine: GrantMachine;
  provider: ProviderOption;
  client: ClientConfig;
  /** RFC 8707 resource of the client credentials grant (`GrantInput.resource`). */
  resource?: string;
  services: Services;
  options: GrantOptions;
  inspect?: InspectOption;
}

/** The shared part of every façade. */
export interface Core {
  readonly grant: OAuthGrant;
  readonly ready: Promise<void>;
  readonly services: Services;
  readonly client: ClientConfig;
  /** The actor: it exists at once (discovery is a state of it). */
  readonly actor: DrivenActor;
  readonly provider: ProviderConfig;
  /** The current snapshot once the actor exists. */
  snapshot(): ObservedSnapshot | undefined;
  /** The actor once ready; rejects with `aborted` after stop(). */
  whenReady(): Promise<DrivenActor>;
  /** A call that fails after stop() fails with `aborted`, whatever it saw first. */
  unlessStopped<T>(call: Promise<T>): Promise<T>;
  /** Sends `event`; whether the machine took a transition for it. */
  sendAccepted(actor: DrivenActor, event: ClientEvent): boolean;
  /** Waits (XState's `waitFor`) until `judge` settles on a snapshot; the actor failing or stopping rejects typed. */
  until<T>(actor: DrivenActor, judge: (snapshot: ObservedSnapshot) => Verdict<T>): Promise<T>;
  /** `getAccessToken` with its hot path. */
  getAccessToken(): Promise<string>;
  /** The tokens held when signed in. */
  getTokens(): Promise<TokenSet | undefined>;
  /** The actor when it is ready and the core not stopped, else `undefined` (no waiting). */
  readyActor(): DrivenActor | undefined;
  logout(options?: LogoutOptions): Promise<LogoutResult>;
  subscribe(listener: (snapshot: ObservedSnapshot) => void): () => void;
  stop(): void;
}

/**
 * The core of a façade. `loginOnDemand`: the client credentials grant logs in
 * when a token is asked for without a session, and always renews (it has no
 * refresh token to lack).
 */
export function createCore(config: CoreConfig, loginOnDemand: boolean): Core {
  const { grant, services } = config;
  const renewalRule = resolveGrantOptions(config.options);
  const listeners = new Set<(snapshot: ObservedSnapshot) => void>();

  let stopped = false;
  // One wait shared by every caller for the same thing (the renewal of one expired token): one subscription, not 10 000.
  const sharedWaits = new Map<string, Promise<string>>();

  const forward = (snapshot: ObservedSnapshot): void => {
    for (const listener of listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        // A listener's bug must not stop the others nor the machine; surface it like XState does.
        setTimeout(() => {
          throw error;
        });
      }
    }
  };

  // No AbortSignal per wait: stopping the actor completes every `waitFor` on it, which settles here with the typed
  // `aborted`; so stop() builds no error when nothing waits, and many waits add no listeners to one signal.
  const until = <T>(current: DrivenActor, judge: (snapshot: ObservedSnapshot) => Verdict<T>): Promise<T> => {
    let verdict: Verdict<T>;
    const settles = (snapshot: ObservedSnapshot): boolean => {
      if (snapshot.status === 'error') verdict = { error: OAuthError.from(snapshot.error, 'invalid_snapshot') };
      else if (snapshot.status === 'stopped' || stopped) verdict = { error: stoppedError() };
      else verdict = judge(snapshot);
      return verdict !== undefined;
    };
    return waitFor(current as unknown as AnyActorRef, (snapshot) => settles(snapshot as ObservedSnapshot)).then(
      () => {
        const settled = verdict as Exclude<Verdict<T>, undefined>;
        if ('error' in settled) throw settled.error;
        return settled.value;
      },
      (error: unknown) => {
        if (stopped) throw stoppedError();
        const snapshot = current.getSnapshot();
        throw snapshot.status === 'error' ? OAuthError.from(snapshot.error, 'invalid_snapshot') : OAuthError.from(error, 'invalid_snapshot');
      },
    );
  };

  // The actor exists at once: discovery, when the provider is given by its issuer, is the chart's `discovering`.
  if (needsDiscovery(config.provider)) checkIssuer(config.provider.issuer, config.provider.allowInsecureRequests === true);
  const input: GrantInput = { provider: config.provider, client: config.client, services, options: config.options };
  if (config.resource !== undefined) input.resource = config.resource;
  const actor = createGrantActor(config.machine, {
    input,
    clock: xstateClock(services.clock),
    ...(config.inspect === undefined ? {} : { inspect: config.inspect }),
  });
  // The error observer keeps a failing actor from becoming an unhandled error; waiters see `status: 'error'`.
  actor.subscribe({ next: forward, error: noop });
  actor.start();

  /** Restoring is over; a discovery that failed before it is the wait's answer (the chart tries again later). */
  const readyVerdict = (snapshot: ObservedSnapshot): Verdict<void> => {
    if (is.ready(snapshot)) return { value: undefined };
    if (is.failed(snapshot)) return failureOf(snapshot, () => unsupported('the provider could not be discovered'));
    return undefined;
  };
  const ready = until(actor, readyVerdict).catch((error: unknown) => {
    throw stopped ? stoppedError() : OAuthError.from(error);
  });
  // Nobody may await `ready`: keep it rejecting for those who do, unhandled for none.
  ready.catch(noop);

  const unlessStopped = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      throw stopped ? stoppedError() : error;
    });

  const whenReady = async (): Promise<DrivenActor> => {
    if (!is.ready(actor.getSnapshot())) await until(actor, readyVerdict);
    if (stopped) throw stoppedError();
    return actor;
  };

  const sendAccepted = (current: DrivenActor, event: ClientEvent): boolean => {
    // XState keeps the same snapshot object when no transition was taken.
    const before = current.getSnapshot();
    current.send(event);
    return current.getSnapshot() !== before;
  };

  // The machine's own rule (expiry timer), so a demand never renews earlier than the timer would.
  const isFresh = (tokens: TokenSet, savedAt: number | undefined): boolean =>
    tokensAreFresh(tokens, savedAt, renewalRule, services.clock.now());
  // After a failed renewal, none is sent before its backoff (or the server's Retry-After) is over.
  const backingOff = (snapshot: ObservedSnapshot): boolean => {
    const { retryNotBefore } = view(snapshot);
    const now = services.clock.now();
    // A hold-back further away than the longest one can be is a clock that jumped back: it is over.
    return retryNotBefore !== undefined && now < retryNotBefore && retryNotBefore - now <= MAX_RETRY_AFTER_MS;
  };
  const isExpired = (tokens: TokenSet): boolean => tokens.expiresAt !== undefined && services.clock.now() >= tokens.expiresAt;
  // Client credentials "refresh" with a new client-credentials request (there is no refresh token).
  const canRefresh = (tokens: TokenSet): boolean => loginOnDemand || tokens.refreshToken !== undefined;

  /**
   * Verdict for a caller of getAccessToken, on any snapshot after a renewal or login began. `expired`: the
   * access token the caller found expired, which it waits to see replaced (a renewal's result is handed to
   * its waiters even if the server made it expire at once).
   */
  const accessTokenVerdict =
    (expired?: string) =>
    (snapshot: ObservedSnapshot): Verdict<string> => {
      const { tokens, error } = view(snapshot);
      if (is.signedIn(snapshot)) {
        if (tokens === undefined) return undefined;
        // While a renewal is under way, a still-valid token is served: callers never wait on the network for it.
        if (is.renewing(snapshot)) return isExpired(tokens) ? undefined : { value: tokens.accessToken };
        if (!isExpired(tokens) || tokens.accessToken !== expired) return { value: tokens.accessToken };
        // Expired, and the renewal waits for its backoff: the caller gets the failure, not a wait.
        if (error !== undefined && backingOff(snapshot)) return { error: toOAuthError(error) };
        return undefined; // the expiry timer renews it (no sooner than the minimum renewal interval)
      }
      if (is.failed(snapshot)) return failureOf(snapshot, () => loginRequired());
      // A request under way (a login, a logout, restoring) decides; at rest without tokens there is no session
      // (an error kept at rest is a past revocation or restore failure, not this caller's).
      if (is.busy(snapshot) || !is.ready(snapshot)) return undefined;
      return { error: loginRequired() };
    };

  const waitForRenewal = (current: DrivenActor, expired: string): Promise<string> => {
    const key = `renewal:${expired}`;
    let shared = sharedWaits.get(key);
    if (shared === undefined) {
      shared = until(current, accessTokenVerdict(expired));
      const release = (): void => void sharedWaits.delete(key);
      shared.then(release, release);
      sharedWaits.set(key, shared);
    }
    return shared;
  };

  const obtainAccessToken = async (): Promise<string> => {
    const current = await whenReady();
    const snapshot = current.getSnapshot();
    const { tokens, staleTokens, error, savedAt } = view(snapshot);
    if (is.signedIn(snapshot) && tokens !== undefined) {
      if (is.renewing(snapshot)) {
        if (!isExpired(tokens)) return tokens.accessToken;
        return waitForRenewal(current, tokens.accessToken);
      }
      if (isFresh(tokens, savedAt)) return tokens.accessToken;
      if (!canRefresh(tokens)) {
        if (!isExpired(tokens)) return tokens.accessToken;
        throw loginRequired();
      }
      // One REFRESH when renewal is due by the one rule (skew, half-life, minimum interval) and no backoff holds
      // it back; the machine is renewing when send() returns, so later callers do not send another.
      const due = renewalDueAt(tokens, savedAt, renewalRule);
      if ((due === undefined || services.clock.now() >= due) && !backingOff(snapshot)) current.send({ type: 'REFRESH' });
      // While the held token is valid the caller gets it at once: the renewal goes on without it.
      if (!isExpired(tokens)) return tokens.accessToken;
      return waitForRenewal(current, tokens.accessToken);
    }
    if (is.failed(snapshot)) {
      // A failed renewal set the tokens aside (only invalid_grant or another user forgets them): spend their
      // refresh token again for this demand, once the backoff is over; until then the demand gets the failure.
      // (Never RETRY a failed code login from here: that would navigate away.)
      if (staleTokens !== undefined || loginOnDemand) {
        if (error !== undefined && backingOff(snapshot)) throw toOAuthError(error);
        if (!(staleTokens !== undefined && sendAccepted(current, { type: 'RETRY' })) && !(loginOnDemand && sendAccepted(current, { type: 'LOGIN' }))) {
          throw loginRequired(error);
        }
      } else {
        // A storage failure (a failed restore is an `error`-tagged state with `storage_error`) is the caller's
        // answer as it is: telling it to log in would send the user to the provider with storage still broken.
        throw error?.code === 'storage_error' ? toOAuthError(error) : loginRequired(error);
      }
    } else if (is.idle(snapshot)) {
      if (!loginOnDemand) throw loginRequired();
      current.send({ type: 'LOGIN' });
    }
    return until(current, accessTokenVerdict());
  };

  const core: Core = {
    grant,
    ready,
    services,
    client: config.client,

    actor,

    get provider(): ProviderConfig {
      const { provider } = (actor.getSnapshot().context as WithRuntime)[RUNTIME];
      if (provider === undefined) throw new Error('client.provider is known once discovery is done: await client.ready first');
      return provider;
    },

    snapshot: () => actor.getSnapshot(),
    readyActor: () => (!stopped && is.ready(actor.getSnapshot()) ? actor : undefined),
    whenReady,
    unlessStopped,
    sendAccepted,
    until,

    getAccessToken(): Promise<string> {
      // Hot path: a valid token is answered from the snapshot, no storage, no waiting.
      if (!stopped) {
        const snapshot = actor.getSnapshot();
        const tokens = is.signedIn(snapshot) ? view(snapshot).tokens : undefined;
        if (tokens !== undefined && isFresh(tokens, view(snapshot).savedAt)) return Promise.resolve(tokens.accessToken);
      }
      return unlessStopped(obtainAccessToken());
    },

    async getTokens(): Promise<TokenSet | undefined> {
      const current = await whenReady();
      const snapshot = current.getSnapshot();
      return is.signedIn(snapshot) ? view(snapshot).tokens : undefined;
    },

    logout(options: LogoutOptions = {}): Promise<LogoutResult> {
      return unlessStopped(
        (async () => {
          const endSession = endSessionRequest(options);
          const current = await whenReady();
          // RP-Initiated Logout needs the provider's end-session endpoint: refused before anything is revoked.
          if (endSession !== undefined && core.provider.endSessionEndpoint === undefined) {
            throw unsupported('logout({ endSession }) needs the provider\'s endSessionEndpoint (OpenID Connect RP-Initiated Logout)');
          }
          // From idle too: the machine's logout also removes whatever is left in storage. A logout (or any
          // request) already under way that takes neither LOGOUT nor CANCEL is waited for.
          const loggingOut = sendAccepted(current, endSession === undefined ? { type: 'LOGOUT' } : { type: 'LOGOUT', endSession });
          const accepted = loggingOut || sendAccepted(current, { type: 'CANCEL' });
          if (!accepted && !is.busy(current.getSnapshot())) {
            if (!is.signedIn(current.getSnapshot())) return nothingHeld();
            throw unsupported('logout() is not possible now');
          }
          return until(current, (snapshot): Verdict<LogoutResult> => {
            if (is.failed(snapshot)) return failureOf(snapshot, () => unsupported('logout failed'));
            if (!is.idle(snapshot)) return undefined;
            // What the machine's logout reported; a cancelled login held no tokens to revoke.
            return { value: (loggingOut ? view(snapshot).loggedOut : undefined) ?? nothingHeld() };
          });
        })(),
      );
    },

    subscribe(listener: (snapshot: ObservedSnapshot) => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    stop(): void {
      if (stopped) return;
      stopped = true;
      // Every wait on the actor settles with the typed `aborted` (see `until`); nothing is built when none waits.
      actor.stop();
    },
  };
  return core;
}

interface GrantActorOptions {
  input: GrantInput;
  clock: ReturnType<typeof xstateClock>;
  inspect?: InspectOption;
}

function createGrantActor(machine: GrantMachine, options: GrantActorOptions): DrivenActor {
  return createActor(machine as typeof authorizationCodeMachine, options) as unknown as DrivenActor;
}
