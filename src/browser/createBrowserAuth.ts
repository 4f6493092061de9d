/**
 * `createBrowserAuth`: the authorization code grant for a single-page app,
 * with the browser's defaults filled in — `sessionStorage`, `location.assign`,
 * the callback's parameters removed from the address bar — and the tabs of
 * one origin kept in step (one refresh at a time, new tokens and logouts seen
 * everywhere).
 */

import { DEFAULT_STORAGE_KEY } from '../client/config.js';
import { assembleCore } from '../client/assemble.js';
import { authorizationCodeKit, handleCallback as redeemCallback, LOGIN_OPTIONS, loginWithRedirect } from '../client/authorizationCode.js';
import { authorizedFetchOf } from '../client/authorizedFetch.js';
import { fetchClientUserinfo } from '../client/calls.js';
import type { ObservedSnapshot } from '../client/snapshot.js';
import { sameUser, userFromTokens, type UserClaims } from '../client/user.js';
import type { GrantActor, LoginOptions, LogoutOptions, LogoutResult, OAuthClientOptions } from '../client/index.js';
import { consumeProviderLogout } from '../../machines/persistence.js';
import { POPUP_CALLBACK_MESSAGE, popupBlocked, popupCallback, type PopupWindow } from './popup.js';
import type { CallbackTokens } from '../client/types.js';
import type { TokenSet } from '../protocol/types.js';
import type { Services } from '../services/types.js';
import { cleanAddressBar } from './addressBar.js';
import { resolveEnvironment } from './environment.js';
import { validateBrowserOptions, type BrowserAuthOptions } from './options.js';
import { joinTabSession, type TabClient } from './tabSession.js';
import { chooseStore } from './tabStorage.js';

