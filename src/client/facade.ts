/**
 * Assembles a client: the shared core and the grant's façade (a dispatcher
 * by `grant`). Options are taken as validated.
 */
import type { TokenSet } from '../protocol/types.js';
import { defaultServices } from '../services/defaultServices.js';
import { memoryStorage } from '../services/memoryStorage.js';
import type { Services, StorageService } from '../services/types.js';
import { webStorage, type WebStorageLike } from '../services/webStorage.js';
import { handleCallback, loginWithRedirect } from './authorizationCode.js';
import { loginWithCredentials } from './clientCredentials.js';
import { DEFAULT_STORAGE_KEY, machineClientConfig, type AnyClientConfig, type OAuthGrant } from './config.js';
import { createCore, unsupported, type CoreConfig, type GrantActor, type GrantSnapshot } from './core.js';
import { loginWithDevice } from './deviceCode.js';
import type { OAuthClientOptions } from './options.js';
import type { LoginOptions, LoginResult, OAuthClient } from './types.js';

/** `sessionStorage` when the runtime has one that works (a browser), else `undefined` (Node, a sandboxed iframe). */
function usableSessionStorage(): WebStorageLike | undefined {
  try {
    const candidate = (globalThis as { sessionStorage?: WebStorageLike }).sessionStorage;
    if (candidate === undefined || candidate === null) return undefined;
    const probe = `${DEFAULT_STORAGE_KEY}:probe`;
    candidate.setItem(probe, '1');
    candidate.removeItem(probe);
    return candidate;
  } catch {
    return undefined;
  }
}

/**
 * The storage of a client given none: `sessionStorage` in a browser, so a
 * redirect login survives the page it leaves; memory elsewhere.
 */
export function defaultClientStorage(): StorageService {
  const session = usableSessionStorage();
  return session === undefined ? memoryStorage() : webStorage(session);
}

/**
 * The façade of `options.grant` over its machine, for options already
 * validated: `createOAuthClient` checks them first; the browser helper and the
 * token cache, which validate their own input at their entry, call this
 * directly so that each input is validated once.
 */
export function assembleClient<G extends OAuthGrant>(options: OAuthClientOptions<G>): OAuthClient<G> {
  const grant: G = options.grant;
  const given = options.client as AnyClientConfig;
  const partial: Partial<Services> = { ...options.services };
  if (partial.storage === undefined) partial.storage = defaultClientStorage();
  const config: CoreConfig = {
    grant,
    provider: options.provider,
    client: machineClientConfig(given),
    services: defaultServices(partial),
    options: { ...options.options },
  };
  if (given.resource !== undefined) config.resource = given.resource;
  if (options.inspect !== undefined) config.inspect = options.inspect;

  const core = createCore(config, grant === 'client_credentials');

  const login = (loginOptions: LoginOptions = {}): Promise<unknown> => {
    switch (grant) {
      case 'authorization_code':
        return loginWithRedirect(core, loginOptions);
      case 'client_credentials':
        return loginWithCredentials(core, loginOptions);
      default:
        return loginWithDevice(core, loginOptions);
    }
  };

  return {
    grant,
    ready: core.ready,
    get actor() {
      return core.actor as unknown as GrantActor<G>;
    },
    get provider() {
      return core.provider;
    },
    getSnapshot: () => core.snapshot() as GrantSnapshot<G> | undefined,
    login: (loginOptions?: LoginOptions) => login(loginOptions) as Promise<LoginResult<G>>,
    handleCallback(url: string): Promise<TokenSet> {
      if (grant !== 'authorization_code') {
        return Promise.reject(unsupported(`handleCallback() belongs to the authorization_code grant, not ${grant}`));
      }
      return handleCallback(core, url);
    },
    getAccessToken: () => core.getAccessToken(),
    getTokens: () => core.getTokens(),
    refresh: (refreshOptions) => core.refresh(refreshOptions),
    userinfo: () => core.userinfo(),
    logout: () => core.logout(),
    subscribe: (listener) => core.subscribe(listener as (snapshot: unknown) => void),
    stop: () => core.stop(),
  };
}
