/**
 * A client-credentials token cache for services that call APIs (RFC 6749
 * §4.4): one token per (scope set, resource) key, fetched once however many
 * callers ask at the same time, renewed before it expires, bounded in size.
 *
 * Each key is one `createOAuthClient({ grant: 'client_credentials' })`, that
 * is one `clientCredentialsMachine` actor (the server entry builds on the
 * client, see docs/architecture.md): single-flight, renewal at expiry minus skew, backoff on
 * transient failures and the persisted session all come from the shared
 * token lifecycle, and with a storage that has a cross-process `lock` (Redis)
 * the processes of a fleet share one token per key.
 */
import * as v from 'valibot';
import type { GrantOptions } from '../../machines/types.js';
import {
  ClientSchema,
  DEFAULT_CLIENT_CREDENTIALS_STORAGE_KEY,
  OptionsSchema,
  ProviderSchema,
  ServicesSchema,
  checkClientAuth,
  checkGrantOptions,
  configError,
  parseConfig,
  type AnyClientConfig,
  type ClientCredentialsClientConfig,
} from '../client/config.js';
import { assembleClient } from '../client/facade.js';
import type { OAuthClient } from '../client/index.js';
import { OAuthError } from '../errors.js';
import type { ProviderConfig, TokenSet } from '../protocol/types.js';
import { isResourceIndicator, isScopeToken } from '../protocol/validators.js';
import { memoryStorage } from '../services/memoryStorage.js';
import type { Services } from '../services/types.js';
import { nodeServices } from './services.js';

/** Options of {@link createClientCredentialsCache}: the one configuration shape, plus `maxEntries`. */
export interface ClientCredentialsCacheOptions {
  /** The authorization server (endpoints and quirks), e.g. a profile from `oauth-machines/providers`. */
  provider: ProviderConfig;
  /**
   * The confidential client (RFC 6749 §4.4): `clientId`, `clientSecret`,
   * `authMethod`, `userAgent`, and `scopes`, requested when a call names none.
   * The resource is named per call.
   */
  client: WithoutResource<ClientCredentialsClientConfig>;
  /**
   * Services (`fetch`, `clock`, `storage`, …). Default: {@link nodeServices}.
   * Without a `storage`, every key gets its own memory storage, dropped with
   * the key; with one (Redis storage and lock), the sessions are shared with
   * every process using the same storage and `options.storageKey`.
   */
  services?: Partial<Services>;
  /**
   * The machines' options. `storageKey` is the prefix of the sessions' storage
   * keys (the token endpoint, client id and cache key follow it; default
   * `'oauth-machines:client-credentials'`); `refreshSkewMs` (default 60 s),
   * `maxRefreshAttempts` (default 4), `retryBaseMs` (default 1 000 ms), … as for every client.
   */
  options?: GrantOptions;
  /** Cache only: most keys kept; the least recently used idle one is dropped beyond it. Default 100. */
  maxEntries?: number;
}

/** Which token: the key of the cache. */
export interface TokenRequest {
  /** Scopes; order and duplicates do not matter (`['b','a','a']` is `['a','b']`). Default: the cache's `scopes`. */
  scopes?: readonly string[];
  /** RFC 8707 resource indicator (an absolute URI): a different resource is a different token. */
  resource?: string;
}

/** A client without `resource` (named per call here), kept a union: a secret client or a `private_key_jwt` one. */
type WithoutResource<C> = C extends unknown ? Omit<C, 'resource'> : never;

/** A client-credentials token cache; see {@link createClientCredentialsCache}. */
export interface ClientCredentialsCache {
  /** A valid access token for the key, requesting one when none is held or it is about to expire. */
  getAccessToken(request?: TokenRequest): Promise<string>;
  /** Like {@link ClientCredentialsCache.getAccessToken}, with the whole TokenSet. */
  getTokens(request?: TokenRequest): Promise<TokenSet>;
  /**
   * Renews the token of one key now (of every key when neither `scopes` nor
   * `resource` is given), e.g. after an API answered 401; callers wait for
   * the new token. With `accessToken`, only when the held token is that one,
   * so many callers reporting the same rejected token cause one renewal.
   */
  invalidate(request?: TokenRequest & { accessToken?: string }): void;
  /**
   * Stops and drops every key (the process can exit: no timer is left).
   * Calls still waiting reject with `aborted`.
   */
  clear(): void;
  /** Number of keys held. */
  readonly size: number;
}

type Client = OAuthClient<'client_credentials'>;

interface Entry {
  client: Client;
  /** Set while a renewal asked for by `invalidate` runs: the old token is not handed out meanwhile. */
  invalidation?: Promise<void>;
  /**
   * While the key's token is being obtained, one answer shared by every
   * caller: one subscription to the actor instead of one per caller.
   */
  shared?: Promise<string>;
}

interface Target {
  scopes: string[];
  resource: string | undefined;
  key: string;
}

const DEFAULT_MAX_ENTRIES = 100;
const ENTRY = 'createClientCredentialsCache';

