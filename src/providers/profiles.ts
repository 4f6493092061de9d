/**
 * Profiles of real providers: each a function returning a `ProviderConfig`
 * whose quirks are data plus small pure functions (a provider's quirks never
 * become branches inside the machines). The TSDoc of each cites the provider
 * documentation it follows.
 */
import type { ClientAuthMethod, ProviderConfig } from '../protocol/types.js';

/**
 * The User-Agent format Path of Exile requires:
 * `OAuth {clientId}/{version} (contact: {email}) OptionalInfo`.
 * A regular expression source, as `ProviderQuirks.userAgentPattern` takes it.
 */
export const PATH_OF_EXILE_USER_AGENT_PATTERN = String.raw`^OAuth [^\s/()]+/[^\s()]+ \(contact: [^\s()@]+@[^\s()@]+\)(?: \S.*)?$`;

/**
 * Path of Exile (grindinggear.com):
 * - authorization code requires PKCE for public and confidential clients;
 * - the token endpoint accepts only `client_secret_post` (no Basic, no `client_secret_jwt`);
 * - `service:*` scopes are issued only through client credentials (confidential
 *   clients), `account:*` scopes through the authorization code grant;
 * - every request carries `User-Agent: OAuth {clientId}/{version} (contact: {email}) OptionalInfo`
 *   (build one with {@link pathOfExileUserAgent}; set it as `client.userAgent`). The rule applies
 *   where the runtime can set the header (servers, Node, Deno, Bun, Workers); in a browser it is
 *   skipped, since the browser sends its own User-Agent whatever the page asks;
 * - RFC 7009 revocation at `/oauth/token/revoke` and RFC 7662 introspection at
 *   `/oauth/token/introspect` (PoE developer docs, "OAuth Server Endpoints").
 *
 * @example
 * const provider = pathOfExile();
 * const client = { clientId: 'myapp', clientSecret, userAgent: pathOfExileUserAgent({ clientId: 'myapp', version: '1.0.0', contact: 'dev@example.com' }) };
 */
export function pathOfExile(): ProviderConfig {
  return {
    authorizationEndpoint: 'https://www.pathofexile.com/oauth/authorize',
    tokenEndpoint: 'https://www.pathofexile.com/oauth/token',
    // Both need a scope of their own (`oauth:revoke`, `oauth:introspect`) granted to the client.
    revocationEndpoint: 'https://www.pathofexile.com/oauth/token/revoke',
    introspectionEndpoint: 'https://www.pathofexile.com/oauth/token/introspect',
    codeChallengeMethodsSupported: ['S256'],
    tokenEndpointAuthMethodsSupported: ['client_secret_post'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'client_credentials'],
    quirks: {
      clientAuthMethods: ['client_secret_post'],
      pkceRequired: true,
      userAgentPattern: PATH_OF_EXILE_USER_AGENT_PATTERN,
      scopeGrants: { 'service:*': ['client_credentials'] },
    },
  };
}

/**
 * A User-Agent in the form Path of Exile requires. Throws
 * `TypeError` when a part would break the format (spaces or slashes in the
 * client id or version, a contact that is not an e-mail address).
 */
export function pathOfExileUserAgent(parts: { clientId: string; version: string; contact: string; info?: string }): string {
  const userAgent = `OAuth ${parts.clientId}/${parts.version} (contact: ${parts.contact})${parts.info ? ` ${parts.info}` : ''}`;
  if (!new RegExp(PATH_OF_EXILE_USER_AGENT_PATTERN).test(userAgent)) {
    throw new TypeError(`pathOfExileUserAgent: ${JSON.stringify(userAgent)} does not fit "OAuth {clientId}/{version} (contact: {email}) OptionalInfo"`);
  }
  return userAgent;
}

/**
 * Maps Poe's token response (`api_key`, `api_key_expires_in`: seconds, or
 * `null` when the key never expires) into RFC 6749 §5.1 fields:
 * `access_token`, `token_type: 'Bearer'` and `expires_in` (left out for
 * `null`, so the token set has no expiry). A body that already has an
 * `access_token`, an error body, or anything without `api_key` is returned as
 * is; whatever comes out is validated like a standard body. Pure.
 */
