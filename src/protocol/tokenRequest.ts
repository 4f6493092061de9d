/**
 * Token endpoint requests (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 8628 §3.4).
 * Each builder validates its arguments (`TypeError`), refuses scopes the
 * provider reserves to other grants (`OAuthError('invalid_scope')`) and returns
 * a request ready for `fetch`.
 */
import { assertCodeVerifier, nopkce, type NoPkce } from './pkce.js';
import { addExtraParams, buildAuthenticatedPost, requireString } from './providerRequest.js';
import { assertScopesAllowed, assertScopeSyntax, joinScopes } from './scopeGrants.js';
import { isResourceIndicator } from './validators.js';
import type { ClientConfig, GrantType, HttpRequest, ProviderConfig } from './types.js';

/** RFC 8628 §3.4. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** Parameters that extra parameters may never replace on a token request. */
const RESERVED = ['grant_type', 'client_id', 'client_secret', 'scope', 'resource'] as const;
/** The code exchange sets no `scope` (a server may want one, as JSON token endpoint servers' samples send). */
const RESERVED_CODE_EXCHANGE = ['grant_type', 'client_id', 'client_secret', 'code', 'code_verifier', 'redirect_uri'] as const;
const RESERVED_REFRESH = ['grant_type', 'client_id', 'client_secret', 'refresh_token', 'scope'] as const;

/**
 * Every parameter the library sets on some token request: a profile's
 * `quirks.tokenParams`, added to all of them, may name none of these.
 */
export const RESERVED_TOKEN_PARAMS: readonly string[] = [
  ...RESERVED,
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'device_code',
  'username',
  'password',
];

function tokenPost(
  provider: ProviderConfig,
  client: ClientConfig,
  grant: GrantType,
  params: Record<string, string>,
  scopes: readonly string[] | undefined,
): HttpRequest {
  const body: Record<string, string> = { grant_type: grant, ...params };
  if (scopes !== undefined && scopes.length > 0) {
    assertScopeSyntax(scopes);
    assertScopesAllowed(provider, grant, scopes);
    body['scope'] = joinScopes(provider, scopes);
  }
  // The profile's parameters go under the call's own: a parameter the call already set (its extraParams) stays.
  for (const [name, value] of Object.entries(provider.quirks?.tokenParams ?? {})) {
    if (RESERVED_TOKEN_PARAMS.includes(name)) throw new TypeError(`quirks.tokenParams cannot set ${name}: the library sets it`);
    body[name] ??= value;
  }
  return buildAuthenticatedPost(provider, client, 'token', body, provider.quirks?.tokenRequestEncoding ?? 'form');
}

function optionalRedirectUri(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  if (!URL.canParse(value)) throw new TypeError(`redirectUri must be an absolute URL: ${value}`);
  return { redirect_uri: value };
}

/**
 * Throws `OAuthError('configuration_error')` when extra code-exchange parameters would replace one
 * the library sets (or `TypeError` for a value that is not a string): the check the exchange makes,
 * for a login that wants it made before the user leaves for the provider.
 */
export function assertCodeExchangeParams(extraParams: Record<string, string>): void {
  addExtraParams({}, extraParams, RESERVED_CODE_EXCHANGE);
}

/** The same check for a refresh's extra parameters (`refresh({ tokenParams })`), made before the REFRESH is sent. */
export function assertRefreshParams(extraParams: Record<string, string>): void {
  addExtraParams({}, extraParams, RESERVED_REFRESH);
}

/** Builders of token endpoint requests, one per grant. */
export const tokenRequest = {
  /**
   * RFC 6749 §4.1.3 with RFC 7636 §4.5: the code, its verifier and the
   * redirect URI (default `client.redirectUri`) exactly as in the authorization request.
   * `codeVerifier: nopkce` sends no verifier (the authorization request sent no challenge);
   * `extraParams` are added (`scope`, `audience`…), never replacing one the library sets.
   */
  authorizationCode(
    provider: ProviderConfig,
    client: ClientConfig,
    options: { code: string; codeVerifier: string | NoPkce; redirectUri?: string; extraParams?: Record<string, string> },
  ): HttpRequest {
    const code = requireString(options.code, 'code');
    const params: Record<string, string> = { code };
    if (options.codeVerifier !== nopkce) {
      assertCodeVerifier(options.codeVerifier);
      params['code_verifier'] = options.codeVerifier;
    }
    Object.assign(params, optionalRedirectUri(options.redirectUri ?? client.redirectUri));
    addExtraParams(params, options.extraParams, RESERVED_CODE_EXCHANGE);
    return tokenPost(provider, client, 'authorization_code', params, undefined);
  },

  /**
   * RFC 6749 §6; `scopes` narrows the grant and is omitted by default (the original scope applies);
   * `extraParams` are added, never replacing one the library sets.
   */
  refreshToken(
    provider: ProviderConfig,
    client: ClientConfig,
    options: { refreshToken: string; scopes?: string[]; extraParams?: Record<string, string> },
  ): HttpRequest {
    const refreshToken = requireString(options.refreshToken, 'refreshToken');
    const params: Record<string, string> = { refresh_token: refreshToken };
    addExtraParams(params, options.extraParams, RESERVED_REFRESH);
    return tokenPost(provider, client, 'refresh_token', params, options.scopes);
  },

  /** RFC 6749 §4.4.2; scopes default to `client.scopes`; `resource` per RFC 8707 §2. */
  clientCredentials(
    provider: ProviderConfig,
    client: ClientConfig,
    options: { scopes?: string[]; resource?: string; extraParams?: Record<string, string> } = {},
  ): HttpRequest {
    const params: Record<string, string> = {};
    if (options.resource !== undefined) {
      // RFC 8707 §2: an absolute URI without a fragment.
      if (!isResourceIndicator(options.resource)) {
        throw new TypeError(`resource must be an absolute URI without a fragment: ${options.resource}`);
      }
      params['resource'] = options.resource;
    }
    addExtraParams(params, options.extraParams, RESERVED);
    return tokenPost(provider, client, 'client_credentials', params, options.scopes ?? client.scopes);
  },

  /** RFC 8628 §3.4: the device code from the device authorization response. */
  deviceCode(provider: ProviderConfig, client: ClientConfig, options: { deviceCode: string }): HttpRequest {
    const deviceCode = requireString(options.deviceCode, 'deviceCode');
    return tokenPost(provider, client, DEVICE_CODE_GRANT_TYPE, { device_code: deviceCode }, undefined);
  },

  /** RFC 6749 §4.3.2 (removed by OAuth 2.1; legacy entry only); scopes default to `client.scopes`. */
  password(
    provider: ProviderConfig,
    client: ClientConfig,
    options: { username: string; password: string; scopes?: string[] },
  ): HttpRequest {
    const username = requireString(options.username, 'username');
    if (typeof options.password !== 'string') throw new TypeError('password must be a string');
    return tokenPost(
      provider,
      client,
      'password',
      { username, password: options.password },
      options.scopes ?? client.scopes,
    );
  },
};
