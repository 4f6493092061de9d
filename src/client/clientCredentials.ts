/**
 * The client credentials grant's façade (RFC 6749 §4.4): `login()` resolves
 * with the tokens; `getAccessToken()` logs in on demand.
 */
import { clientCredentialsMachine } from '../../machines/clientCredentials.js';
import type { TokenSet } from '../protocol/types.js';
import { failureOf, is, loginRequired, restingTokens, unsupported, type Core } from './core.js';
import type { GrantKit } from './assemble.js';
import type { Verdict } from './snapshot.js';
import { loginEvent } from './login.js';
import type { LoginOptions } from './types.js';

/** `login()`: the tokens (the current ones when signed in, renewed first when due). */
export function loginWithCredentials(core: Core, options: LoginOptions): Promise<TokenSet> {
  return core.unlessStopped(
    (async () => {
      const event = loginEvent(options, ['scopes']);
      const current = await core.whenReady();
      const snapshot = current.getSnapshot();
      if (restingTokens(snapshot) !== undefined) {
        await core.getAccessToken();
      } else if (!is.signedIn(snapshot) && !is.busy(snapshot) && !core.sendAccepted(current, event)) {
        throw unsupported('login() is not possible now');
      }
      return core.until(current, (next): Verdict<TokenSet> => {
        const tokens = restingTokens(next);
        if (tokens !== undefined) return { value: tokens };
        if (is.failed(next)) return failureOf(next, () => loginRequired());
        // A request or a renewal under way decides.
        if (is.signedIn(next) || is.busy(next) || !is.ready(next)) return undefined;
        return { error: loginRequired() };
      });
    })(),
  );
}

/** The grant's machine and façade, for `assembleGrantClient`: it logs in on demand (see `createCore`). */
export function clientCredentialsKit(): GrantKit {
  return { machine: clientCredentialsMachine, login: loginWithCredentials, loginOnDemand: true };
}