const CacheOptionsSchema = v.strictObject({
  provider: ProviderSchema,
  client: ClientSchema,
  services: v.optional(ServicesSchema),
  options: v.optional(OptionsSchema),
  maxEntries: v.optional(
    v.pipe(v.number(`maxEntries must be a positive integer`), v.integer('maxEntries must be a positive integer'), v.minValue(1, 'maxEntries must be a positive integer')),
  ),
});

/**
 * Creates a client-credentials token cache.
 *
 * - keyed by the normalised scope set (sorted, deduplicated) and the resource;
 * - single-flight: at most one token request per key at a time, whatever the
 *   number of callers;
 * - renewed at `expiresAt − refreshSkewMs` (the first call after it waits for
 *   the renewal; the machine's timer renews idle keys too); a transient
 *   renewal failure is retried with backoff while the old token, if not yet
 *   expired, keeps being served;
 * - a failure rejects every waiting caller with the same `OAuthError` and is
 *   not cached: the next call tries again;
 * - at most `maxEntries` keys; the least recently used key without a request
 *   under way is stopped and dropped first.
 *
 * @example
 * ```ts
 * const tokens = createClientCredentialsCache({
 *   provider: { tokenEndpoint: 'https://id.example/token' },
 *   client: { clientId: 'svc', clientSecret: process.env.CLIENT_SECRET! },
 * });
 * const accessToken = await tokens.getAccessToken({ scopes: ['service:read'] });
 * ```
 */
