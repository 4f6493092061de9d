/**
 * Keeps a confidential client's secret out of what a server hands on: a
 * provider that echoes the credentials it received (in an error description,
 * an `error_uri`, an extra field of a token response) must not reach the
 * browser through the code-exchange handler. Nor must the other credentials
 * of a token response that are not the session's (Slack's nested tokens).
 */
import { basicCredentials } from '../protocol/clientAuth.js';

/** What a spelling of the secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * The shortest piece of base64 taken from the middle of a longer encoding
 * that is still redacted: shorter runs would match random tokens by chance
 * (64⁻⁸ per position), and a whole encoding is redacted whatever its length.
 */
const MIN_BASE64_CORE = 8;

/** Replacement passes before a string that still holds a spelling is dropped whole. */
const MAX_PASSES = 3;

/**
 * A function that returns a JSON value with every spelling of the client
 * secret (and of the Basic credentials built from it) replaced by
 * `[redacted]` in every string and field name, at any depth. Numbers,
 * booleans and `null` pass as they are.
 *
 * The spellings: the secret as it is; percent-encoded (`encodeURIComponent`,
 * hex in either case) and form-encoded (`+` for a space, WHATWG URL); inside
 * a JSON string literal (escaped, also with `\uXXXX` for non-ASCII and `\/`);
 * base64 and base64url of the secret, of `id:secret` and of the form-encoded
 * `id:secret` of an RFC 6749 §2.3.1 Basic header, and the stretch of base64
 * that the secret alone decides inside any longer base64 text — and each of
 * those base64 texts percent- and form-encoded in turn (a query string).
 */
export function secretRedactor(clientId: string, clientSecret: string): (value: unknown) => unknown {
  const spellings = secretSpellings(clientId, clientSecret);
  const alternatives = [...spellings].sort((a, b) => b.length - a.length).map(pattern);
  const every = new RegExp(alternatives.join('|'), 'g');
  const any = new RegExp(alternatives.join('|'));
  // The marker itself must not spell the secret (a secret such as `dacte`); then nothing replaces it.
  const marker = any.test(REDACTED) ? '' : REDACTED;

  const redactText = (text: string): string => {
    let result = text;
    // A replacement can join its neighbours into a new spelling; a few passes undo that, then the string goes.
    for (let pass = 0; pass < MAX_PASSES && any.test(result); pass += 1) result = result.replace(every, marker);
    return any.test(result) ? marker : result;
  };

  const redactValue = (value: unknown): unknown => {
    if (typeof value === 'string') return redactText(value);
    if (Array.isArray(value)) return value.map(redactValue);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [redactText(name), redactValue(item)]));
    }
    return value;
  };
  return redactValue;
}

function secretSpellings(clientId: string, clientSecret: string): Set<string> {
  const credentials = [
    clientSecret,
    `${clientId}:${clientSecret}`,
    // RFC 6749 §2.3.1: the form-encoded pair a Basic header carries, exactly as the protocol builds it.
    atob(basicCredentials(clientId, clientSecret).slice('Basic '.length)),
  ];
  const [percentId, percentSecret] = [percentEncode(clientId), percentEncode(clientSecret)];
  // Some providers percent-encode the pair instead (`encodeURIComponent`, `%20` for a space).
  if (percentId !== undefined && percentSecret !== undefined) credentials.push(`${percentId}:${percentSecret}`);

  const bases = new Set<string>([clientSecret]);
  for (const text of credentials) {
    const bytes = new TextEncoder().encode(text);
    for (const alphabet of ['base64', 'base64url'] as const) {
      const encoded = base64(bytes, alphabet);
      bases.add(encoded);
      // With its padding too, so none of it is left beside the marker.
      bases.add(encoded.padEnd(Math.ceil(encoded.length / 4) * 4, '='));
    }
  }
  const secretBytes = new TextEncoder().encode(clientSecret);
  for (const alphabet of ['base64', 'base64url'] as const) {
    for (const core of base64Cores(secretBytes, alphabet)) if (core.length >= MIN_BASE64_CORE) bases.add(core);
  }

  const spellings = new Set<string>();
  for (const base of bases) {
    for (const spelling of textSpellings(base)) if (spelling !== '') spellings.add(spelling);
  }
  return spellings;
}