export function mapPoeTokenResponse(body: Record<string, unknown>): Record<string, unknown> {
  if (!('api_key' in body) || 'access_token' in body || 'error' in body) return body;
  const { api_key: apiKey, api_key_expires_in: expiresIn, ...rest } = body;
  const mapped: Record<string, unknown> = { ...rest, access_token: apiKey, token_type: rest['token_type'] ?? 'Bearer' };
  // null (or absent) = the key does not expire; any other value goes on to validation as sent.
  if (expiresIn !== null && expiresIn !== undefined) mapped['expires_in'] = expiresIn;
  return mapped;
}

/**
 * Poe (poe.com): "Sign in with Poe" issues an API key through the
 * authorization code grant with mandatory PKCE S256 and scope `apikey:create`.
 * The client is public (no secret: `client_id` in the body). The token
 * endpoint answers `api_key` / `api_key_expires_in` (null = never expires),
 * mapped by {@link mapPoeTokenResponse}. There is no refresh token. Another scope
 * or PKCE `plain` is refused before the user leaves (`configuration_error`).
 */
export function poe(): ProviderConfig {
  return {
    authorizationEndpoint: 'https://poe.com/oauth/authorize',
    tokenEndpoint: 'https://api.poe.com/token',
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code'],
    scopesSupported: ['apikey:create'],
    tokenEndpointAuthMethodsSupported: ['none'],
    quirks: {
      clientAuthMethods: ['none'],
      pkceRequired: true,
      mapTokenResponse: mapPoeTokenResponse,
      pkce: 'required',
      onlyListedScopes: true,
    },
  };
}

export interface SkyMavisOptions {
  /** The base URI of the OAuth 2 server (SkyMavis SSO's `server`). */
  server: string;
  /** Relative to `server` or absolute. Default `/oauth2/auth`. */
  authorizationEndpoint?: string;
  /** Relative to `server` or absolute. Default `/oauth2/token`. */
  tokenEndpoint?: string;
  /**
   * Whether to send PKCE. Default `true`: SkyMavis SSO takes it (optional there), and it binds the
   * code to this login. `false` is the explicit opt-out for a server that refuses it
   * (`quirks.pkce: 'unsupported'`; see docs/security.md).
   */
  pkce?: boolean;
}

/**
 * SkyMavis SSO (its `oauth2-client`): endpoints default to
 * `/oauth2/auth` and `/oauth2/token`, resolved against the `server` base URL
 * (as `new URL(endpoint, server)`: a leading `/` replaces the server's path).
 * Authorization code with optional PKCE (sent unless `pkce: false`). For "the
 * discovery document first, otherwise the defaults", give it as a discovery
 * fallback: `provider: { issuer: server, fallback: skyMavis({ server }) }`.
 */
export function skyMavis(options: SkyMavisOptions): ProviderConfig {
  return {
    baseUrl: absoluteUrl(options.server, 'skyMavis: server'),
    authorizationEndpoint: options.authorizationEndpoint ?? '/oauth2/auth',
    tokenEndpoint: options.tokenEndpoint ?? '/oauth2/token',
    codeChallengeMethodsSupported: ['S256', 'plain'],
    grantTypesSupported: ['authorization_code', 'refresh_token'],
    quirks: { pkce: options.pkce === false ? 'unsupported' : 'optional' },
  };
}

export interface JsonTokenEndpointOptions {
  /** The server's base URL (e.g. `http://auth.server.com`). */
  server: string;
  /** Default `/oauth2/authorize`. */
  authorizationEndpoint?: string;
  /** Default `/oauth2/token`. */
  tokenEndpoint?: string;
  /** Default `['none']`: a browser client (`authMethods: ['none']`). */
  clientAuthMethods?: ClientAuthMethod[];
  /** Allow a non-loopback `http:` server, as such servers' examples use. Off by default. */
  allowInsecureRequests?: boolean;
  /**
   * How the S256 challenge is encoded. Default `'base64url'` (RFC 7636 §4.2). Such servers'
   * browser samples compute `btoa(sha256(verifier))`, padded standard base64: choose `'base64'`
   * when the server compares against that (a code exchange failing with `invalid_grant` on the
   * PKCE check is the sign).
   */
  pkceChallengeEncoding?: 'base64url' | 'base64';
}

