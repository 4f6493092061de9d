/**
 * Redaction of tokens and secrets from anything a recording keeps: tokens
 * must never reach a log (RFC 6750 §5.3, RFC 9700 §4.3).
 *
 * Two rules work together. By name: the value of a property named like a
 * secret, and secrets after a secret's name inside text (`code=…`,
 * `"access_token":"…"`, `Bearer …`). By value: what the first rule finds, and
 * every string of a token response body, is learned; a learned value is then
 * redacted wherever it occurs. The second rule is what catches a provider's
 * own names: Slack's bot token is `bot.bot_access_token`, a name no list holds.
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

/**
 * Fields of a token response body that describe the tokens rather than carry
 * one (RFC 6749 §5.1 and §5.2, RFC 8693 §2.2.1, and the expiry variants
 * providers add). Every other string in the body is the provider's own and is
 * learned as a secret: a redacted team name costs less than a leaked token.
 */
const DESCRIPTIVE_BODY_NAMES = new Set([
  'tokentype',
  'issuedtokentype',
  'scope',
  'scopes',
  'expiresin',
  'expiresat',
  'expireson',
  'extexpiresin',
  'refreshexpiresin',
  'refreshtokenexpiresin',
  'notbefore',
  'error',
  'errordescription',
  'erroruri',
]);

