/**
 * A client-credentials token cache for services that call APIs (RFC 6749
 * §4.4): one token per (scope set, resource) key, fetched once however many
 * callers ask at the same time, renewed shortly before it expires, bounded in
 * size.
 */
import { OAuthError } from '../protocol/errors.js';
import { requestClientCredentials } from '../protocol/operations.js';
import type { ClientAuthMethod, ProviderConfig, TokenSet } from '../protocol/types.js';
import type { Services } from '../services/types.js';
import { nodeServices } from './services.js';

/** Options of {@link createClientCredentialsCache}. */
export interface ClientCredentialsCacheOptions {
  /** The authorization server (endpoints and quirks), e.g. a profile from `oauth-machines/providers`. */
  provider: ProviderConfig;
  clientId: string;
  clientSecret?: string;
  authMethod?: ClientAuthMethod;
  /** `User-Agent` sent to the provider (seed 000 requires one of a given form). */
  userAgent?: string;
  /** Scopes requested when a call names none. */
  scopes?: readonly string[];
  /** Services (`fetch`, `clock`, …). Default: {@link nodeServices}. */
  services?: Partial<Services>;
  /**
   * How long before `expiresAt` a token counts as stale and is renewed.
   * Default 60 s, never more than half of the token's lifetime (so a token
   * living 30 s is not renewed on every call).
   */
  refreshSkewMs?: number;
  /** Most keys kept; the least recently used is dropped beyond it. Default 100. */
  maxEntries?: number;
}

/** Which token: the key of the cache. */
export interface TokenRequest {
  /** Scopes; order and duplicates do not matter (`['b','a','a']` is `['a','b']`). Default: the cache's `scopes`. */
  scopes?: readonly string[];
  /** RFC 8707 resource indicator (an absolute URI): a different resource is a different token. */
  resource?: string;
}

/** A client-credentials token cache; see {@link createClientCredentialsCache}. */
export interface ClientCredentialsCache {
  /** A valid access token for the key, requesting one when none is cached or it is about to expire. */
  getAccessToken(request?: TokenRequest): Promise<string>;
  /** Like {@link ClientCredentialsCache.getAccessToken}, with the whole TokenSet. */
  getTokens(request?: TokenRequest): Promise<TokenSet>;
  /**
   * Forgets the cached token of one key (of every key when neither `scopes`
   * nor `resource` is given), e.g.
   * after an API answered 401. With `accessToken`, only when the cached token
   * is that one, so many callers reporting the same rejected token cause one
   * renewal, not one each. A request already under way is kept.
   */
  invalidate(request?: TokenRequest & { accessToken?: string }): void;
  /** Drops every entry; requests under way still answer their callers but are not stored. */
  clear(): void;
  /** Number of keys held. */
  readonly size: number;
}

interface Entry {
  tokens?: TokenSet;
  /** `clock.now()` when the tokens arrived, for the skew cap. */
  obtainedAt: number;
  /** Resolved promises handed out on the hot path, so a cache hit allocates nothing. */
  tokensPromise?: Promise<TokenSet>;
  accessTokenPromise?: Promise<string>;
  inflight?: Promise<TokenSet>;
  /** After a transient renewal failure, the stale-but-valid token is served until then. */
  retryAt?: number;
}

interface Target {
  scopes: string[];
  resource: string | undefined;
  key: string;
}

const DEFAULT_SKEW_MS = 60_000;
const DEFAULT_MAX_ENTRIES = 100;
/** Pause between renewal attempts while a still-valid token is served, so a failing server is not hammered. */
const RETRY_DELAY_MS = 1_000;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Creates a client-credentials token cache.
 *
 * - keyed by the normalised scope set (sorted, deduplicated) and the resource;
 * - single-flight: at most one token request per key at a time, whatever the
 *   number of callers;
 * - a token is renewed on the first call after `expiresAt − refreshSkewMs`
 *   (no timers: an idle process makes no requests); if that renewal fails
 *   with a retryable error while the old token has not yet expired, the old
 *   token is served (and renewal is tried again a second later, on demand);
 * - a failure rejects every waiting caller with the same `OAuthError` and is
 *   not cached: the next call tries again;
 * - at most `maxEntries` keys, least recently used dropped first.
 *
 * @example
 * ```ts
 * const tokens = createClientCredentialsCache({
 *   provider: { tokenEndpoint: 'https://id.example/token' },
 *   clientId: 'svc', clientSecret: process.env.CLIENT_SECRET!,
 * });
 * const accessToken = await tokens.getAccessToken({ scopes: ['service:read'] });
 * ```
 */
