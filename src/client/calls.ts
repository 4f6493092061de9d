/**
 * `refresh()`, `userinfo()` and `tokenInfo()` over the shared core: the generic client
 * offers them, the browser helper does not, so they live apart from the core
 * and a browser bundle carries neither (nor the userinfo request).
 */
import { fetchTokenInfo, fetchUserinfo } from '../protocol/operations.js';
import type { TokenInfo } from '../protocol/tokenInfo.js';
import { OAuthError } from '../errors.js';
import { assertRefreshParams } from '../protocol/tokenRequest.js';
import type { TokenSet } from '../protocol/types.js';
import type { RefreshOptions } from './types.js';
import { failureOf, is, loginRequired, restingTokens, unsupported, view, type Core, type DrivenActor } from './core.js';
import type { Verdict } from './snapshot.js';

/** Renews now (see `OAuthClient.refresh`). */
export function refreshNow(core: Core, options: RefreshOptions = {}): Promise<TokenSet | undefined> {
  const { tokenParams } = options;
  if (tokenParams !== undefined) {
    try {
      assertRefreshParams(tokenParams);
    } catch (thrown) {
      return Promise.reject(thrown instanceof TypeError ? new OAuthError('configuration_error', { description: thrown.message, retryable: false }) : thrown);
    }
  }
  const run = (current: DrivenActor): Promise<TokenSet | undefined> => {
    const held = restingTokens(current.getSnapshot());
    if (held !== undefined && (options.accessToken === undefined || options.accessToken === held.accessToken)) {
      current.send(tokenParams === undefined ? { type: 'REFRESH' } : { type: 'REFRESH', tokenParams });
    }
    return core.until(current, (snapshot): Verdict<TokenSet | undefined> => {
      if (is.renewing(snapshot) || is.busy(snapshot)) return undefined;
      if (is.signedIn(snapshot)) return { value: view(snapshot).tokens };
      if (is.failed(snapshot)) return failureOf(snapshot, () => loginRequired());
      return { value: undefined };
    });
  };
  // Sent at once when the client is ready, so callers that look right after see the renewal under way.
  const ready = core.readyActor();
  if (ready !== undefined) return core.unlessStopped(run(ready));
  return core.unlessStopped(core.whenReady().then(run));
}

/** The userinfo endpoint's claims for the current access token (see `OAuthClient.userinfo`). */
export function fetchClientUserinfo(core: Core): Promise<Record<string, unknown>> {
  return core.unlessStopped(
    (async () => {
      await core.whenReady();
      const provider = core.provider;
      // Checked first, so a provider without the endpoint never costs a refresh.
      if (provider.userinfoEndpoint === undefined) throw unsupported('The provider has no userinfo endpoint');
      const accessToken = await core.getAccessToken();
      return fetchUserinfo({ provider, client: core.client, services: core.services, accessToken });
    })(),
  );
}

/** The provider's token-info endpoint about the current access token (see `OAuthClient.tokenInfo`). */
export function fetchClientTokenInfo(core: Core): Promise<TokenInfo> {
  return core.unlessStopped(
    (async () => {
      await core.whenReady();
      const provider = core.provider;
      // Checked first, so a provider without the endpoint never costs a refresh.
      if (provider.tokenInfoEndpoint === undefined) throw unsupported('The provider has no token-info endpoint (provider.tokenInfoEndpoint)');
      const accessToken = await core.getAccessToken();
      return fetchTokenInfo({ provider, client: core.client, services: core.services, accessToken });
    })(),
  );
}
