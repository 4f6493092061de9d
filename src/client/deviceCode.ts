/**
 * The device authorization grant's façade (RFC 8628): `login()` resolves with
 * what to show the user and a promise of the tokens.
 */
import { deviceCodeMachine } from '../../machines/deviceCode.js';
import type { TokenSet } from '../protocol/types.js';
import { cancelled, failureOf, is, loginRequired, noop, unsupported, view, type ContextView, type Core, type DrivenActor } from './core.js';
import type { GrantKit } from './assemble.js';
import type { Verdict } from './snapshot.js';
import { loginEvent } from './login.js';
import type { DeviceLogin, LoginOptions } from './types.js';

type DeviceContext = NonNullable<ContextView['device']>;

function deviceTokens(core: Core, current: DrivenActor): Promise<TokenSet> {
  const tokens = core.until(current, (snapshot): Verdict<TokenSet> => {
    if (is.signedIn(snapshot)) {
      const set = view(snapshot).tokens;
      return set ? { value: set } : undefined;
    }
    if (is.failed(snapshot)) return failureOf(snapshot, () => loginRequired());
    if (is.idle(snapshot)) return { error: cancelled('device authorization') };
    return undefined;
  });
  // The caller may never look at `tokens`: handled for nobody, still rejecting for whoever awaits it.
  tokens.catch(noop);
  return tokens;
}

/** `login()`: requests a device code (or takes the one being shown) and resolves with it. */
export function loginWithDevice(core: Core, options: LoginOptions): Promise<DeviceLogin> {
  return core.unlessStopped(
    (async () => {
      const event = loginEvent(options, ['scopes']);
      const current = await core.whenReady();
      const snapshot = current.getSnapshot();
      // A device code being requested or shown is joined, not requested again.
      if (!is.awaitingUser(snapshot) && !core.sendAccepted(current, event) && !(is.busy(snapshot) && !is.signedIn(snapshot))) {
        throw unsupported('login() is not possible now (a session is held); call logout() first');
      }
      const device = await core.until(current, (next): Verdict<DeviceContext> => {
        if (is.awaitingUser(next)) {
          const info = view(next).device;
          return info ? { value: info } : undefined;
        }
        if (is.failed(next)) return failureOf(next, () => loginRequired());
        if (is.busy(next)) return undefined;
        return { error: cancelled('device authorization') };
      });
      const login: DeviceLogin = {
        userCode: device.userCode,
        verificationUri: device.verificationUri,
        expiresAt: device.expiresAt,
        interval: device.interval,
        tokens: deviceTokens(core, current),
      };
      if (device.verificationUriComplete !== undefined) login.verificationUriComplete = device.verificationUriComplete;
      return login;
    })(),
  );
}

/** The grant's machine and façade, for `assembleGrantClient`. */
export function deviceCodeKit(): GrantKit {
  return { machine: deviceCodeMachine, login: loginWithDevice };
}