/** The browser helper (see {@link createBrowserAuth}). Every rejection is an `OAuthError`. */
export interface BrowserAuth {
  /**
   * Starts a login: creates state, PKCE (and a nonce with `openid`), stores
   * them, and navigates to the authorization endpoint. Resolves with the
   * authorization URL (the page is usually gone by then).
   */
  login(options?: BrowserLoginOptions): Promise<string>;
  /**
   * On the redirect page: checks the callback (state, `iss`, single use, time
   * to live), redeems the code, stores the tokens, and removes the callback's
   * parameters from the address bar (also when it fails). Rejects with the
   * typed error: `state_mismatch` for a forged callback, `access_denied`,
   * `pending_missing`, … A second call with the same URL while the first is
   * under way (a framework running effects twice) shares the first one.
   *
   * Resolves with the tokens, and the login's `appState` and `returnTo`; with
   * a `returnTo`, the address bar then shows it (`history.replaceState`, no
   * reload: a router reads `location` after this resolves).
   *
   * @param url The callback URL; default `location.href`.
   */
  handleCallback(url?: string): Promise<CallbackTokens>;
  /** @deprecated Renamed {@link BrowserAuth.handleCallback} (the client's name); removed in the next release. */
  handleRedirectCallback(url?: string): Promise<CallbackTokens>;
  /**
   * A usable access token, refreshed when it is about to expire — once for
   * every caller in every tab. Rejects with `login_required` without a session.
   */
  getAccessToken(): Promise<string>;
  /** The current tokens when signed in, else `undefined` (after the stored session was restored). */
  getTokens(): Promise<TokenSet | undefined>;
  /** @deprecated Renamed {@link BrowserAuth.getTokens} (the client's name); removed in the next release. */
  getTokenSet(): Promise<TokenSet | undefined>;
  /**
   * Ends the session (revoking where the provider allows) here and in every
   * other tab; resolves with what was (not) revoked. `{ endSession: true,
   * postLogoutRedirectUri? }` ends the user's session at the provider too
   * (OpenID Connect RP-Initiated Logout): the page then goes to the
   * provider's end-session endpoint, which sends it back to
   * `postLogoutRedirectUri`, where {@link BrowserAuth.handleLogoutCallback}
   * checks the return.
   */
  logout(options?: LogoutOptions): Promise<LogoutResult>;
  /**
   * On the post-logout page: checks that the provider's return carries the
   * `state` that `logout({ endSession })` sent (`state_mismatch` otherwise;
   * `pending_missing` without a logout under way; `pending_expired` after
   * `options.callbackTtlMs`), and removes `state` from the address bar.
   *
   * @param url The return URL; default `location.href`.
   */
  handleLogoutCallback(url?: string): Promise<void>;
  /**
   * Login in a popup window instead of a redirect of this page: call it from
   * a click (browsers block other popups: `popup_blocked`). The authorization
   * request opens in the window; the callback page there calls
   * {@link BrowserAuth.handlePopupCallback}, which hands the callback to this
   * page — taken only from that window and this origin — and this page's
   * machine checks and redeems it as for a redirect. Resolves with the tokens
   * (and `appState`); the user closing the window first cancels the login
   * (`popup_closed`).
   */
  loginPopup(options?: BrowserLoginOptions): Promise<CallbackTokens>;
  /**
   * On the callback page inside the login window: posts the callback URL to
   * the page that opened the window (this origin only), then closes the
   * window. It redeems nothing itself. Rejects with a `TypeError` on a page
   * that no `loginPopup()` opened.
   *
   * @param url The callback URL; default `location.href`.
   */
  handlePopupCallback(url?: string): Promise<void>;
  /**
   * Calls `listener` whenever the tokens change — a login, a refresh, a
   * logout, or any of those in another tab — with the new tokens or
   * `undefined` when signed out. Returns the unsubscribe.
   */
  onTokenChange(listener: (tokens: TokenSet | undefined) => void): () => void;
  /**
   * Who is signed in: the claims of the session's ID token (validated when it
   * arrived), once the stored session was restored; `undefined` when signed
   * out or without the `openid` scope. Synchronous twin for a render:
   * `selectUser(auth.actor.getSnapshot())`.
   */
  getUser(): Promise<UserClaims | undefined>;
  /**
   * Calls `listener` when the signed-in user changes — a login, a logout, a
   * refresh that brought an ID token with other claims (a new `email`, say),
   * any of those in another tab — with the new claims or `undefined`. Not on
   * a refresh whose ID token differs only in its own claims (`iat`, `exp`,
   * `nonce`, `at_hash`…). Returns the unsubscribe.
   */
  onUserChange(listener: (user: UserClaims | undefined) => void): () => void;
  /**
   * The userinfo endpoint's claims for the current access token (OpenID
   * Connect Core §5.3), refreshing the token first when it is due. Rejects
   * with `unsupported` when the provider has no userinfo endpoint.
   */
  userinfo(): Promise<Record<string, unknown>>;
  /**
   * `fetch` to a resource server with `Authorization: Bearer` and the current
   * access token (RFC 6750 §2.1). On a 401 whose `WWW-Authenticate` says
   * `error="invalid_token"` the session renews once (one `REFRESH`, shared by
   * every caller that was refused the same token) and the request is sent
   * once more; never a third time. A renewal that fails rejects with its
   * typed error (`login_required` once the session is over). A request that
   * already has an `Authorization` header is refused with a `TypeError`.
   */
  authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * The XState actor (for `@xstate/react`, the inspector, a UI reading tags).
   * It exists at once, discovery or not: with `provider: { issuer }` the
   * machine starts in `discovering` (tagged `busy`), so a UI can render
   * "loading" from the first snapshot.
   */
  readonly actor: GrantActor<'authorization_code'>;
  /** Resolves once discovery (if any) and the restore of the stored session are done. */
  readonly ready: Promise<void>;
  /** Stops the actor and leaves the other tabs (for tests, or an app that unmounts its auth). */
  stop(): void;
}

/**
 * Creates the SPA helper: the authorization code grant with PKCE for a
 * public client, sessions in `sessionStorage` (`services.storage`: or `'local'`, `'memory'`, any
 * `StorageService`), navigation with `location.assign`, and tab sync through
 * Web Locks and `BroadcastChannel` (the `storage` event when only
 * `localStorage` can carry it). Each of those browser APIs is optional.
 *
 * Refuses (with a `TypeError`) options that carry a client secret or a client
 * authentication method other than `'none'`: a browser cannot keep a secret.
 *
 * @example
 * const auth = createBrowserAuth({
 *   provider: { issuer: 'https://id.example' },
 *   client: { clientId: 'spa', redirectUri: `${location.origin}/callback`, scopes: ['openid', 'offline_access'] },
 * });
 * if (location.pathname === '/callback') await auth.handleCallback();
 * const response = await fetch('/api', { headers: { Authorization: `Bearer ${await auth.getAccessToken()}` } });
 */
