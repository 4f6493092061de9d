/**
 * Scopes that some providers (GitHub, Slack) answer comma-separated, where
 * RFC 6749 §3.3 separates them with spaces.
 */

/** A token response's `scope` with commas for separators (GitHub, Slack) as RFC 6749 §3.3 spells it: spaces. */
export function spaceSeparatedScope(scope: unknown): unknown {
  if (typeof scope !== 'string') return scope;
  return scope
    .split(/[ ,]/)
    .filter((item) => item !== '')
    .join(' ');
}
