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
import type { LoginOptions } from './types.js';

/** `login()`: creates state and PKCE, asks `services.navigate` to go, resolves with the authorization URL. */
export function loginWithRedirect(core: Core, options: LoginOptions): Promise<string> {
  return core.unlessStopped(
    (async () => {
      const current = await core.whenReady();
      // From `awaitingCallback` too: the machine drops the old pending authorization for the new one.
      if (!core.sendAccepted(current, { type: 'LOGIN', ...options })) {
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

/**
 * `handleCallback(url)`: the callback URL to the machine (a fresh client on the callback page restores the
 * pending authorization from storage first); resolves with the tokens.
 */
export function handleCallback(core: Core, url: string): Promise<TokenSet> {
  return core.unlessStopped(
    (async () => {
      if (typeof url !== 'string' || url === '') throw new TypeError('handleCallback(url): url must be a non-empty string');
      const current = await core.whenReady();
      if (!core.sendAccepted(current, { type: 'CALLBACK', url })) {
        throw new OAuthError('pending_missing', {
          description: is.signedIn(current.getSnapshot()) ? 'No authorization is pending: already signed in' : 'No authorization is pending',
          retryable: false,
        });
      }
      return core.until(current, (snapshot): Verdict<TokenSet> => {
        const { tokens } = view(snapshot);
        if (is.signedIn(snapshot)) return tokens ? { value: tokens } : undefined;
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

/** The grant's machine and façade, for `assembleGrantClient`. */
export function authorizationCodeKit(): GrantKit {
  return { machine: authorizationCodeMachine, login: loginWithRedirect, handleCallback };
}