/** One text as it may stand in a URL, a form, or a JSON string literal. */
function textSpellings(text: string): string[] {
  const json = JSON.stringify(text).slice(1, -1);
  const spellings = [
    text,
    formEncode(text),
    json,
    json.replaceAll('/', '\\/'),
    json.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ];
  const percent = percentEncode(text);
  if (percent !== undefined) spellings.push(percent);
  return spellings;
}

/** `encodeURIComponent`, or nothing for a string it refuses (a lone surrogate cannot be sent that way). */
function percentEncode(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** application/x-www-form-urlencoded (WHATWG URL): a space is `+`, and `!'()~` are escaped, unlike `encodeURIComponent`. */
function formEncode(text: string): string {
  return new URLSearchParams([['v', text]]).toString().slice(2);
}

/** A regular expression for one spelling: literal, except that percent and `\u` escapes match hex in either case. */
function pattern(spelling: string): string {
  return spelling.replace(/%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|[\\^$.*+?()[\]{}|/]/g, (token) => {
    if (token.startsWith('%')) return `%${anyCase(token.slice(1))}`;
    if (token.length > 1) return `\\\\u${anyCase(token.slice(2))}`;
    return `\\${token}`;
  });
}

function anyCase(hex: string): string {
  return Array.from(hex, (digit) => (/[0-9]/.test(digit) ? digit : `[${digit.toLowerCase()}${digit.toUpperCase()}]`)).join('');
}

const ALPHABETS = {
  base64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
} as const;

/** Base64 without padding (a prefix of the padded form, so it also matches where a padded one was cut short). */
function base64(bytes: Uint8Array, alphabet: keyof typeof ALPHABETS): string {
  return sextets(bytes, 0, bytes.length * 8, alphabet);
}

/**
 * The characters of a longer base64 text that only the secret's bytes decide,
 * for each of the three offsets (mod 3) the secret may start at in it.
 */
function base64Cores(secret: Uint8Array, alphabet: keyof typeof ALPHABETS): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const padded = new Uint8Array(offset + secret.length);
    padded.set(secret, offset);
    const start = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + secret.length) * 8) / 6);
    if (end > start) cores.push(sextets(padded, start * 6, end * 6, alphabet));
  }
  return cores;
}

/** The base64 characters for bits `[from, to)` of `bytes` (a final partial sextet is filled with zero bits). */
function sextets(bytes: Uint8Array, from: number, to: number, alphabet: keyof typeof ALPHABETS): string {
  const letters = ALPHABETS[alphabet];
  let text = '';
  for (let bit = from; bit < to; bit += 6) {
    let value = 0;
    for (let i = 0; i < 6; i += 1) {
      const at = bit + i;
      const byte = bytes[at >> 3] ?? 0;
      value = (value << 1) | (at < bytes.length * 8 ? (byte >> (7 - (at & 7))) & 1 : 0);
    }
    text += letters[value];
  }
  return text;
}

/** A nested field that carries a credential: `access_token`, `refresh_token`, `bot_access_token`, `client_secret`… */
export const CREDENTIAL_NAME = /(?:^|_)(?:token|secret)$/i;

/**
 * An extra of the provider's answer without the credentials nested in it: a
 * response may carry more tokens than the session's (Slack: the bot token at
 * the top, the user token and each token's refresh token in `authed_user`),
 * and the browser gets only the session's own, at the top. What describes
 * them (`token_type`, `scope`, `id`) stays.
 */
export function withoutNestedCredentials(value: unknown, depth = 0): unknown {
  if (depth > 16 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => withoutNestedCredentials(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([name]) => !CREDENTIAL_NAME.test(name))
      .map(([name, item]) => [name, withoutNestedCredentials(item, depth + 1)]),
  );
}