/**
 * A server that takes token requests as JSON: `POST /oauth2/token`
 * with `Content-Type: application/json` and a JSON body, PKCE S256 named
 * `SHA-256` on the wire (`code_challenge_method=SHA-256`), and a browser
 * client authenticating with `none` (`client_id` in the body). The challenge is
 * RFC 7636 base64url unless `pkceChallengeEncoding: 'base64'`. Such servers'
 * samples also send `scope` with the code exchange: `login({ tokenParams: { scope } })`.
 */
export function jsonTokenEndpoint(options: JsonTokenEndpointOptions): ProviderConfig {
  const config: ProviderConfig = {
    baseUrl: absoluteUrl(options.server, 'jsonTokenEndpoint: server'),
    authorizationEndpoint: options.authorizationEndpoint ?? '/oauth2/authorize',
    tokenEndpoint: options.tokenEndpoint ?? '/oauth2/token',
    grantTypesSupported: ['authorization_code', 'refresh_token'],
    quirks: {
      tokenRequestEncoding: 'json',
      pkceMethodNames: { S256: 'SHA-256' },
      clientAuthMethods: options.clientAuthMethods ?? ['none'],
      pkceChallengeEncoding: options.pkceChallengeEncoding ?? 'base64url',
    },
  };
  if (options.allowInsecureRequests === true) config.allowInsecureRequests = true;
  return config;
}

export interface GenericProviderOptions {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** A `GET` endpoint describing the bearer token (e.g. `https://api.example.com/v1/oauth/token/info`). */
  tokenInfoEndpoint?: string;
  userinfoEndpoint?: string;
  issuer?: string;
  scopesSupported?: string[];
  /** Default `['client_secret_post']`: such a provider takes `client_id` and `client_secret` in the form body. */
  clientAuthMethods?: ClientAuthMethod[];
}

/**
 * A plain RFC 6749 provider with absolute endpoints: form-encoded
 * token requests with the client secret in the body, refresh tokens that
 * rotate on every use, RFC 7009 revocation, and a non-standard token-info
 * endpoint (`GET` with the bearer token) in `tokenInfoEndpoint`.
 *
 * @example
 * generic({
 *   authorizationEndpoint: 'https://app.example.com/oauth/authorize',
 *   tokenEndpoint: 'https://app.example.com/oauth/token',
 *   revocationEndpoint: 'https://app.example.com/oauth/revoke',
 *   tokenInfoEndpoint: 'https://api.example.com/v1/oauth/token/info',
 * });
 */
export function generic(options: GenericProviderOptions): ProviderConfig {
  const config: ProviderConfig = {
    authorizationEndpoint: absoluteUrl(options.authorizationEndpoint, 'generic: authorizationEndpoint'),
    tokenEndpoint: absoluteUrl(options.tokenEndpoint, 'generic: tokenEndpoint'),
    quirks: { clientAuthMethods: options.clientAuthMethods ?? ['client_secret_post'] },
  };
  if (options.revocationEndpoint !== undefined) config.revocationEndpoint = absoluteUrl(options.revocationEndpoint, 'generic: revocationEndpoint');
  if (options.tokenInfoEndpoint !== undefined) config.tokenInfoEndpoint = absoluteUrl(options.tokenInfoEndpoint, 'generic: tokenInfoEndpoint');
  if (options.userinfoEndpoint !== undefined) config.userinfoEndpoint = absoluteUrl(options.userinfoEndpoint, 'generic: userinfoEndpoint');
  if (options.issuer !== undefined) config.issuer = options.issuer;
  if (options.scopesSupported !== undefined) config.scopesSupported = [...options.scopesSupported];
  return config;
}

/** Checks that `value` is an absolute URL and returns it unchanged (HTTPS is checked when a request is built). */
function absoluteUrl(value: string, what: string): string {
  try {
    new URL(value);
  } catch {
    throw new TypeError(`${what} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  return value;
}
