/**
 * The URL options every profile of a hosted provider takes: a base URL (its
 * own origin, a custom domain, GitHub Enterprise Server, a proxy, or the test
 * authorization server in a test) and host names, checked before any
 * endpoint is built from them.
 */

/**
 * `value` as an absolute URL without a trailing `/`, query or fragment, to
 * append endpoint paths to. Throws `TypeError` naming `what` otherwise.
 * (HTTPS is checked when a request is built: `http:` only on loopback.)
 */
export function baseUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${what} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new TypeError(`${what} must not have a query or fragment, got ${JSON.stringify(value)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** `https://{host}` for a host name such as `dev-123.us.auth0.com` (a port is allowed); `TypeError` for anything else. */
export function httpsOrigin(host: string, what: string): string {
  if (typeof host !== 'string' || !/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(host)) {
    throw new TypeError(`${what} must be a host name such as login.example.com, got ${JSON.stringify(host)}`);
  }
  return `https://${host.toLowerCase()}`;
}

/**
 * The base of a provider found by host name (`domain`) or, instead, by a
 * whole base URL (`baseUrl`: a test server on loopback, a proxy). Exactly one
 * of them; `TypeError` otherwise.
 */
export function domainOrBaseUrl(options: { domain?: string; baseUrl?: string }, profile: string): string {
  if ((options.domain === undefined) === (options.baseUrl === undefined)) {
    throw new TypeError(`${profile}: give either domain or baseUrl`);
  }
  return options.baseUrl === undefined ? httpsOrigin(options.domain ?? '', `${profile}: domain`) : baseUrl(options.baseUrl, `${profile}: baseUrl`);
}

/** `value` as one path segment (a realm, a tenant, an authorization server id); `TypeError` when it is empty or has a `/`. */
export function pathSegment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('/') || value === '.' || value === '..') {
    throw new TypeError(`${what} must be one non-empty path segment, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}