export function createClientCredentialsCache(options: ClientCredentialsCacheOptions): ClientCredentialsCache {
  if (options.clientId === '') throw new TypeError('createClientCredentialsCache: clientId is empty');
  const skewMs = options.refreshSkewMs ?? DEFAULT_SKEW_MS;
  if (!(skewMs >= 0)) throw new TypeError('createClientCredentialsCache: refreshSkewMs must be >= 0');
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('createClientCredentialsCache: maxEntries must be a positive integer');
  }
  const defaultScopes = normaliseScopes(options.scopes ?? []);
  const services = nodeServices(options.services);
  const clock = services.clock;
  const client = {
    clientId: options.clientId,
    ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}),
    ...(options.authMethod ? { authMethod: options.authMethod } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  };
  // Map keeps insertion order: re-inserting on use makes the first key the least recently used.
  const entries = new Map<string, Entry>();

  function isFresh(entry: Entry, now: number): boolean {
    const tokens = entry.tokens;
    if (!tokens) return false;
    if (tokens.expiresAt === undefined) return true;
    const skew = Math.min(skewMs, (tokens.expiresAt - entry.obtainedAt) / 2);
    return now < tokens.expiresAt - skew;
  }

  /** Still inside the pause after a failed renewal, with the old token not yet expired. */
  function backingOff(entry: Entry, now: number): boolean {
    const expiresAt = entry.tokens?.expiresAt;
    return entry.retryAt !== undefined && now < entry.retryAt && (expiresAt === undefined || now < expiresAt);
  }

  function lookup(key: string): Entry {
    let entry = entries.get(key);
    if (entry) {
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    }
    entry = { obtainedAt: 0 };
    entries.set(key, entry);
    trim(key);
    return entry;
  }

  /**
   * Drops the least recently used entries beyond `maxEntries` that have no request under way:
   * evicting one in flight would let a second request for its key start
   * beside it. While entries are in flight the cache may run over its bound;
   * it is trimmed again as they settle.
   */
  function trim(keep?: string): void {
    const excess = entries.size - maxEntries;
    if (excess <= 0) return;
    const victims: string[] = [];
    for (const [key, entry] of entries) {
      if (victims.length === excess) break;
      if (!entry.inflight && key !== keep) victims.push(key);
    }
    for (const key of victims) entries.delete(key);
  }

  function renew(key: string, entry: Entry, scopes: string[], resource: string | undefined): Promise<TokenSet> {
    const request = requestClientCredentials({
      provider: options.provider,
      client,
      services,
      ...(scopes.length > 0 ? { scopes } : {}),
      ...(resource !== undefined ? { resource } : {}),
    });
    const inflight = request.then(
      (tokens) => {
        delete entry.inflight;
        delete entry.retryAt;
        entry.tokens = tokens;
        entry.obtainedAt = clock.now();
        entry.tokensPromise = Promise.resolve(tokens);
        entry.accessTokenPromise = Promise.resolve(tokens.accessToken);
        trim();
        return tokens;
      },
      (thrown: unknown) => {
        delete entry.inflight;
        // A TypeError is a configuration mistake found before sending (architecture.md: builders throw it); it stays one.
        const error = thrown instanceof TypeError ? thrown : OAuthError.from(thrown);
        const previous = entry.tokens;
        // DESIGN.md: a transient failure keeps serving a still-valid access token.
        const now = clock.now();
        if (error instanceof OAuthError && error.retryable && previous && (previous.expiresAt === undefined || now < previous.expiresAt)) {
          entry.retryAt = now + RETRY_DELAY_MS;
          trim();
          return previous;
        }
        // Not cached: an entry without tokens leaves the LRU so the next call starts afresh.
        if (!entry.tokens && entries.get(key) === entry) entries.delete(key);
        trim();
        throw error;
      },
    );
    entry.inflight = inflight;
    return inflight;
  }

  const defaultTarget: Target = { scopes: defaultScopes, resource: undefined, key: cacheKey(defaultScopes, undefined) };

  function target(request: TokenRequest | undefined): Target {
    if (request === undefined || (request.scopes === undefined && request.resource === undefined)) return defaultTarget;
    const scopes = request.scopes === undefined ? defaultScopes : normaliseScopes(request.scopes);
    const resource = checkResource(request.resource);
    return { scopes, resource, key: cacheKey(scopes, resource) };
  }

  function getTokens(request?: TokenRequest): Promise<TokenSet> {
    let resolved: Target;
    try {
      resolved = target(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const { key, scopes, resource } = resolved;
    const entry = lookup(key);
    if (entry.tokensPromise && (isFresh(entry, clock.now()) || backingOff(entry, clock.now()))) return entry.tokensPromise;
    return entry.inflight ?? renew(key, entry, scopes, resource);
  }

  return {
    getTokens,
    getAccessToken(request?: TokenRequest): Promise<string> {
      let key: string;
      try {
        key = target(request).key;
      } catch (error) {
        return Promise.reject(error);
      }
      const entry = entries.get(key);
      // Hot path: a fresh token costs one map lookup, one clock read and the LRU touch.
      if (entry?.accessTokenPromise && isFresh(entry, clock.now())) {
        entries.delete(key);
        entries.set(key, entry);
        return entry.accessTokenPromise;
      }
      return getTokens(request).then((tokens) => tokens.accessToken);
    },
    invalidate(request?: TokenRequest & { accessToken?: string }): void {
      const scoped = request !== undefined && (request.scopes !== undefined || request.resource !== undefined);
      const targets = scoped ? [entries.get(target(request).key)] : [...entries.values()];
      for (const entry of targets) {
        if (!entry?.tokens) continue;
        if (request?.accessToken !== undefined && entry.tokens.accessToken !== request.accessToken) continue;
        delete entry.tokens;
        delete entry.tokensPromise;
        delete entry.accessTokenPromise;
      }
    },
    clear(): void {
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}

function normaliseScopes(scopes: readonly string[]): string[] {
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(`createClientCredentialsCache: ${JSON.stringify(scope)} is not a scope token (RFC 6749 §3.3)`);
    }
  }
  return [...new Set(scopes)].sort();
}

function checkResource(resource: string | undefined): string | undefined {
  if (resource === undefined) return undefined;
  // RFC 8707 §2: an absolute URI without a fragment.
  if (!URL.canParse(resource) || resource.includes('#')) {
    throw new TypeError(`createClientCredentialsCache: resource ${JSON.stringify(resource)} is not an absolute URI without fragment (RFC 8707 §2)`);
  }
  return resource;
}

function cacheKey(scopes: readonly string[], resource: string | undefined): string {
  // Scope tokens have no spaces (RFC 6749 §3.3), so joining is unambiguous; the resource follows a separator no scope has.
  return `${scopes.join(' ')}\n${resource ?? ''}`;
}
