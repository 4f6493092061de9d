/**
 * RFC 8707 resource indicators for the client-credentials cache: a `fetch`
 * decorator that adds `resource` to requests sent to the token endpoint.
 *
 * Why a decorator: `createOAuthClient` and `clientCredentialsMachine` have no
 * `resource` option yet, while `requestClientCredentials` has. Once the
 * machine passes one through, this file goes.
 */
import { resolveEndpoint } from '../protocol/endpoints.js';
import type { ProviderConfig } from '../protocol/types.js';
import type { FetchLike } from '../services/types.js';

/**
 * Wraps `fetch` so that every POST to the provider's token endpoint carries
 * `resource` (RFC 8707 §2.2), in the request's own body encoding (form, or
 * JSON for providers that take JSON, seed 003). Other requests pass unchanged.
 */
export function withResourceIndicator(fetch: FetchLike, provider: ProviderConfig, resource: string): FetchLike {
  const tokenEndpoint = resolveEndpoint(provider, 'token');
  return (input, init) => {
    if (init?.method !== 'POST' || typeof init.body !== 'string' || requestUrl(input) !== tokenEndpoint) {
      return fetch(input, init);
    }
    const contentType = new Headers(init.headers).get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
    let body: string;
    if (contentType === 'application/x-www-form-urlencoded') {
      const params = new URLSearchParams(init.body);
      params.set('resource', resource);
      body = params.toString();
    } else if (contentType === 'application/json') {
      const parsed: unknown = JSON.parse(init.body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fetch(input, init);
      body = JSON.stringify({ ...parsed, resource });
    } else {
      return fetch(input, init);
    }
    return fetch(input, { ...init, body });
  };
}

function requestUrl(input: string | URL | Request): string {
  if (typeof input === 'string') return new URL(input).href;
  if (input instanceof URL) return input.href;
  return input.url;
}
