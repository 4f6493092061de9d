/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2).
 */
import type { ClientAuthMethod, ClientConfig, ProviderConfig } from './types.js';
import { resolveEndpoint } from './endpoints.js';
import { configurationError } from './providerRules.js';
import { SECRET_AUTH_METHODS, isClientAuthMethod } from './validators.js';


/** application/x-www-form-urlencoded encoding of one value (WHATWG URL: space → `+`, all but `*-._` and alphanumerics escaped). */
function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

/**
 * The `Authorization` header value for HTTP Basic client authentication.
 * RFC 6749 §2.3.1: the id and secret are form-encoded *before* base64, which
 * differs from `encodeURIComponent` for spaces and `!'()*`.
 */
export function basicCredentials(clientId: string, clientSecret: string): string {
  const pair = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  // The form-encoded pair is ASCII, so btoa sees no code point above 0xFF.
  return `Basic ${btoa(pair)}`;
}

/**
 * The methods the provider accepts: its profile's `quirks.clientAuthMethods`,
 * else its metadata's `tokenEndpointAuthMethodsSupported` (RFC 8414 §2), else
 * any (`undefined`).
 */
function acceptedMethods(provider: ProviderConfig): readonly string[] | undefined {
  return provider.quirks?.clientAuthMethods ?? provider.tokenEndpointAuthMethodsSupported;
}

/**
 * The method a client authenticates with: `client.authMethod`; else, with a
 * secret, `client_secret_basic` unless the provider only accepts another secret
 * method; else `none`. Throws `OAuthError('configuration_error')` when the provider does not accept the
 * method (`quirks.clientAuthMethods`, else the metadata's `tokenEndpointAuthMethodsSupported`; a JWT
 * method's algorithm is checked when its assertion is signed, also before sending); `TypeError`
 * when a secret method lacks a secret or `private_key_jwt` a `privateKey`. A public
 * client (no secret) using `none` is not checked against the list: it does
 * not authenticate at all (RFC 6749 §2.1), and providers that list only
 * `client_secret_post` (Path of Exile) still serve public PKCE clients.
 */
export function resolveClientAuthMethod(provider: ProviderConfig, client: ClientConfig): ClientAuthMethod {
  const allowed = acceptedMethods(provider);
  const hasSecret = client.clientSecret !== undefined && client.clientSecret !== '';
  let method: ClientAuthMethod;
  if (client.authMethod !== undefined) method = client.authMethod;
  else if (!hasSecret) method = 'none';
  else if (allowed === undefined || allowed.includes('client_secret_basic')) method = 'client_secret_basic';
  else method = SECRET_AUTH_METHODS.find((m) => allowed.includes(m)) ?? 'client_secret_basic';

  if (!isClientAuthMethod(method)) {
    throw new TypeError(`unsupported client authentication method: ${String(method)}`);
  }
  if (method === 'private_key_jwt') {
    if (client.privateKey === undefined) throw new TypeError('private_key_jwt needs client.privateKey');
  } else if (method !== 'none' && !hasSecret) throw new TypeError(`${method} needs client.clientSecret`);
  const exemptPublicClient = method === 'none' && !hasSecret;
  if (allowed !== undefined && !exemptPublicClient && !allowed.includes(method)) {
    throw configurationError(`the provider does not accept ${method} (it accepts ${allowed.join(', ')})`);
  }
  return method;
}

/**
 * The audience of a client assertion: the issuer identifier, which RFC 7523
 * §3 item 3 lets the server require and every endpoint of the server accepts
 * (OIDC Core §9 names the token endpoint; a pushed authorization request goes
 * elsewhere); the token endpoint for a provider configured without an issuer.
 */
export function clientAssertionAudience(provider: ProviderConfig): string {
  return provider.issuer ?? resolveEndpoint(provider, 'token');
}

/**
 * Adds the client's authentication to a request's body parameters and
 * headers (both mutated): `client_id` in the body for `none`, `client_id` and
 * `client_secret` for `client_secret_post` (RFC 6749 §2.3.1), an
 * `Authorization: Basic` header for `client_secret_basic`; `client_id` for the
 * JWT methods, whose assertion is signed later (returned: the audience it is for,
 * which the request builder records as `HttpRequest.clientAssertion`).
 */
export function applyClientAuth(
  provider: ProviderConfig,
  client: ClientConfig,
  params: Record<string, string>,
  headers: Record<string, string>,
): { audience: string } | undefined {
  if (typeof client.clientId !== 'string' || client.clientId === '') {
    throw new TypeError('client.clientId must be a non-empty string');
  }
  const method = resolveClientAuthMethod(provider, client);
  switch (method) {
    case 'none':
      params['client_id'] = client.clientId;
      return undefined;
    case 'client_secret_post':
      params['client_id'] = client.clientId;
      params['client_secret'] = client.clientSecret ?? '';
      return undefined;
    case 'client_secret_basic':
      headers['Authorization'] = basicCredentials(client.clientId, client.clientSecret ?? '');
      return undefined;
    case 'private_key_jwt':
    case 'client_secret_jwt':
      // RFC 7523 §3 item 2: the assertion's `sub` names the client; `client_id` too, so the server finds its keys.
      params['client_id'] = client.clientId;
      return { audience: clientAssertionAudience(provider) };
  }
}
