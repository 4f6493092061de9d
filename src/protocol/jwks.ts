/**
 * The provider's signing keys (RFC 7517 JWK Set at `jwks_uri`, OIDC
 * Discovery §3), fetched through the services and cached per issuer.
 *
 * A key set is read once and kept; an ID token naming a key the set does not
 * have (a key rotation) makes the cache read it again once, and such a
 * re-read happens at most once per `JWKS_REFETCH_INTERVAL_MS`, so a stream of
 * tokens with made-up `kid`s cannot make the client hammer the server. A set
 * older than `JWKS_MAX_AGE_MS` is read again before it is used, so a key the
 * provider withdrew stops being trusted.
 */
import type { FetchLike, TimeSource } from '../services/types.js';
import { OAuthError } from '../errors.js';
import { isSecureUrl } from './endpoints.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import { sendRequest } from './providerRequest.js';
import type { ProviderConfig } from './types.js';
import { isRecord } from './validators.js';

/** A JWK Set as the provider serves it: an object whose `keys` is an array of JWK objects (RFC 7517 §5). */
export interface JsonWebKeySet {
  keys: Array<Record<string, unknown>>;
}

/** At most one unknown-`kid` re-read of a key set per this many ms. */
export const JWKS_REFETCH_INTERVAL_MS = 30_000;
/** A cached key set older than this is read again before use. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

interface CachedKeySet {
  jwks: JsonWebKeySet;
  fetchedAt: number;
  /** When the last re-read for an unknown key was sent; none yet: `-Infinity`. */
  refetchedAt: number;
}

/**
 * The cache: per transport (the services' `fetch`, so two clients that do not
 * share a transport share nothing, a test's fake server included), then per
 * issuer and `jwks_uri`.
 */
const cache = new WeakMap<FetchLike, Map<string, CachedKeySet>>();

/** What reading a provider's keys needs. */
export interface JwksContext {
  provider: ProviderConfig;
  services: { fetch: FetchLike; clock: TimeSource };
  signal?: AbortSignal | undefined;
}

function cacheKey(provider: ProviderConfig, jwksUri: string): string {
  return `${provider.issuer ?? ''} ${jwksUri}`;
}

/** Reads the key set at `provider.jwksUri` (no redirect followed; `https:` only, `http:` on loopback or by opt-in). */
export async function fetchJwks(context: JwksContext): Promise<JsonWebKeySet> {
  const jwksUri = context.provider.jwksUri;
  if (jwksUri === undefined) throw new TypeError('provider.jwksUri is not set');
  if (!URL.canParse(jwksUri) || !isSecureUrl(new URL(jwksUri), context.provider.allowInsecureRequests === true)) {
    throw new OAuthError('insecure_endpoint', {
      description: 'provider.jwksUri is not an https URL (http only on loopback or with allowInsecureRequests)',
      retryable: false,
    });
  }
  const response = await sendRequest(
    context.services.fetch,
    { url: jwksUri, init: { method: 'GET', headers: { Accept: 'application/jwk-set+json, application/json' }, redirect: 'manual' } },
    context.signal,
  );
  if (!response.ok) throw await readErrorResponse(response, context.services.clock);
  const body = await readJsonBody(response);
  if (!isRecord(body) || !Array.isArray(body.keys) || !body.keys.every(isRecord)) {
    throw new OAuthError('invalid_response', {
      description: 'the provider\'s jwks_uri did not answer a JWK Set (RFC 7517 §5)',
      status: response.status,
      cause: body,
    });
  }
  return { keys: body.keys as Array<Record<string, unknown>> };
}

/**
 * The provider's key set: the cached one when it is fresh, else read now.
 * With `unknownKey`, the caller did not find its key in the set it was given:
 * the set is read again if no such re-read happened in the last
 * `JWKS_REFETCH_INTERVAL_MS`, and `undefined` is returned otherwise (nothing new to try).
 */
export async function providerJwks(context: JwksContext, unknownKey = false): Promise<JsonWebKeySet | undefined> {
  const jwksUri = context.provider.jwksUri;
  if (jwksUri === undefined) throw new TypeError('provider.jwksUri is not set');
  let perTransport = cache.get(context.services.fetch);
  if (perTransport === undefined) {
    perTransport = new Map();
    cache.set(context.services.fetch, perTransport);
  }
  const key = cacheKey(context.provider, jwksUri);
  const now = context.services.clock.now();
  const cached = perTransport.get(key);
  if (cached !== undefined && !unknownKey && now - cached.fetchedAt < JWKS_MAX_AGE_MS && now >= cached.fetchedAt) return cached.jwks;
  if (cached !== undefined && unknownKey && now - cached.refetchedAt < JWKS_REFETCH_INTERVAL_MS) return undefined;
  const jwks = await fetchJwks(context);
  perTransport.set(key, { jwks, fetchedAt: now, refetchedAt: unknownKey ? now : (cached?.refetchedAt ?? -Infinity) });
  return jwks;
}
