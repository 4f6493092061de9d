/**
 * Where a provider's endpoints are: absolute, or relative to `provider.baseUrl`
 * (as SkyMavis SSO's are), and only over TLS unless on loopback or explicitly allowed.
 */
import type { ProviderConfig } from './types.js';

/** The endpoints a `ProviderConfig` can name. */
export type EndpointName =
  | 'authorization'
  | 'token'
  | 'revocation'
  | 'introspection'
  | 'userinfo'
  | 'tokenInfo'
  | 'deviceAuthorization'
  | 'endSession'
  | 'pushedAuthorizationRequest';

const ENDPOINT_FIELDS = {
  authorization: 'authorizationEndpoint',
  token: 'tokenEndpoint',
  revocation: 'revocationEndpoint',
  introspection: 'introspectionEndpoint',
  userinfo: 'userinfoEndpoint',
  tokenInfo: 'tokenInfoEndpoint',
  deviceAuthorization: 'deviceAuthorizationEndpoint',
  endSession: 'endSessionEndpoint',
  pushedAuthorizationRequest: 'pushedAuthorizationRequestEndpoint',
} as const satisfies Record<EndpointName, keyof ProviderConfig>;

/** Whether `url` points at this machine: 127.0.0.0/8, [::1] or localhost (RFC 8252 §8.3). */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether the library may send a request, or a user, to `url`: `https:`, or
 * `http:` on loopback (RFC 8252 §8.3), or any `http:` with
 * `allowInsecureRequests`. RFC 9700 §2.6 / RFC 6749 §3.1: TLS everywhere else.
 */
export function isSecureUrl(url: URL, allowInsecureRequests = false): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecureRequests || isLoopbackUrl(url)));
}

/**
 * Resolves `value` (absolute, or relative to `provider.baseUrl`) into an
 * absolute URL the library may send to: `https:`, or `http:` on loopback, or
 * any `http:` when `provider.allowInsecureRequests`. Throws `TypeError` otherwise.
 */
export function resolveProviderUrl(provider: ProviderConfig, value: string, what = 'endpoint'): URL {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} must be a non-empty URL string`);
  let url: URL;
  try {
    url = provider.baseUrl === undefined ? new URL(value) : new URL(value, provider.baseUrl);
  } catch {
    throw new TypeError(
      provider.baseUrl === undefined
        ? `${what} is not an absolute URL and the provider has no baseUrl: ${value}`
        : `${what} is not a URL relative to ${provider.baseUrl}: ${value}`,
    );
  }
  // RFC 6749 §3.1 / §3.2: endpoint URIs MUST NOT include a fragment.
  if (url.hash !== '') throw new TypeError(`${what} must not have a fragment: ${value}`);
  if (isSecureUrl(url, provider.allowInsecureRequests === true)) return url;
  if (url.protocol === 'http:') {
    throw new TypeError(`${what} must use https (http only on loopback or with allowInsecureRequests): ${url.href}`);
  }
  throw new TypeError(`${what} must be an http(s) URL: ${url.href}`);
}

/**
 * The provider's `name` endpoint as an absolute URL string (resolved against
 * `baseUrl`, HTTPS required except loopback unless `allowInsecureRequests`).
 * Throws `TypeError` when the provider has no such endpoint or it is unusable.
 */
export function resolveEndpoint(provider: ProviderConfig, name: EndpointName): string {
  const field = ENDPOINT_FIELDS[name];
  if (field === undefined) throw new TypeError(`unknown endpoint name: ${String(name)}`);
  const value = provider[field];
  if (value === undefined || value === '') throw new TypeError(`the provider has no ${field}`);
  return resolveProviderUrl(provider, value, field).href;
}