export function createBrowserAuth(options: BrowserAuthOptions): BrowserAuth {
  validateBrowserOptions(options);
  const environment = resolveEnvironment(options.environment);
  const storageKey = options.options?.storageKey ?? DEFAULT_STORAGE_KEY;
  const chosen = chooseStore(options.services?.storage, environment);

  // The tabs order stored sessions by `savedAt`, which the machines stamp with `services.clock`.
  const clock = options.services?.clock;
  const session = joinTabSession(storageKey, chosen, environment, clock ? () => clock.now() : Date.now);

  const { storage: _storage, ...given } = options.services ?? {};
  const services: Partial<Services> = { ...given, storage: session.storage };
  const location = environment.location ?? undefined;
  if (services.navigate === undefined && location?.assign) {
    services.navigate = (url) => location.assign?.(url);
  }
  // While loginPopup() runs, the login's navigation goes to its window instead of this page.
  let popupTarget: PopupWindow | undefined;
  const pageNavigate = services.navigate;
  services.navigate = async (url) => {
    if (popupTarget !== undefined) popupTarget.location.href = url;
    else await pageNavigate?.(url);
  };
  // Validated above, once: the core is assembled without checking again, with the code grant alone (no other
  // grant is bundled), and faced by this helper's own methods (no refresh() nor userinfo() to bundle).
  const core = assembleCore(clientOptionsFrom(options, services), authorizationCodeKit());
  const client: TabClient = {
    ready: core.ready,
    get actor() {
      return core.actor as unknown as GrantActor<'authorization_code'>;
    },
    subscribe: (listener) => core.subscribe(listener as (snapshot: ObservedSnapshot) => void),
  };

  const listeners = new Set<(tokens: TokenSet | undefined) => void>();
  const userListeners = new Set<(user: UserClaims | undefined) => void>();
  let user: UserClaims | undefined;
  session.attach(client, (tokens) => {
    notify(listeners, tokens);
    const next = userFromTokens(tokens);
    // A refresh that kept the ID token, or brought one that only differs in its own timing, is no change of user.
    const changed = !sameUser(user, next);
    user = next;
    if (changed) notify(userListeners, next);
  });

  let callbackInFlight: { url: string; result: Promise<CallbackTokens> } | undefined;

  const auth: BrowserAuth = {
    login(loginOptions: BrowserLoginOptions = {}): Promise<string> {
      try {
        if (loginOptions.returnTo !== undefined) checkSameOrigin(loginOptions.returnTo, location?.href);
      } catch (error) {
        return Promise.reject(error);
      }
      return loginWithRedirect(core, loginOptions, BROWSER_LOGIN_OPTIONS);
    },

    handleCallback(url?: string): Promise<CallbackTokens> {
      const href = url ?? location?.href;
      if (href === undefined) {
        return Promise.reject(new TypeError('handleCallback(url): no url given and no location to read it from'));
      }
      if (callbackInFlight?.url === href) return callbackInFlight.result;
      const history = environment.history ?? undefined;
      const result = redeemCallback(core, href).then(
        (tokens) => {
          // RFC 9700 §4.2.4: the code and state must not stay in the address bar, history or a Referer.
          if (location) cleanAddressBar({ location, history });
          // Checked at login, and again here: the pending authorization came back from storage.
          if (tokens.returnTo !== undefined && location && history) {
            history.replaceState(history.state, '', checkSameOrigin(tokens.returnTo, location.href));
          }
          if (callbackInFlight?.result === result) callbackInFlight = undefined;
          return tokens;
        },
        (error: unknown) => {
          if (location) cleanAddressBar({ location, history });
          if (callbackInFlight?.result === result) callbackInFlight = undefined;
          throw error;
        },
      );
      callbackInFlight = { url: href, result };
      return result;
    },

    handleRedirectCallback: (url?: string) => auth.handleCallback(url),
    getAccessToken: () => core.getAccessToken(),
    getTokens: () => core.getTokens(),
    getTokenSet: () => core.getTokens(),
    logout: (options) => core.logout(options),

    loginPopup(loginOptions: BrowserLoginOptions = {}): Promise<CallbackTokens> {
      // Opened at once, inside the click that called this: a window opened after an await is blocked.
      const popup = environment.open?.('about:blank', 'oauth-machines-login', 'popup,width=520,height=680') ?? null;
      if (popup === null) return Promise.reject(popupBlocked());
      const messages = environment.messages;
      const origin = location === undefined ? undefined : new URL(location.href).origin;
      if (messages === undefined || messages === null || origin === undefined) {
        popup.close();
        return Promise.reject(new TypeError('loginPopup(): no window to hear the login window from'));
      }
      const result = (async () => {
        popupTarget = popup;
        try {
          await auth.login(loginOptions);
        } finally {
          popupTarget = undefined;
        }
        let callbackUrl: string;
        try {
          callbackUrl = await popupCallback(popup, origin, messages, core.services.clock);
        } catch (error) {
          // The login waits for a callback that will not come: it ends here.
          core.actor.send({ type: 'CANCEL' });
          throw error;
        }
        popup.close();
        return redeemCallback(core, callbackUrl);
      })();
      return result.catch((error: unknown) => {
        if (!popup.closed) popup.close();
        throw error;
      });
    },

    async handlePopupCallback(url?: string): Promise<void> {
      const href = url ?? location?.href;
      const opener = environment.opener;
      if (href === undefined || opener === undefined || opener === null || location === undefined) {
        throw new TypeError('handlePopupCallback(): this page was not opened by loginPopup()');
      }
      const origin = new URL(location.href).origin;
      opener.postMessage({ type: POPUP_CALLBACK_MESSAGE, url: href }, origin);
      environment.close?.();
    },

    async handleLogoutCallback(url?: string): Promise<void> {
      const href = url ?? location?.href;
      if (href === undefined) throw new TypeError('handleLogoutCallback(url): no url given and no location to read it from');
      const state = new URL(href).searchParams.get('state');
      try {
        await consumeProviderLogout(session.storage, storageKey, state, core.services.clock.now());
      } finally {
        if (location) cleanAddressBar({ location, history: environment.history ?? undefined });
      }
    },

    onTokenChange: (listener) => subscribe(listeners, listener),
    getUser: async () => userFromTokens(await core.getTokens()),
    onUserChange: (listener) => subscribe(userListeners, listener),
    userinfo: () => fetchClientUserinfo(core),
    authorizedFetch: authorizedFetchOf(core),

    get actor() {
      return client.actor;
    },
    ready: core.ready,

    stop() {
      listeners.clear();
      userListeners.clear();
      session.close();
      core.stop();
    },
  };
  return auth;
}

