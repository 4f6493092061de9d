/**
 * The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).
 */
import { resolveEndpoint } from './endpoints.js';
import { nopkce, pkceMethodWireName, type NoPkce } from './pkce.js';
import { assertIdTokenAlgorithmSupported, assertPkceMethodAllowed, assertScopesListed, configurationError } from './providerRules.js';
import { assertScopesAllowed, assertScopeSyntax, joinScopes } from './scopeGrants.js';
import type { ClientConfig, PkceMethod, ProviderConfig } from './types.js';

/** What varies per authorization request. */
export interface AuthorizationUrlOptions {
  state: string;
  /** The RFC 7636 challenge, or `nopkce` to send none (a provider with `quirks.pkce: 'unsupported'`). */
  codeChallenge: string | NoPkce;
  /** The RFC 7636 method; sent under the provider's wire name (`quirks.pkceMethodNames`). Ignored with `nopkce`. */
  codeChallengeMethod: PkceMethod;
  nonce?: string;
  /** Default: `client.scopes`. */
  scopes?: string[];
  /** Default: `client.redirectUri`. */
  redirectUri?: string;
  /** Default: `code`. */
  responseType?: string;
  /** Further parameters (`prompt`, `login_hint`, `resource`…); they cannot replace the ones the library sets. */
  extraParams?: Record<string, string>;
  /** RFC 9449 §10: the thumbprint of the session's DPoP key, which binds the code to it. */
  dpopJkt?: string;
}

/** Parameters the library sets itself and extra parameters (a call's, a profile's) must not override. */
export const RESERVED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  // RFC 9126 §4: set by the library after a pushed authorization request.
  'request_uri',
  // RFC 9449 §10: set by the library for a DPoP-bound session.
  'dpop_jkt',
]);

function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/**
 * The parameters of an authorization request, in order: what goes into the
 * authorization URL's query, or into the body of a pushed authorization request
 * (RFC 9126 §2.1). Checks what {@link buildAuthorizationUrl} checks.
 */
export function authorizationRequestParams(
  provider: ProviderConfig,
  client: ClientConfig,
  options: AuthorizationUrlOptions,
): [string, string][] {
  const clientId = nonEmpty(client.clientId, 'client.clientId');
  const state = nonEmpty(options.state, 'state');
  const codeChallenge = options.codeChallenge === nopkce ? nopkce : nonEmpty(options.codeChallenge, 'codeChallenge');
  if (codeChallenge !== nopkce) {
    if (options.codeChallengeMethod !== 'S256' && options.codeChallengeMethod !== 'plain') {
      throw new TypeError(`codeChallengeMethod must be 'S256' or 'plain', got ${String(options.codeChallengeMethod)}`);
    }
    assertPkceMethodAllowed(provider, options.codeChallengeMethod);
  }
  const scopes = options.scopes ?? client.scopes ?? [];
  assertScopeSyntax(scopes);
  assertScopesAllowed(provider, 'authorization_code', scopes);
  assertScopesListed(provider, scopes);
  if (scopes.includes('openid')) assertIdTokenAlgorithmSupported(provider, client);
  const redirectUri = options.redirectUri ?? client.redirectUri;
  if (redirectUri !== undefined) {
    // RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI. Sent exactly as given.
    if (!URL.canParse(redirectUri)) throw new TypeError(`redirectUri must be an absolute URL: ${redirectUri}`);
  }

  const params: [string, string][] = [
    ['response_type', nonEmpty(options.responseType ?? 'code', 'responseType')],
    ['client_id', clientId],
  ];
  if (redirectUri !== undefined) params.push(['redirect_uri', redirectUri]);
  if (scopes.length > 0) params.push(['scope', joinScopes(provider, scopes)]);
  params.push(['state', state]);
  if (codeChallenge !== nopkce) {
    params.push(['code_challenge', codeChallenge]);
    params.push(['code_challenge_method', pkceMethodWireName(provider, options.codeChallengeMethod)]);
  }
  if (options.nonce !== undefined) params.push(['nonce', nonEmpty(options.nonce, 'nonce')]);
  if (options.dpopJkt !== undefined) params.push(['dpop_jkt', nonEmpty(options.dpopJkt, 'dpopJkt')]);
  // The profile's parameters (quirks.authorizationParams), under the call's own extra parameters.
  for (const [name, value] of Object.entries({ ...provider.quirks?.authorizationParams, ...options.extraParams })) {
    if (RESERVED_AUTHORIZATION_PARAMS.has(name)) throw configurationError(`extraParams cannot set ${name}: the library sets it`);
    if (typeof value !== 'string') throw new TypeError(`extraParams.${name} must be a string`);
    params.push([name, value]);
  }
  return params;
}

/** The authorization endpoint with `params` in its query: the endpoint's own query is kept (RFC 6749 §3.1). */
function authorizationEndpointWith(provider: ProviderConfig, params: [string, string][]): string {
  const url = new URL(resolveEndpoint(provider, 'authorization'));
  // RFC 6749 §3.1: the endpoint's own query is retained; our parameters replace same-named ones in it.
  for (const [name] of params) url.searchParams.delete(name);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url.href;
}

/**
 * The URL to send the user agent to. Keeps a query the endpoint already has
 * (RFC 6749 §3.1). What the provider's profile forbids — a scope reserved to
 * another grant or outside an exhaustive `scopesSupported`, a PKCE method it
 * does not list, an ID-token algorithm (`client.idTokenSigningAlg`) it does not sign with, an extra
 * parameter the library sets — throws
 * `OAuthError('configuration_error')`; missing or malformed arguments throw `TypeError`.
 */
export function buildAuthorizationUrl(
  provider: ProviderConfig,
  client: ClientConfig,
  options: AuthorizationUrlOptions,
): string {
  const params = authorizationRequestParams(provider, client, options);
  // Checked before the endpoint, as before: a bad argument is the caller's, whatever the provider.
  return authorizationEndpointWith(provider, params);
}

/**
 * RFC 9126 §4: after a pushed authorization request, the user agent goes to the
 * authorization endpoint with only `client_id` and the `request_uri` the server returned.
 */
export function buildPushedAuthorizationUrl(provider: ProviderConfig, client: ClientConfig, requestUri: string): string {
  return authorizationEndpointWith(provider, [
    ['client_id', nonEmpty(client.clientId, 'client.clientId')],
    ['request_uri', nonEmpty(requestUri, 'requestUri')],
  ]);
}
