/**
 * The authorization code grant's façade (RFC 6749 §4.1 with PKCE): `login()`
 * sends the user agent to the provider and resolves with the URL,
 * `handleCallback()` hands the callback to the machine.
 */
import { authorizationCodeMachine } from '../../machines/authorizationCode.js';
import { OAuthError } from '../errors.js';
import type { TokenSet } from '../protocol/types.js';
import { cancelled, failureOf, is, loginRequired, unsupported, view, type Core } from './core.js';
import type { GrantKit } from './assemble.js';
import type { Verdict } from './snapshot.js';
import type { CallbackTokens, LoginOptions } from './types.js';
import type { PendingAuthorization } from '../../machines/types.js';
import { loginEvent } from './login.js';

/** `login()`: creates state and PKCE, asks `services.navigate` to go, resolves with the authorization URL. */
export function loginWithRedirect(core: Core, options: LoginOptions & { returnTo?: string }, known: readonly string[] = LOGIN_OPTIONS): Promise<string> {
  return core.unlessStopped(
    (async () => {
      const event = loginEvent(options, known);
      const current = await core.whenReady();
      // From `awaitingCallback` too: the machine drops the old pending authorization for the new one.
      if (!core.sendAccepted(current, event)) {
        throw unsupported('login() is not possible now (a login or logout is under way, or a session is held); call logout() first');
      }
      return core.until(current, (snapshot): Verdict<string> => {
        if (is.awaitingCallback(snapshot)) {
          const url = view(snapshot).authorizationUrl;
          return url === undefined ? undefined : { value: url };
        }
        if (is.failed(snapshot)) return failureOf(snapshot, () => loginRequired());
        if (is.busy(snapshot)) return undefined;
        return { error: cancelled('login') };
      });
    })(),
  );
}

/** The options `login()` of the authorization code grant takes. */
export const LOGIN_OPTIONS = ['scopes', 'extraParams', 'tokenParams', 'appState'] as const;

/**
 * `handleCallback(url)`: the callback URL to the machine (a fresh client on the callback page restores the
 * pending authorization from storage first); resolves with the tokens, and the login's `appState` and
 * `returnTo` when it had them.
 */
export function handleCallback(core: Core, url: string): Promise<CallbackTokens> {
  return core.unlessStopped(
    (async () => {
      if (typeof url !== 'string' || url === '') throw new TypeError('handleCallback(url): url must be a non-empty string');
      const current = await core.whenReady();
      // What the login carried, read before the exchange forgets its pending authorization.
      const { pending } = view(current.getSnapshot());
      if (!core.sendAccepted(current, { type: 'CALLBACK', url })) {
        throw new OAuthError('pending_missing', {
          description: is.signedIn(current.getSnapshot()) ? 'No authorization is pending: already signed in' : 'No authorization is pending',
          retryable: false,
        });
      }
      return core.until(current, (snapshot): Verdict<CallbackTokens> => {
        const { tokens } = view(snapshot);
        if (is.signedIn(snapshot)) return tokens ? { value: withCarried(tokens, pending) } : undefined;
        if (is.failed(snapshot)) return failureOf(snapshot, () => new OAuthError('invalid_callback', { retryable: false }));
        // The exchange (or the restore of the pending authorization) is under way.
        if (is.busy(snapshot) || !is.ready(snapshot)) return undefined;
        // Still waiting for a callback once ours was handled: ours was not this login's (another state), and the
        // machine kept the pending authorization; its context says why ours was refused.
        if (is.awaitingCallback(snapshot)) return failureOf(snapshot, () => new OAuthError('state_mismatch', { retryable: false }));
        return { error: cancelled('login') };
      });
    })(),
  );
}

function withCarried(tokens: TokenSet, pending: Pick<PendingAuthorization, 'appState' | 'returnTo'> | undefined): CallbackTokens {
  if (pending?.appState === undefined && pending?.returnTo === undefined) return tokens;
  const result: { -readonly [K in keyof CallbackTokens]: CallbackTokens[K] } = { ...tokens };
  if (pending.appState !== undefined) result.appState = pending.appState;
  if (pending.returnTo !== undefined) result.returnTo = pending.returnTo;
  return result;
}

/** The grant's machine and façade, for `assembleGrantClient`. */
export function authorizationCodeKit(): GrantKit {
  return { machine: authorizationCodeMachine, login: (core, options) => loginWithRedirect(core, options), handleCallback };
}
