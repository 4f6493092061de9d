/**
 * Redaction of tokens and secrets from anything a recording keeps: tokens
 * must never reach a log (DESIGN.md, security defaults; RFC 6750 §5.3).
 */

export const REDACTED = '[redacted]';

/**
 * Property names whose values are secrets, compared without case, `_` or `-`
 * (so `access_token`, `accessToken` and `Access-Token` all match).
 */
const SECRET_NAMES = new Set([
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'token',
  'code',
  'codeverifier',
  'clientsecret',
  'secret',
  'devicecode',
  'password',
  'apikey',
  'authorization',
  'assertion',
  'clientassertion',
  'cookie',
  'setcookie',
  'privatekey',
]);

/** The same names as they appear in URLs, form bodies and JSON text. */
const WIRE_NAMES = 'access_token|refresh_token|id_token|token|code|code_verifier|client_secret|device_code|password|api_key|assertion|client_assertion';
const QUERY_PARAMETER = new RegExp(`([?&#;]|^)(${WIRE_NAMES})=([^&#\\s"'<>]*)`, 'gi');
const JSON_MEMBER = new RegExp(`"(${WIRE_NAMES}|accessToken|refreshToken|idToken|codeVerifier|clientSecret|deviceCode|apiKey)"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, 'gi');
// RFC 6750 §2.1 / RFC 7617: credentials after an authentication scheme.
const CREDENTIALS = /\b(Bearer|Basic|DPoP)\s+[A-Za-z0-9\-._~+/]+=*/gi;

const MAX_DEPTH = 12;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.toLowerCase().replace(/[-_]/g, ''));
}

/** A string with URL parameters, JSON members and `Authorization` credentials that carry secrets blanked out. */
export function redactString(text: string): string {
  return text
    .replace(QUERY_PARAMETER, (_match, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(JSON_MEMBER, (_match, name: string) => `"${name}":"${REDACTED}"`)
    .replace(CREDENTIALS, (_match, scheme: string) => `${scheme} ${REDACTED}`);
}

/**
 * A JSON-safe copy of `value` with secrets replaced by `[redacted]`: values of
 * secret-named properties, and secrets inside strings. Functions, actor
 * references, binary data, cycles and very deep values are summarised.
 * An error's `code` is kept: it is an error code, not an authorization code.
 */
export function redact(value: unknown): unknown {
  return copy(value, 0, new WeakSet());
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (depth >= MAX_DEPTH) return '[…]';
  if (seen.has(object)) return '[circular]';
  seen.add(object);
  try {
    if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return `[${object.byteLength} bytes]`;
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
    if (object instanceof URL) return redactString(object.href);
    if (isActorRef(object)) return `[actor ${object.id ?? object.sessionId}]`;
    if (Array.isArray(object)) return object.map((item) => copy(item, depth + 1, seen));
    if (object instanceof Map) return copyEntries([...object.entries()].map(([k, v]) => [String(k), v]), depth, seen, false);
    if (object instanceof Set) return [...object].map((item) => copy(item, depth + 1, seen));
    const errorLike = object instanceof Error || isErrorData(object);
    const entries: Array<[string, unknown]> = Object.entries(object);
    if (object instanceof Error) {
      entries.unshift(['name', object.name], ['message', object.message]);
      if (object.cause !== undefined) entries.push(['cause', object.cause]);
    }
    return copyEntries(entries, depth, seen, errorLike);
  } finally {
    seen.delete(object);
  }
}

function copyEntries(entries: Array<[string, unknown]>, depth: number, seen: WeakSet<object>, errorLike: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const keepCode = errorLike && key === 'code';
    result[key] = !keepCode && isSecretName(key) && item !== undefined && item !== null ? REDACTED : copy(item, depth + 1, seen);
  }
  return result;
}

/** The plain-data form of an error (`OAuthErrorJSON`, an error in machine context). */
function isErrorData(object: object): boolean {
  const record = object as { name?: unknown; retryable?: unknown };
  return record.name === 'OAuthError' || typeof record.retryable === 'boolean';
}

function isActorRef(object: object): object is { id?: string; sessionId: string } {
  const record = object as { sessionId?: unknown; send?: unknown };
  return typeof record.sessionId === 'string' && typeof record.send === 'function';
}
