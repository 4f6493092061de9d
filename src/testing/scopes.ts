/**
 * Scope checks (RFC 6749 §3.3) and the grant-only scopes quirk (Path of Exile:
 * `service:*` only through client credentials).
 */
import { OAuthFailure } from './responses.js';
import type { ServerState } from './serverState.js';
import type { TestClient } from './types.js';

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The scopes of a `scope` parameter; with `delimiter` `','` (GitHub, Slack) commas separate them too. */
export function parseScope(scope: string | undefined, delimiter: ',' | undefined = undefined): string[] {
  if (scope === undefined || scope === '') return [];
  const scopes = scope.split(delimiter === ',' ? /[ ,]/ : ' ');
  for (const token of scopes) {
    if (!SCOPE_TOKEN.test(token)) throw new OAuthFailure('invalid_scope', `malformed scope ${JSON.stringify(scope)}`);
  }
  return [...new Set(scopes)];
}

function patternMatches(pattern: string, scope: string): boolean {
  return pattern.endsWith('*') ? scope.startsWith(pattern.slice(0, -1)) : scope === pattern;
}

/** The requested scopes, if the client may have every one of them through `grantType`. */
export function checkScopes(state: ServerState, client: TestClient, requested: string[], grantType: string): string[] {
  for (const scope of requested) {
    if (!client.scopes.includes(scope)) {
      throw new OAuthFailure('invalid_scope', `client ${client.clientId} may not request scope ${scope}`);
    }
    for (const [pattern, grants] of Object.entries(state.config.quirks.grantOnlyScopes ?? {})) {
      if (patternMatches(pattern, scope) && !grants.includes(grantType)) {
        throw new OAuthFailure('invalid_scope', `scope ${scope} is only available through ${grants.join(', ')}`);
      }
    }
  }
  return requested;
}