/** The options `login()` of the browser helper takes: the code grant's, and `returnTo`. */
const BROWSER_LOGIN_OPTIONS = [...LOGIN_OPTIONS, 'returnTo'] as const;

/** Options of the browser helper's `login()`. */
export interface BrowserLoginOptions extends LoginOptions {
  /**
   * Where to be once the callback is handled: a path (`/orders/42?tab=2`) or
   * a URL of this page's origin. Another origin is a `TypeError` at `login()`
   * (an open redirector is a phishing tool, RFC 9700 §4.11).
   */
  returnTo?: string;
}

/** `returnTo` resolved against the page: it must stay on the page's origin. Returns the absolute URL. */
function checkSameOrigin(returnTo: string, page: string | undefined): string {
  if (typeof returnTo !== 'string' || returnTo === '') throw new TypeError('login(): returnTo must be a non-empty string');
  if (page === undefined) throw new TypeError('login(): returnTo needs a page location to be resolved against');
  let target: URL;
  try {
    target = new URL(returnTo, page);
  } catch {
    throw new TypeError(`login(): returnTo is not a URL: ${JSON.stringify(returnTo)}`);
  }
  if (target.origin !== new URL(page).origin) {
    throw new TypeError(`login(): returnTo must stay on this origin (${new URL(page).origin}), got ${target.origin}`);
  }
  return target.href;
}

function subscribe<T>(listeners: Set<(value: T) => void>, listener: (value: T) => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

function notify<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      // One listener's bug must not keep the others (or the machine) from the change.
      setTimeout(() => {
        throw error;
      });
    }
  }
}

/** The client's options: the browser's own ones taken out, a public client (`authMethod: 'none'`). */
function clientOptionsFrom(options: BrowserAuthOptions, services: Partial<Services>): OAuthClientOptions<'authorization_code'> {
  const clientOptions: OAuthClientOptions<'authorization_code'> = {
    grant: 'authorization_code',
    provider: options.provider,
    client: { ...options.client, authMethod: 'none' },
    services,
  };
  if (options.options !== undefined) clientOptions.options = options.options;
  if (options.inspect !== undefined) clientOptions.inspect = options.inspect;
  return clientOptions;
}
