/**
 * `createOAuthClient`: the promise façade over one grant machine's actor, for
 * code that does not want to speak events. Every method sends the machine an
 * event (or none) and waits for the snapshot that answers it; all behaviour —
 * PKCE, state, restore, refresh, revocation — stays in the machine.
 */
import { createActor, type Actor, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import { clientCredentialsMachine } from '../machines/clientCredentials.js';
import { deviceCodeMachine } from '../machines/deviceCode.js';
import { resolveGrantOptions, type GrantInput } from '../machines/types.js';
import { MAX_RETRY_AFTER_MS } from './session/backoff.js';
import { renewalDueAt, tokensAreFresh } from './session/freshness.js';
import {
  checkProviderForGrant,
  clientConfigFrom,
  grantOptionsFrom,
  needsDiscovery,
  validateClientOptions,
  type OAuthClientOptions,
  type OAuthGrant,
  type ProviderOption,
} from './client/options.js';
import {
  contextError,
  stateName,
  stoppedError,
  toOAuthError,
  waitForSnapshot,
  type ObservedActor,
  type ObservedSnapshot,
  type Verdict,
} from './client/waitForSnapshot.js';
import { discover } from './protocol/discovery.js';
import { OAuthError, type OAuthErrorJSON } from './errors.js';
import { fetchUserinfo } from './protocol/operations.js';
import type { ProviderConfig, TokenSet } from './protocol/types.js';
import { defaultServices, xstateClock } from './services/index.js';

export type { OAuthClientOptions, OAuthGrant, ProviderOption } from './client/options.js';

interface GrantMachines {
  authorization_code: typeof authorizationCodeMachine;
  client_credentials: typeof clientCredentialsMachine;
  device_code: typeof deviceCodeMachine;
}

/** The XState actor behind a client of grant `G`. */
export type GrantActor<G extends OAuthGrant = OAuthGrant> = { [K in G]: Actor<GrantMachines[K]> }[G];

/** A snapshot of the actor behind a client of grant `G`. */
export type GrantSnapshot<G extends OAuthGrant = OAuthGrant> = { [K in G]: SnapshotFrom<GrantMachines[K]> }[G];

/** Options of `login()`: more scopes or extra authorization parameters for this login only. */
export interface LoginOptions {
  scopes?: string[];
  /** Extra authorization request parameters (`prompt`, `login_hint`, …); they cannot override the security ones. */
  extraParams?: Record<string, string>;
}

/** What `login()` of a device-code client gives: what to show the user, and the tokens to come (RFC 8628 §3.2–3.3). */
export interface DeviceLogin {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch ms after which the device code is no longer accepted. */
  expiresAt: number;
  /** Seconds between two polls. */
  interval: number;
  /**
   * Resolves with the tokens once the user approved; rejects with the typed
   * error (`access_denied`, `expired_token`, `aborted` when cancelled). Never
   * an unhandled rejection when ignored.
   */
  tokens: Promise<TokenSet>;
}

/** What `login()` resolves with, per grant. */
export type LoginResult<G extends OAuthGrant> = G extends 'authorization_code'
  ? string
  : G extends 'client_credentials'
    ? TokenSet
    : DeviceLogin;

/** The promise API over one grant machine. Every rejection is an `OAuthError`. */
export interface OAuthClient<G extends OAuthGrant = OAuthGrant> {
  /** The grant this client drives. */
  readonly grant: G;
  /**
   * Resolves once discovery (when the provider was given as `{ issuer }`) and
   * the restore of the persisted session are done; rejects with the typed
   * error when discovery fails. Every method waits for it, so awaiting it is
   * only needed to read `actor` or `provider` right after discovery.
   */
  readonly ready: Promise<void>;
  /**
   * The XState actor itself (for `@xstate/react`, the inspector, events by hand).
   * With a full `ProviderConfig` it exists from the start; with `{ issuer }`
   * it is created when discovery is done, and reading it before `ready`
   * resolved throws an `Error`.
   */
  readonly actor: GrantActor<G>;
  /** The provider configuration in use (after discovery); throws before `ready` like `actor`. */
  readonly provider: ProviderConfig;
  /**
   * Starts a login.
   * - `authorization_code`: creates state and PKCE, asks `services.navigate`
   *   to go, resolves with the authorization URL.
   * - `client_credentials`: resolves with the tokens (the current ones when signed in).
   * - `device_code`: resolves with the user code to show and a `tokens` promise.
   */
  login(options?: LoginOptions): Promise<LoginResult<G>>;
  /**
   * `authorization_code` only: hands the callback URL to the machine (works in
   * a fresh client on the callback page: the pending authorization is restored
   * from storage). Resolves with the tokens; rejects with `state_mismatch`,
   * `access_denied`, `pending_expired`, `iss_mismatch`, `pending_missing`, …
   */
  handleCallback(url: string): Promise<TokenSet>;
  /**
   * A usable access token: the current one when it is valid beyond the
   * refresh skew (no I/O), else after one refresh shared by every concurrent
   * caller. `client_credentials` logs in on demand; the other grants reject
   * with `login_required` when there is no session.
   */
  getAccessToken(): Promise<string>;
  /** The current tokens when signed in, else `undefined`. */
  getTokens(): Promise<TokenSet | undefined>;
  /** The userinfo endpoint's claims for the current access token (OpenID Connect Core §5.3). */
  userinfo(): Promise<Record<string, unknown>>;
  /** Ends the session: revokes where the provider allows, clears storage, resolves in `idle`. Cancels a pending login. */
  logout(): Promise<void>;
  /**
   * Calls `listener` with every snapshot of the actor (from its first one, even
   * when subscribed before discovery finished); returns the unsubscribe. A
   * listener that throws does not stop the others: its error is rethrown
   * asynchronously, as XState reports observer errors.
   */
  subscribe(listener: (snapshot: GrantSnapshot<G>) => void): () => void;
  /** Stops the actor (aborting requests under way); pending calls reject with `aborted`. */
  stop(): void;
}

type ClientEvent =
  | { type: 'LOGIN'; scopes?: string[]; extraParams?: Record<string, string> }
  | { type: 'CALLBACK'; url: string }
  | { type: 'REFRESH' }
  | { type: 'LOGOUT' }
  | { type: 'RETRY' }
  | { type: 'CANCEL' };

interface DeviceContext {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresAt: number;
  interval: number;
}

/** What the client reads from any grant's snapshot (docs/architecture.md "Machines": context). */
interface GrantContextView {
  tokens?: TokenSet;
  /** After a failed renewal: none is sent before this time (epoch ms). */
  retryNotBefore?: number;
  /** When the tokens were stored (≈ issued): renewal is never due before half their life. */
  savedAt?: number;
  /** Tokens a failed refresh set aside, so RETRY can spend their refresh token. */
  staleTokens?: TokenSet;
  error?: OAuthErrorJSON;
  authorizationUrl?: string;
  device?: DeviceContext;
}

interface DrivenActor extends ObservedActor {
  send(event: ClientEvent): void;
  start(): void;
  stop(): void;
}

function view(snapshot: ObservedSnapshot): GrantContextView {
  return snapshot.context as GrantContextView;
}

function loginRequired(cause?: OAuthErrorJSON): OAuthError {
  return new OAuthError('login_required', {
    description: cause ? `No session (the last attempt failed with ${cause.code})` : 'No session: call login() first',
    cause: cause === undefined ? undefined : toOAuthError(cause),
    retryable: false,
  });
}

function unsupported(description: string): OAuthError {
  return new OAuthError('unsupported_operation', { description, retryable: false });
}

/** Sends `event`; whether the machine took a transition for it (XState keeps the same snapshot object otherwise). */
function sendAccepted(actor: DrivenActor, event: ClientEvent): boolean {
  const before = actor.getSnapshot();
  actor.send(event);
  return actor.getSnapshot() !== before;
}

function failureOf(snapshot: ObservedSnapshot, fallback: () => OAuthError): { error: OAuthError } {
  const json = contextError(snapshot);
  return { error: json ? toOAuthError(json) : fallback() };
}

function noop(): void {}

/**
 * Creates the promise façade over one grant machine (see {@link OAuthClient}).
 * Options are checked at once (a `TypeError` names the problem); discovery
 * and restore start at once and `ready` tells when they are done.
 *
 * @example
 * const client = createOAuthClient({
 *   grant: 'authorization_code',
 *   provider: { issuer: 'https://id.example' },
 *   clientId: 'app', redirectUri: 'https://app.example/callback',
 *   scopes: ['openid', 'offline_access'],
 * });
 * await client.login();                                   // navigates
 * const tokens = await client.handleCallback(location.href); // on the callback page
 */
export function createOAuthClient<G extends OAuthGrant>(options: OAuthClientOptions<G>): OAuthClient<G> {
  validateClientOptions(options);
  const grant = options.grant;
  const services = defaultServices(options.services);
  const clientConfig = clientConfigFrom(options);
  const grantOptions = grantOptionsFrom(options);
  const renewalRule = resolveGrantOptions(grantOptions);
  const listeners = new Set<(snapshot: GrantSnapshot<G>) => void>();
  const discovery = new AbortController();

  let actor: DrivenActor | undefined;
  let provider: ProviderConfig | undefined;
  let isReady = false;
  let stopped = false;

  const forward = (snapshot: ObservedSnapshot): void => {
    for (const listener of listeners) {
      try {
        listener(snapshot as GrantSnapshot<G>);
      } catch (error) {
        // A listener's bug must not stop the others nor the machine; surface it like XState does.
        setTimeout(() => {
          throw error;
        });
      }
    }
  };

  const start = (resolved: ProviderConfig): Promise<void> => {
    provider = resolved;
    const input: GrantInput = { provider: resolved, client: clientConfig, services, options: grantOptions };
    if (options.resource !== undefined) input.resource = options.resource;
    const clock = xstateClock(services.clock);
    const actorOptions: GrantActorOptions = options.inspect === undefined ? { input, clock } : { input, clock, inspect: options.inspect };
    const created = createGrantActor(grant, actorOptions);
    actor = created;
    // The error observer keeps a failing actor from becoming an unhandled error; waiters see `status: 'error'`.
    created.subscribe({ next: forward, error: noop });
    created.start();
    return waitForSnapshot<ObservedSnapshot, void>(created, (snapshot) =>
      snapshot.hasTag('ready') || stateName(snapshot) !== 'restoring' ? { value: undefined } : undefined,
    );
  };

  const begin = (): Promise<void> => {
    const given: ProviderOption = options.provider;
    if (!needsDiscovery(given)) return start(given);
    const discoveryOptions = given.allowInsecureRequests
      ? { signal: discovery.signal, allowInsecureRequests: true }
      : { signal: discovery.signal };
    return discover(given.issuer, { fetch: services.fetch }, discoveryOptions).then((discovered) => {
      if (stopped) throw stoppedError();
      const merged: ProviderConfig = { ...discovered };
      for (const [key, value] of Object.entries(given)) {
        if (value !== undefined) Object.assign(merged, { [key]: value });
      }
      checkProviderForGrant(merged, grant, (message) => {
        throw new OAuthError('unsupported_operation', {
          description: `The discovered metadata of ${given.issuer} does not fit: ${message}`,
          retryable: false,
        });
      });
      return start(merged);
    });
  };

  const ready = (() => {
    try {
      return begin();
    } catch (error) {
      return Promise.reject(error);
    }
  })().then(
    () => {
      isReady = true;
    },
    (error: unknown) => {
      // A TypeError is a configuration mistake (say, an http issuer off loopback) and stays one.
      throw stopped ? stoppedError() : error instanceof TypeError ? error : OAuthError.from(error);
    },
  );
  // Nobody may await `ready`: keep it rejecting for those who do, unhandled for none.
  ready.catch(noop);

  /**
   * A call that fails after stop() was called fails with `aborted`, whatever
   * it saw first: a caller racing a shutdown must not be told to log in.
   */
  const unlessStopped = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      throw stopped ? stoppedError() : error;
    });

  /** The actor once ready; every method goes through here. */
  const whenReady = async (): Promise<DrivenActor> => {
    if (!isReady) await ready;
    if (stopped || actor === undefined) throw stoppedError();
    return actor;
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
  const isExpired = (tokens: TokenSet): boolean =>
    tokens.expiresAt !== undefined && services.clock.now() >= tokens.expiresAt;
  // Client credentials "refresh" with a new client-credentials request (there is no refresh token).
  const canRefresh = (tokens: TokenSet): boolean =>
    grant === 'client_credentials' || tokens.refreshToken !== undefined;

  const signedInTokens = (snapshot: ObservedSnapshot): TokenSet | undefined =>
    snapshot.hasTag('signedIn') ? view(snapshot).tokens : undefined;

  /**
   * Verdict for a caller of getAccessToken, on any snapshot after a refresh or login began. `expired`: the
   * access token the caller found expired, which it waits to see replaced (a renewal's result is handed to
   * its waiters even if the server made it expire at once).
   */
  const accessTokenVerdict = (expired?: string) => (snapshot: ObservedSnapshot): Verdict<string> => {
    const { tokens, error } = view(snapshot);
    switch (stateName(snapshot)) {
      case 'authenticated':
        if (tokens === undefined) return undefined;
        if (!isExpired(tokens) || tokens.accessToken !== expired) return { value: tokens.accessToken };
        // Expired, and the renewal waits for its backoff: the caller gets the failure, not a wait.
        if (error !== undefined && backingOff(snapshot)) return { error: toOAuthError(error) };
        return undefined; // the expiry timer renews it (no sooner than the minimum renewal interval)
      case 'refreshing':
        // While a refresh is under way, a still-valid token is served: callers never wait on the network for it.
        return tokens && !isExpired(tokens) ? { value: tokens.accessToken } : undefined;
      case 'error':
      case 'restoreFailed':
        return failureOf(snapshot, () => loginRequired());
      case 'idle':
      case 'redirecting':
      case 'awaitingCallback':
      case 'requestingCode':
      case 'awaitingUser':
        // No session (an error kept in `idle` is a past revocation or restore failure, not this caller's).
        return { error: loginRequired() };
      default:
        return undefined;
    }
  };

  const obtainAccessToken = async (): Promise<string> => {
    const current = await whenReady();
    const snapshot = current.getSnapshot();
    const { tokens, staleTokens, error, savedAt } = view(snapshot);
    switch (stateName(snapshot)) {
      case 'authenticated': {
        if (tokens === undefined) break;
        if (isFresh(tokens, savedAt)) return tokens.accessToken;
        if (!canRefresh(tokens)) {
          if (!isExpired(tokens)) return tokens.accessToken;
          throw loginRequired();
        }
        // One REFRESH when renewal is due by the one rule (skew, half-life, minimum interval) and no backoff holds
        // it back; the machine is in `refreshing` when send() returns, so later callers do not send another.
        const due = renewalDueAt(tokens, savedAt, renewalRule);
        if ((due === undefined || services.clock.now() >= due) && !backingOff(snapshot)) current.send({ type: 'REFRESH' });
        // While the held token is valid the caller gets it at once: the renewal goes on without it.
        if (!isExpired(tokens)) return tokens.accessToken;
        return waitForSnapshot(current, accessTokenVerdict(tokens.accessToken));
      }
      case 'refreshing':
        if (tokens === undefined) break;
        if (!isExpired(tokens)) return tokens.accessToken;
        return waitForSnapshot(current, accessTokenVerdict(tokens.accessToken));
      case 'restoring':
        // Restoring again after a failed restore (restoreFailed): ask once the stored session is known.
        await waitForSnapshot(current, (next) => (stateName(next) === 'restoring' ? undefined : { value: undefined }));
        return obtainAccessToken();
      case 'idle':
        if (grant !== 'client_credentials') throw loginRequired();
        current.send({ type: 'LOGIN' });
        break;
      case 'error':
        // A failed renewal set the tokens aside (only invalid_grant or another user forgets them): spend their
        // refresh token again for this demand, once the backoff is over; until then the demand gets the failure.
        // (Never RETRY a failed code login from here: that would navigate away.)
        if (staleTokens !== undefined || grant === 'client_credentials') {
          if (error !== undefined && backingOff(snapshot)) throw toOAuthError(error);
          if (staleTokens !== undefined && sendAccepted(current, { type: 'RETRY' })) break;
          if (grant === 'client_credentials' && sendAccepted(current, { type: 'LOGIN' })) break;
        }
        throw loginRequired(error);
      default:
        break;
    }
    return waitForSnapshot(current, accessTokenVerdict());
  };

  const loginAuthorizationCode = async (loginOptions: LoginOptions): Promise<string> => {
    const current = await whenReady();
    // From `awaitingCallback` too: the machine drops the old pending authorization for the new one.
    if (!sendAccepted(current, { type: 'LOGIN', ...loginOptions })) {
      throw unsupported(`login() is not possible in state ${stateName(current.getSnapshot())}; call logout() first`);
    }
    return waitForSnapshot(current, (snapshot): Verdict<string> => {
      switch (stateName(snapshot)) {
        case 'redirecting':
          return undefined;
        case 'awaitingCallback': {
          const url = view(snapshot).authorizationUrl;
          return url === undefined ? undefined : { value: url };
        }
        case 'error':
          return failureOf(snapshot, () => loginRequired());
        default:
          return { error: new OAuthError('aborted', { description: 'The login was cancelled', retryable: false }) };
      }
    });
  };

  const loginClientCredentials = async (loginOptions: LoginOptions): Promise<TokenSet> => {
    const current = await whenReady();
    const state = stateName(current.getSnapshot());
    if (state === 'idle' || state === 'error') {
      if (!sendAccepted(current, { type: 'LOGIN', ...loginOptions })) {
        throw unsupported(`login() is not possible in state ${state}`);
      }
    } else if (state === 'authenticated') {
      await obtainAccessToken();
    }
    return waitForSnapshot(current, (snapshot): Verdict<TokenSet> => {
      const { tokens } = view(snapshot);
      if (stateName(snapshot) === 'authenticated' && tokens) return { value: tokens };
      const verdict = accessTokenVerdict()(snapshot);
      return verdict && 'error' in verdict ? verdict : undefined;
    });
  };

  const deviceTokens = (current: DrivenActor): Promise<TokenSet> => {
    const tokens = waitForSnapshot(current, (snapshot): Verdict<TokenSet> => {
      switch (stateName(snapshot)) {
        case 'authenticated': {
          const set = view(snapshot).tokens;
          return set ? { value: set } : undefined;
        }
        case 'error':
          return failureOf(snapshot, () => loginRequired());
        case 'idle':
          return { error: new OAuthError('aborted', { description: 'The device authorization was cancelled', retryable: false }) };
        default:
          return undefined;
      }
    });
    // The caller may never look at `tokens`: handled for nobody, still rejecting for whoever awaits it.
    tokens.catch(noop);
    return tokens;
  };

  const loginDevice = async (loginOptions: LoginOptions): Promise<DeviceLogin> => {
    const current = await whenReady();
    const state = stateName(current.getSnapshot());
    if (state !== 'awaitingUser' && state !== 'requestingCode' && !sendAccepted(current, { type: 'LOGIN', ...loginOptions })) {
      throw unsupported(`login() is not possible in state ${state}; call logout() first`);
    }
    const device = await waitForSnapshot(current, (snapshot): Verdict<DeviceContext> => {
      switch (stateName(snapshot)) {
        case 'requestingCode':
          return undefined;
        case 'awaitingUser': {
          const info = view(snapshot).device;
          return info ? { value: info } : undefined;
        }
        case 'error':
          return failureOf(snapshot, () => loginRequired());
        default:
          return { error: new OAuthError('aborted', { description: 'The device authorization was cancelled', retryable: false }) };
      }
    });
    const login: DeviceLogin = {
      userCode: device.userCode,
      verificationUri: device.verificationUri,
      expiresAt: device.expiresAt,
      interval: device.interval,
      tokens: deviceTokens(current),
    };
    if (device.verificationUriComplete !== undefined) login.verificationUriComplete = device.verificationUriComplete;
    return login;
  };

  const client: OAuthClient<G> = {
    grant,
    ready,

    get actor(): GrantActor<G> {
      if (actor === undefined) {
        throw new Error('client.actor is created once discovery is done: await client.ready first');
      }
      return actor as unknown as GrantActor<G>;
    },

    get provider(): ProviderConfig {
      if (provider === undefined) {
        throw new Error('client.provider is known once discovery is done: await client.ready first');
      }
      return provider;
    },

    login(loginOptions: LoginOptions = {}): Promise<LoginResult<G>> {
      const result = unlessStopped<unknown>(
        grant === 'authorization_code'
          ? loginAuthorizationCode(loginOptions)
          : grant === 'client_credentials'
            ? loginClientCredentials(loginOptions)
            : loginDevice(loginOptions),
      );
      return result as Promise<LoginResult<G>>;
    },

    handleCallback(url: string): Promise<TokenSet> {
      return unlessStopped(handleCallback(url));
    },

    getAccessToken(): Promise<string> {
      // Hot path: a valid token is answered from the snapshot, no storage, no waiting.
      if (isReady && !stopped && actor !== undefined) {
        const snapshot = actor.getSnapshot();
        const tokens = signedInTokens(snapshot);
        if (tokens !== undefined && isFresh(tokens, view(snapshot).savedAt)) return Promise.resolve(tokens.accessToken);
      }
      return unlessStopped(obtainAccessToken());
    },

    async getTokens(): Promise<TokenSet | undefined> {
      const current = await whenReady();
      return signedInTokens(current.getSnapshot());
    },

    userinfo(): Promise<Record<string, unknown>> {
      return unlessStopped(userinfo());
    },

    logout(): Promise<void> {
      return unlessStopped(logout());
    },

    subscribe(listener: (snapshot: GrantSnapshot<G>) => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    stop(): void {
      if (stopped) return;
      stopped = true;
      discovery.abort();
      actor?.stop();
    },
  };

  async function handleCallback(url: string): Promise<TokenSet> {
    if (typeof url !== 'string' || url === '') throw new TypeError('handleCallback(url): url must be a non-empty string');
    if (grant !== 'authorization_code') throw unsupported(`handleCallback() belongs to the authorization_code grant, not ${grant}`);
    const current = await whenReady();
    if (!sendAccepted(current, { type: 'CALLBACK', url })) {
      throw new OAuthError('pending_missing', {
        description: `No authorization is pending (state ${stateName(current.getSnapshot())})`,
        retryable: false,
      });
    }
    return waitForSnapshot(current, (snapshot): Verdict<TokenSet> => {
      const { tokens } = view(snapshot);
      switch (stateName(snapshot)) {
        case 'authenticated':
          return tokens ? { value: tokens } : undefined;
        case 'error':
          return failureOf(snapshot, () => new OAuthError('invalid_callback', { retryable: false }));
        case 'idle':
        case 'redirecting':
          return { error: new OAuthError('aborted', { description: 'The login was cancelled', retryable: false }) };
        default:
          return undefined;
      }
    });
  }

  async function userinfo(): Promise<Record<string, unknown>> {
    await whenReady();
    // Checked first, so a provider without the endpoint never costs a refresh.
    if (provider?.userinfoEndpoint === undefined) throw unsupported('The provider has no userinfo endpoint');
    const accessToken = await client.getAccessToken();
    return fetchUserinfo({ provider, client: clientConfig, services, accessToken });
  }

  async function logout(): Promise<void> {
    const current = await whenReady();
    const state = stateName(current.getSnapshot());
    // From idle too: the machine's logout also removes whatever is left in storage.
    // A logout already under way is simply waited for.
    if (state !== 'loggingOut') {
      const accepted = sendAccepted(current, { type: 'LOGOUT' }) || sendAccepted(current, { type: 'CANCEL' });
      if (!accepted) {
        if (signedInTokens(current.getSnapshot()) === undefined) return;
        throw unsupported(`logout() is not possible in state ${state}`);
      }
    }
    await waitForSnapshot(current, (snapshot): Verdict<void> => {
      switch (stateName(snapshot)) {
        case 'idle':
          return { value: undefined };
        case 'error':
          return failureOf(snapshot, () => unsupported('logout failed'));
        default:
          return undefined;
      }
    });
  }

  return client;
}

interface GrantActorOptions {
  input: GrantInput;
  clock: ReturnType<typeof xstateClock>;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

function createGrantActor(grant: OAuthGrant, options: GrantActorOptions): DrivenActor {
  switch (grant) {
    case 'authorization_code':
      return createActor(authorizationCodeMachine, options);
    case 'client_credentials':
      return createActor(clientCredentialsMachine, options);
    case 'device_code':
      return createActor(deviceCodeMachine, options);
  }
}
