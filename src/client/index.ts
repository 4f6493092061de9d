/**
 * `createOAuthClient`: the promise façade over one grant machine's actor, for
 * code that does not want to speak events. A thin dispatcher by `grant` onto
 * one small façade per grant (`authorizationCode.ts`, `clientCredentials.ts`,
 * `deviceCode.ts`) over a shared core (`core.ts`) that sends events and waits
 * on the machines' tags and context; all behaviour — PKCE, state, restore,
 * refresh, revocation — stays in the machine.
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
import { validateClientOptions, type OAuthClientOptions } from './options.js';
import type { LoginOptions, LoginResult, OAuthClient } from './types.js';

export type { OAuthClientOptions } from './options.js';
export type {
  AuthorizationCodeClientConfig,
  ClientConfigFor,
  ClientCredentialsClientConfig,
  ConfidentialClientCredentials,
  DeviceCodeClientConfig,
  OAuthGrant,
  ProviderOption,
  PublicClientCredentials,
} from './config.js';
export type { GrantActor, GrantSnapshot, InspectOption } from './core.js';
export type { DeviceLogin, LoginOptions, LoginResult, OAuthClient, RefreshOptions } from './types.js';

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
 * Creates the promise façade over one grant machine (see {@link OAuthClient}).
 * Options are checked at once (a `TypeError` names the problem); discovery
 * and restore start at once and `ready` tells when they are done.
 *
 * @example
 * const client = createOAuthClient({
 *   grant: 'authorization_code',
 *   provider: { issuer: 'https://id.example' },
 *   client: { clientId: 'app', redirectUri: 'https://app.example/callback', scopes: ['openid', 'offline_access'] },
 * });
 * await client.login();                                   // navigates
 * const tokens = await client.handleCallback(location.href); // on the callback page
 */
export function createOAuthClient<G extends OAuthGrant>(options: OAuthClientOptions<G>): OAuthClient<G> {
  validateClientOptions(options as OAuthClientOptions);
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
