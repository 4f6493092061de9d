/**
 * Assembles one grant's client: the shared core and the façade's kit (its
 * machine, its `login`, its `handleCallback`), plus `refresh()` and
 * `userinfo()` (`calls.ts`). Options are taken as
 * validated. Knows no grant by itself: `facade.ts` dispatches by `grant`,
 * the browser helper hands the authorization code kit directly, so a bundle
 * carries only the grants its entry names.
 */
import type { TokenSet } from '../protocol/types.js';
import { defaultServices } from '../services/defaultServices.js';
import { memoryStorage } from '../services/memoryStorage.js';
import type { Services, StorageService } from '../services/types.js';
import { webStorage, type WebStorageLike } from '../services/webStorage.js';
import { authorizedFetchOf } from './authorizedFetch.js';
import { fetchClientTokenInfo, fetchClientUserinfo, refreshNow } from './calls.js';
import { DEFAULT_STORAGE_KEY, machineClientConfig, type AnyClientConfig, type OAuthGrant } from './config.js';
import { createCore, unsupported, type Core, type CoreConfig, type GrantActor, type GrantMachine, type GrantSnapshot } from './core.js';
import type { OAuthClientOptions } from './options.js';
import type { CallbackTokens, LoginOptions, LoginResult, OAuthClient } from './types.js';

/** What one grant's façade adds to the core. */
export interface GrantKit {
  machine: GrantMachine;
  login(core: Core, options: LoginOptions): Promise<unknown>;
  /** The authorization code grant's only. */
  handleCallback?(core: Core, url: string): Promise<CallbackTokens>;
  /** Logs in when a token is asked for without a session, and always renews (see `createCore`). */
  loginOnDemand?: boolean;
}

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

/** The core over `kit`'s machine, for options already validated (the browser helper builds its own face on it). */
export function assembleCore(options: OAuthClientOptions, kit: GrantKit): Core {
  const grant = options.grant;
  const given = options.client as AnyClientConfig;
  const partial: Partial<Services> = { ...options.services };
  if (partial.storage === undefined) partial.storage = defaultClientStorage();
  const config: CoreConfig = {
    grant,
    machine: kit.machine,
    provider: options.provider,
    client: machineClientConfig(given),
    services: defaultServices(partial),
    options: { ...options.options },
  };
  if (given.resource !== undefined) config.resource = given.resource;
  if (options.inspect !== undefined) config.inspect = options.inspect;

  return createCore(config, kit.loginOnDemand === true);
}

/** The façade of `options.grant` over `kit`'s machine, for options already validated. */
export function assembleGrantClient<G extends OAuthGrant>(options: OAuthClientOptions<G>, kit: GrantKit): OAuthClient<G> {
  const grant: G = options.grant;
  const core = assembleCore(options as OAuthClientOptions, kit);
  const { handleCallback } = kit;

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
    login: (loginOptions: LoginOptions = {}) => kit.login(core, loginOptions) as Promise<LoginResult<G>>,
    handleCallback(url: string): Promise<CallbackTokens> {
      if (handleCallback === undefined) {
        return Promise.reject(unsupported(`handleCallback() belongs to the authorization_code grant, not ${grant}`));
      }
      return handleCallback(core, url);
    },
    getAccessToken: () => core.getAccessToken(),
    getTokens: () => core.getTokens(),
    refresh: (refreshOptions) => refreshNow(core, refreshOptions),
    userinfo: () => fetchClientUserinfo(core),
    authorizedFetch: authorizedFetchOf(core),
    tokenInfo: () => fetchClientTokenInfo(core),
    logout: (options) => core.logout(options),
    subscribe: (listener) => core.subscribe(listener as (snapshot: unknown) => void),
    stop: () => core.stop(),
  };
}
