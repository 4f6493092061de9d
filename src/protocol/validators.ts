/**
 * The syntax rules every entry checks its input with, each in one place: the
 * protocol's request builders, the client's and the server helpers' option
 * schemas and the token cache's keys all import them from here.
 */

import type { ClientAuthMethod } from './types.js';

/** The client authentication methods the library implements (RFC 6749 §2.3, OpenID Connect Core §9). */
export const CLIENT_AUTH_METHODS = [
  'none',
  'client_secret_post',
  'client_secret_basic',
  'private_key_jwt',
  'client_secret_jwt',
] as const satisfies readonly ClientAuthMethod[];

/** The ones that send a client secret. */
export const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const satisfies readonly ClientAuthMethod[];

/** Whether `value` names a client authentication method the library implements. */
export function isClientAuthMethod(value: unknown): value is ClientAuthMethod {
  return (CLIENT_AUTH_METHODS as readonly unknown[]).includes(value);
}

/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Whether `value` is one RFC 6749 §3.3 scope token (non-empty, no space, printable ASCII except `"` and `\`). */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

/** Checks scopes for RFC 6749 §3.3 syntax; throws `TypeError` on a malformed one. */
export function assertScopeSyntax(scopes: readonly string[]): void {
  for (const scope of scopes) {
    if (!isScopeToken(scope)) throw new TypeError(`scope ${JSON.stringify(scope)} is not a valid scope token (RFC 6749 §3.3)`);
  }
}

/**
 * Whether `value` is an RFC 8707 §2 resource indicator: an absolute URI
 * without a fragment — not even an empty one (`https://api.example/#`, whose
 * parsed `hash` is empty).
 */
export function isResourceIndicator(value: unknown): value is string {
  return typeof value === 'string' && URL.canParse(value) && !value.includes('#');
}

/** Whether `value` is a plain object (not `null`, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
