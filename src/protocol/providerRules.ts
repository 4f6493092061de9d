/**
 * What a provider's profile forbids, checked before anything is sent or any
 * page is left: the server would refuse it after a round trip (or after the
 * user consented), so the library refuses it first, with a code of its own
 * (`configuration_error`) that no server sends.
 */
import { OAuthError } from '../errors.js';
import type { ClientConfig, PkceMethod, ProviderConfig } from './types.js';

/** The error of a request the library refused itself: not the server's answer, so no status, never retried. */
export function configurationError(description: string, cause?: unknown): OAuthError {
  return new OAuthError('configuration_error', { description, retryable: false, cause });
}

/** The globals a runtime check reads; `globalThis` by default, a stand-in in tests. */
export type RuntimeScope = Partial<Record<'document' | 'importScripts', unknown>>;

/**
 * Whether this runtime lets a request set its `User-Agent`: servers, Node,
 * Deno, Bun and Workers do; a browser page or web worker does not (Chromium
 * replaces the header with its own, others make it a CORS preflight), so a
 * provider's User-Agent rule cannot be met there and is not checked.
 */
export function runtimeSetsUserAgent(scope: RuntimeScope = globalThis as RuntimeScope): boolean {
  const browserPage = typeof scope.document === 'object' && scope.document !== null;
  const browserWorker = typeof scope.importScripts === 'function';
  return !browserPage && !browserWorker;
}

/**
 * RFC 7636 §4.3 with the provider's metadata (`codeChallengeMethodsSupported`,
 * RFC 8414 §2): a method the provider does not list is refused, under its
 * RFC name or the provider's wire name for it.
 */
export function assertPkceMethodAllowed(provider: ProviderConfig, method: PkceMethod): void {
  const listed = provider.codeChallengeMethodsSupported;
  if (listed === undefined || listed.length === 0) return;
  const wireName = provider.quirks?.pkceMethodNames?.[method] ?? method;
  if (listed.includes(method) || listed.includes(wireName)) return;
  throw configurationError(`the provider does not accept the PKCE method ${method} (it lists ${listed.join(', ')})`);
}

/**
 * With `quirks.onlyListedScopes` (Poe grants `apikey:create` and nothing else),
 * a scope outside `scopesSupported` is refused. Without it, `scopesSupported`
 * is a hint (RFC 8414 §2: a server need not list every scope) and nothing is refused.
 */
export function assertScopesListed(provider: ProviderConfig, scopes: readonly string[]): void {
  if (provider.quirks?.onlyListedScopes !== true) return;
  const listed = provider.scopesSupported ?? [];
  const unlisted = scopes.filter((scope) => !listed.includes(scope));
  if (unlisted.length > 0) {
    throw configurationError(`the provider grants only ${listed.join(', ') || 'no scope'}; ${unlisted.join(', ')} would be refused`);
  }
}

/**
 * The ID-token algorithm the client registered (`client.idTokenSigningAlg`)
 * against what the provider signs with (`idTokenSigningAlgValuesSupported`,
 * OIDC Discovery §3): one it does not list, `none`, or an HMAC for a client
 * without a secret (OIDC Core §10.1) is a `configuration_error` before the user leaves.
 */
export function assertIdTokenAlgorithmSupported(provider: ProviderConfig, client: ClientConfig): void {
  const alg = client.idTokenSigningAlg;
  if (alg === undefined) return;
  if (alg.toLowerCase() === 'none') throw configurationError('client.idTokenSigningAlg cannot be none: unsigned ID tokens are refused');
  if (/^HS\d+$/.test(alg) && (client.clientSecret === undefined || client.clientSecret === '')) {
    throw configurationError(`client.idTokenSigningAlg ${alg} is an HMAC keyed by a client secret, which this client does not have`);
  }
  const supported = provider.idTokenSigningAlgValuesSupported;
  if (supported !== undefined && !supported.includes(alg)) {
    throw configurationError(`the provider does not sign ID tokens with ${alg} (it signs with ${supported.join(', ')})`);
  }
}

/**
 * Whether the authorization request is sent as a signed request object: when
 * the client asks (`client.requestObject`) or the provider requires it
 * (`requireSignedRequestObject`, RFC 9101 §10.5).
 */
export function usesRequestObject(provider: ProviderConfig, client: ClientConfig): boolean {
  return client.requestObject === true || provider.requireSignedRequestObject === true;
}
