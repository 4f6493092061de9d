/**
 * Scopes that a provider reserves to some grants (`quirks.scopeGrants`; Path
 * of Exile: `service:*` only through client credentials), and how a provider
 * separates scopes on the wire (`quirks.scopeDelimiter`).
 */
import { configurationError } from './providerRules.js';
import type { GrantType, ProviderConfig } from './types.js';

function matches(pattern: string, scope: string): boolean {
  return pattern.endsWith('*') ? scope.startsWith(pattern.slice(0, -1)) : scope === pattern;
}

/**
 * Throws `OAuthError('configuration_error')` when a scope is reserved by
 * `provider.quirks.scopeGrants` to grants other than `grant`: the request is
 * refused before anything is sent, as the server would refuse it anyway.
 */
export function assertScopesAllowed(provider: ProviderConfig, grant: GrantType, scopes: readonly string[]): void {
  const reserved = provider.quirks?.scopeGrants;
  if (reserved === undefined) return;
  for (const scope of scopes) {
    for (const [pattern, grants] of Object.entries(reserved)) {
      if (matches(pattern, scope) && !grants.includes(grant)) {
        throw configurationError(`scope ${scope} is only granted through ${grants.join(', ') || 'no grant'}, not ${grant}`);
      }
    }
  }
}

/** Moved to `validators.ts` (the one scope syntax rule); re-exported for the protocol's own imports. */
export { assertScopeSyntax } from './validators.js';

/**
 * The `scope` parameter: the scopes joined with the provider's delimiter
 * (`quirks.scopeDelimiter`, default a space as RFC 6749 §3.3 says). With a
 * comma (Slack), a scope that contains one would read as two: `TypeError`.
 */
export function joinScopes(provider: ProviderConfig, scopes: readonly string[]): string {
  const delimiter = provider.quirks?.scopeDelimiter ?? ' ';
  if (delimiter !== ' ') {
    for (const scope of scopes) {
      if (scope.includes(delimiter)) throw new TypeError(`scope ${JSON.stringify(scope)} contains the provider's scope delimiter ${JSON.stringify(delimiter)}`);
    }
  }
  return scopes.join(delimiter);
}