/** The same names as they appear in URLs, form bodies and JSON text. */
const WIRE_NAMES = 'access_token|refresh_token|id_token|token|code|code_verifier|client_secret|device_code|password|api_key|assertion|client_assertion';
const QUERY_PARAMETER = new RegExp(`([?&#;]|^)(${WIRE_NAMES})=([^&#\\s"'<>]*)`, 'gi');
const JSON_MEMBER = new RegExp(`"(${WIRE_NAMES}|accessToken|refreshToken|idToken|codeVerifier|clientSecret|deviceCode|apiKey)"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'gi');
// RFC 6750 §2.1 / RFC 7617: credentials after an authentication scheme.
const CREDENTIALS = /\b(Bearer|Basic|DPoP)\s+([A-Za-z0-9\-._~+/]+=*)/gi;

const MAX_DEPTH = 12;
const DEFAULT_MIN_LENGTH = 8;
const DEFAULT_MAX_VALUES = 256;

function normalisedName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(normalisedName(name));
}

export interface RedactorOptions {
  /**
   * Values shorter than this, once trimmed, are not learned, so that words
   * such as `Bearer` or `read` are never redacted by value. Default 8.
   */
  minLength?: number;
  /**
   * How many learned values are kept; beyond it the least recently seen is
   * forgotten (it is then redacted by name only). Default 256.
   */
  maxValues?: number;
}

/**
 * A redactor that remembers the secrets it has seen and redacts them wherever
 * they occur again, also under names no rule knows. The flow recorder and the
 * inspector sanitizers each hold one; share one between them with their
 * `redactor` option.
 */
export interface Redactor {
  /**
   * Remembers the secrets in `value` without copying it: values of
   * secret-named properties (with everything beneath them), secrets after a
   * secret's name inside text, and every string of a token response body (a
   * TokenSet's `raw`, or any object with a string `access_token`) except the
   * fields that describe the tokens (`token_type`, `scope`, `expires_in`,
   * `error`, …). A string given directly is remembered as a whole.
   */
  learn(value: unknown): void;
  /**
   * Learns from `value`, then returns a JSON-safe copy of it with every
   * secret, by name or by value, replaced by `[redacted]`. Learning comes
   * first, so a token is redacted in the very value that brings it.
   */
  redact(value: unknown): unknown;
  /** Learns from `text`, then returns it with secrets by name and every learned value replaced by `[redacted]`. */
  redactString(text: string): string;
}

/** How the strings beneath a property are treated while learning. */
type Scope = 'plain' | 'secret' | 'body';

/** A new redactor with nothing learned yet. */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const minLength = options.minLength ?? DEFAULT_MIN_LENGTH;
  const maxValues = options.maxValues ?? DEFAULT_MAX_VALUES;
  // Learned value → the forms it takes in text. A Map iterates in insertion
  // order, so re-inserting a value on every sighting makes the first key the least recently seen.
  const learned = new Map<string, readonly string[]>();

  const remember = (value: string): void => {
    if (value.trim().length < minLength || value.includes(REDACTED)) return;
    const forms = learned.get(value) ?? formsOf(value);
    learned.delete(value);
    learned.set(value, forms);
    if (learned.size > maxValues) {
      const oldest = learned.keys().next();
      if (oldest.done !== true) learned.delete(oldest.value);
    }
  };

  const learnFromText = (text: string): void => {
    for (const match of text.matchAll(QUERY_PARAMETER)) {
      const value = match[3] ?? '';
      remember(value);
      remember(decodedComponent(value));
    }
    for (const match of text.matchAll(JSON_MEMBER)) remember(decodedJsonString(match[2] ?? ''));
    for (const match of text.matchAll(CREDENTIALS)) remember(match[2] ?? '');
  };

  const learnFrom = (value: unknown, scope: Scope, depth: number, visited: Record<Scope, WeakMap<object, number>>): void => {
    if (typeof value === 'string') {
      if (scope !== 'plain') remember(value);
      learnFromText(value);
      return;
    }
    if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return;
    // Once per object and scope: a value shared by many places (a snapshot's services) is read once,
    // unless it comes again nearer the root, where more of it is copied than was read.
    if ((visited[scope].get(value) ?? MAX_DEPTH) <= depth) return;
    visited[scope].set(value, depth);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || isActorRef(value)) return;
    if (value instanceof URL) {
      learnFrom(value.href, scope, depth, visited);
      return;
    }
    if (Array.isArray(value) || value instanceof Set) {
      for (const item of value) learnFrom(item, scope, depth + 1, visited);
      return;
    }
    const own = scope === 'plain' && isTokenResponseBody(value) ? 'body' : scope;
    const tokenSet = isTokenSet(value);
    const errorLike = isErrorLike(value);
    for (const [key, item] of entriesOf(value)) {
      const inner = tokenSet && key === 'raw' && own !== 'secret' ? 'body' : scopeOf(key, own, errorLike);
      learnFrom(item, inner, depth + 1, visited);
    }
  };

  const learnAll = (value: unknown): void => {
    learnFrom(value, 'plain', 0, { plain: new WeakMap(), secret: new WeakMap(), body: new WeakMap() });
  };

  /** `text` with every occurrence of a learned value, in any of its forms, replaced; overlapping occurrences become one. */
  const replaceLearned = (text: string): string => {
    if (learned.size === 0 || text.length < minLength) return text;
    const spans: Array<[number, number]> = [];
    const found: string[] = [];
    for (const [value, forms] of learned) {
      const before = spans.length;
      for (const form of forms) {
        for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) spans.push([at, at + form.length]);
      }
      if (spans.length > before) found.push(value);
    }
    if (spans.length === 0) return text;
    // A value still in use stays learned however many others arrive.
    for (const value of found) remember(value);
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let result = '';
    let cursor = 0;
    for (const [start, end] of spans) {
      if (end <= cursor) continue;
      result += text.slice(cursor, Math.max(start, cursor));
      if (start >= cursor) result += REDACTED;
      cursor = end;
    }
    return result + text.slice(cursor);
  };

  const scrub = (text: string): string => byName(replaceLearned(text));

  const copy = (value: unknown, depth: number, ancestors: WeakSet<object>): unknown => {
    switch (typeof value) {
      case 'string':
        return scrub(value);
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
    if (ancestors.has(object)) return '[circular]';
    ancestors.add(object);
    try {
      if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return `[${object.byteLength} bytes]`;
      if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
      if (object instanceof URL) return scrub(object.href);
      if (isActorRef(object)) return `[actor ${object.id ?? object.sessionId}]`;
      if (Array.isArray(object) || object instanceof Set) return [...object].map((item) => copy(item, depth + 1, ancestors));
      const errorLike = isErrorLike(object);
      const result: Record<string, unknown> = {};
      for (const [key, item] of entriesOf(object)) {
        const keepCode = errorLike && key === 'code';
        const redacted = !keepCode && isSecretName(key) && item !== undefined && item !== null ? REDACTED : copy(item, depth + 1, ancestors);
        // defineProperty: a key such as `__proto__` is data here, not the copy's prototype.
        Object.defineProperty(result, replaceLearned(key), { value: redacted, enumerable: true, writable: true, configurable: true });
      }
      return result;
    } finally {
      ancestors.delete(object);
    }
  };

  return {
    learn(value) {
      if (typeof value === 'string') remember(value);
      learnAll(value);
    },
    redact(value) {
      learnAll(value);
      return copy(value, 0, new WeakSet());
    },
    redactString(text) {
      learnFromText(text);
      return scrub(text);
    },
  };
}

/**
 * A string with URL parameters, JSON members and `Authorization` credentials
 * that carry secrets blanked out, and the values found there wherever else
 * they occur in `text`.
 */
export function redactString(text: string): string {
  return createRedactor().redactString(text);
}

/**
 * A JSON-safe copy of `value` with secrets replaced by `[redacted]`: values of
 * secret-named properties, secrets inside strings, and every other
 * occurrence in `value` of a secret found there (see `Redactor.learn`).
 * Functions, actor references, binary data, cycles and very deep values are
 * summarised. An error's `code` is kept: it is an error code, not an
 * authorization code. Nothing is remembered between calls; for that, use
 * `createRedactor()`.
 */
export function redact(value: unknown): unknown {
  return createRedactor().redact(value);
}

function byName(text: string): string {
  return text
    .replace(QUERY_PARAMETER, (_match, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(JSON_MEMBER, (_match, name: string) => `"${name}":"${REDACTED}"`)
    .replace(CREDENTIALS, (_match, scheme: string) => `${scheme} ${REDACTED}`);
}

function scopeOf(key: string, parent: Scope, errorLike: boolean): Scope {
  if (parent === 'secret') return 'secret';
  if (errorLike && key === 'code') return 'plain';
  if (isSecretName(key)) return 'secret';
  if (parent === 'body') return DESCRIPTIVE_BODY_NAMES.has(normalisedName(key)) ? 'plain' : 'body';
  return 'plain';
}

/**
 * The forms a value takes where it is copied to: as itself, inside JSON text,
 * as a URL component (as `encodeURIComponent` writes it, as a URL parser
 * rewrites that, and as RFC 3986 §2.1 strictly encodes it), in a form body
 * (`application/x-www-form-urlencoded`), and as a URL parser writes it raw into a query.
 */
function formsOf(value: string): string[] {
  const forms = new Set([value]);
  const add = (encode: () => string): void => {
    try {
      forms.add(encode());
    } catch {
      // A lone surrogate has no URL encoding; the value itself is still there.
    }
  };
  add(() => JSON.stringify(value).slice(1, -1));
  add(() => encodeURIComponent(value));
  add(() => encodeURIComponent(value).replace(/'/g, '%27'));
  add(() => encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`));
  add(() => new URLSearchParams({ v: value }).toString().slice(2));
  // The WHATWG URL query percent-encode set (special schemes): controls, space, `"`, `'`, `<`, `>`, and non-ASCII.
  add(() => value.replace(/[\u0000-\u0020"'<>\u007f-\u{10ffff}]/gu, (char) => encodeURIComponent(char)));
  return [...forms];
}

function decodedComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function decodedJsonString(content: string): string {
  try {
    const decoded: unknown = JSON.parse(`"${content}"`);
    return typeof decoded === 'string' ? decoded : content;
  } catch {
    return content;
  }
}

/** The properties a copy shows: a Map's entries by their keys' text; an error's name, message and cause with its own properties. */
function entriesOf(object: object): Array<[string, unknown]> {
  if (object instanceof Map) return [...object.entries()].map(([key, item]) => [String(key), item]);
  const entries: Array<[string, unknown]> = Object.entries(object);
  if (object instanceof Error) {
    entries.unshift(['name', object.name], ['message', object.message]);
    if (object.cause !== undefined) entries.push(['cause', object.cause]);
  }
  return entries;
}

/** An error, or the plain-data form of one (`OAuthErrorJSON`, an error in machine context). */
function isErrorLike(object: object): boolean {
  if (object instanceof Error) return true;
  if (object instanceof Map) return false;
  const record = object as { name?: unknown; retryable?: unknown };
  return record.name === 'OAuthError' || typeof record.retryable === 'boolean';
}

/** A TokenSet: its `raw` is the token response body as the provider sent it. */
function isTokenSet(object: object): boolean {
  const record = object as { accessToken?: unknown; tokenType?: unknown; raw?: unknown };
  return typeof record.accessToken === 'string' && typeof record.tokenType === 'string' && typeof record.raw === 'object' && record.raw !== null;
}

/** A token response body (RFC 6749 §5.1), also where it is no TokenSet's `raw`: an error's `cause`, a log line. */
function isTokenResponseBody(object: object): boolean {
  return !(object instanceof Map) && typeof (object as { access_token?: unknown }).access_token === 'string';
}

function isActorRef(object: object): object is { id?: string; sessionId: string } {
  const record = object as { sessionId?: unknown; send?: unknown };
  return typeof record.sessionId === 'string' && typeof record.send === 'function';
}