export function createClientCredentialsCache(options: ClientCredentialsCacheOptions): ClientCredentialsCache {
  parseConfig(ENTRY, CacheOptionsSchema, options);
  const { provider, client } = options;
  checkClientAuth(ENTRY, client as AnyClientConfig, 'client.clientSecret (or a private_key_jwt privateKey) is required (RFC 6749 §4.4: confidential clients only)');
  if ((client as { resource?: unknown }).resource !== undefined) configError(ENTRY, 'name the resource per call (getAccessToken({ resource })), not as client.resource');
  if (typeof provider.tokenEndpoint !== 'string') configError(ENTRY, 'provider.tokenEndpoint is required');
  checkGrantOptions(ENTRY, options.options);
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const defaultScopes = normaliseScopes(client.scopes ?? []);
  const services = nodeServices(options.services);
  const sharedStorage = options.services?.storage !== undefined;
  const { storageKey: storagePrefix = DEFAULT_CLIENT_CREDENTIALS_STORAGE_KEY, ...machineOptions } = options.options ?? {};
  // Map keeps insertion order: re-inserting on use makes the first key the least recently used.
  const entries = new Map<string, Entry>();
  let trimQueued = false;

  function createClient(target: Target): Client {
    const keyServices: Services = { ...services, storage: sharedStorage ? services.storage : memoryStorage() };
    // Validated once, at the cache's entry: each key's client is assembled without checking again.
    const keyClient = assembleClient({
      grant: 'client_credentials',
      provider,
      client: {
        ...client,
        ...(target.scopes.length > 0 ? { scopes: target.scopes } : {}),
        // RFC 8707 §2.2: the resource goes into every token request of the key, renewals included.
        ...(target.resource !== undefined ? { resource: target.resource } : {}),
      } as ClientCredentialsClientConfig,
      services: keyServices,
      options: {
        ...machineOptions,
        // Per provider, client and key, so caches sharing one storage never read each other's tokens by mistake.
        storageKey: `${storagePrefix}:${encodeURIComponent(provider.tokenEndpoint)}:${encodeURIComponent(client.clientId)}:${encodeURIComponent(target.key)}`,
      },
    });
    // When a key stops being busy the cache may have run over its bound meanwhile.
    keyClient.subscribe((snapshot) => {
      if (!snapshot.hasTag('busy') && entries.size > maxEntries) queueTrim();
    });
    return keyClient;
  }

  /** Resting with a token or a failure: no request or renewal under way, so no caller is waiting on the machine. */
  function isSettled(client: Client): boolean {
    const snapshot = client.getSnapshot();
    if (snapshot === undefined) return false;
    return !snapshot.hasTag('busy') && !snapshot.hasTag('renewing') && (snapshot.hasTag('signedIn') || snapshot.hasTag('error'));
  }

  /**
   * Stops a dropped key's client once nobody can be using it: it is out of
   * the map, so no new caller arrives, but a caller may be between its call
   * and the event it is about to send (a microtask away). A macrotask later,
   * with the machine still settled, there is none.
   */
  function retire(client: Client): void {
    const check = (): void => {
      if (isSettled(client)) {
        client.stop();
        return;
      }
      const unsubscribe = client.subscribe(() => {
        if (!isSettled(client)) return;
        unsubscribe();
        setTimeout(check, 0);
      });
    };
    setTimeout(check, 0);
  }

  /**
   * Drops the least recently used keys beyond `maxEntries` whose machine is
   * settled; a key mid-request stays, so its callers and the callers still
   * to come share that one request (the cache may briefly hold more).
   */
  function trim(keep?: string): void {
    const excess = entries.size - maxEntries;
    if (excess <= 0) return;
    const victims: [string, Entry][] = [];
    for (const [key, entry] of entries) {
      if (victims.length === excess) break;
      if (key !== keep && isSettled(entry.client)) victims.push([key, entry]);
    }
    for (const [key, entry] of victims) {
      entries.delete(key);
      retire(entry.client);
    }
  }

  function queueTrim(): void {
    if (trimQueued) return;
    trimQueued = true;
    // After the snapshot's own waiters have been answered, so a settling key is never stopped under them.
    queueMicrotask(() => {
      trimQueued = false;
      trim();
    });
  }

  function entryFor(target: Target): Entry {
    const existing = entries.get(target.key);
    if (existing) {
      entries.delete(target.key);
      entries.set(target.key, existing);
      return existing;
    }
    const entry: Entry = { client: createClient(target) };
    entries.set(target.key, entry);
    trim(target.key);
    return entry;
  }

  /**
   * Renews the key's token now (only while it is still `accessToken`, when
   * given) and holds its callers until the renewal is over; the client sends
   * the REFRESH before `refresh()` returns.
   */
  function renewNow(entry: Entry, accessToken: string | undefined): void {
    const invalidation = entry.client.refresh(accessToken === undefined ? {} : { accessToken }).then(
      () => undefined,
      () => undefined, // the callers that follow get the failure from getAccessToken
    );
    entry.invalidation = invalidation;
    void invalidation.then(() => {
      if (entry.invalidation === invalidation) delete entry.invalidation;
    });
  }

  /**
   * The key's token: the client answers a fresh one from its snapshot (the
   * session module's freshness rule); while it has to obtain one, every caller
   * shares one answer, one wait on the actor instead of one per caller.
   */
  function accessTokenOf(entry: Entry): Promise<string> {
    if (entry.invalidation) return entry.invalidation.then(() => entry.client.getAccessToken());
    if (entry.shared) return entry.shared;
    const shared = entry.client.getAccessToken();
    entry.shared = shared;
    const release = (): void => {
      if (entry.shared === shared) delete entry.shared;
    };
    shared.then(release, release);
    return shared;
  }

  const defaultTarget: Target = { scopes: defaultScopes, resource: undefined, key: cacheKey(defaultScopes, undefined) };

  function target(request: TokenRequest | undefined): Target {
    if (request === undefined || (request.scopes === undefined && request.resource === undefined)) return defaultTarget;
    const scopes = request.scopes === undefined ? defaultScopes : normaliseScopes(request.scopes);
    const resource = checkResource(request.resource);
    return { scopes, resource, key: cacheKey(scopes, resource) };
  }

  function getAccessToken(request?: TokenRequest): Promise<string> {
    let entry: Entry;
    try {
      entry = entryFor(target(request));
    } catch (error) {
      return Promise.reject(error);
    }
    return accessTokenOf(entry);
  }

  return {
    getAccessToken,
    async getTokens(request?: TokenRequest): Promise<TokenSet> {
      const entry = entryFor(target(request));
      await accessTokenOf(entry);
      // A renewal may land in between: whichever signed-in TokenSet is held then is valid too.
      const tokens = await entry.client.getTokens();
      if (tokens !== undefined) return tokens;
      throw new OAuthError('login_required', { description: 'The session ended before its tokens could be read', retryable: false });
    },
    invalidate(request?: TokenRequest & { accessToken?: string }): void {
      const scoped = request !== undefined && (request.scopes !== undefined || request.resource !== undefined);
      const targets = scoped ? [entries.get(target(request).key)] : [...entries.values()];
      for (const entry of targets) {
        if (entry === undefined) continue;
        const snapshot = entry.client.getSnapshot();
        // Only a key at rest with its token: a renewal under way already replaces it.
        if (snapshot === undefined || !snapshot.hasTag('signedIn') || snapshot.hasTag('renewing')) continue;
        renewNow(entry, request?.accessToken);
      }
    },
    clear(): void {
      const dropped = [...entries.values()];
      entries.clear();
      for (const entry of dropped) entry.client.stop();
    },
    get size(): number {
      return entries.size;
    },
  };
}

function normaliseScopes(scopes: readonly string[]): string[] {
  for (const scope of scopes) {
    if (!isScopeToken(scope)) configError(ENTRY, `${JSON.stringify(scope)} is not a scope token (RFC 6749 §3.3)`);
  }
  return [...new Set(scopes)].sort();
}

function checkResource(resource: string | undefined): string | undefined {
  if (resource === undefined || isResourceIndicator(resource)) return resource;
  return configError(ENTRY, `resource ${JSON.stringify(resource)} is not an absolute URI without fragment (RFC 8707 §2)`);
}

function cacheKey(scopes: readonly string[], resource: string | undefined): string {
  // Scope tokens have no spaces (RFC 6749 §3.3), so joining is unambiguous; the resource follows a separator no scope has.
  return `${scopes.join(' ')}\n${resource ?? ''}`;
}
