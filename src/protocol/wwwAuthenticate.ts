/**
 * The auth-params of a `WWW-Authenticate` header (RFC 9110 §11.6.1, RFC 6750
 * §3), read by a tokenizer that walks the header once.
 */

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[char.charCodeAt(0)] = 1;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** What a tokenizer pass found, and how many characters it looked at to find it. */
export interface AuthParamScan {
  params: Record<string, string>;
  /** Characters looked at: at most a small multiple of the header's length, whatever the header holds. */
  steps: number;
}

/**
 * Reads the auth-params of every challenge in the header, left to right,
 * without ever stepping back: the work is linear in the header's length (a
 * backtracking pattern took quadratic time on a long run of token
 * characters, seconds for a 64 KiB header). Names are lower-cased and the
 * first of each wins; a value is a quoted-string (RFC 9110 §5.6.4, quoted
 * pairs unescaped) or everything up to whitespace, a comma or a quote. An
 * auth-scheme, a token68 and anything unparsable are skipped; an unterminated
 * quoted-string ends the reading, since nothing after it can be told apart
 * from its content.
 */
export function scanWwwAuthenticate(header: string): AuthParamScan {
  const params: Record<string, string> = {};
  const length = header.length;
  let steps = 0;
  const at = (index: number): number => {
    steps++;
    return header.charCodeAt(index);
  };
  // RFC 9110 §5.6.3: BWS around the "=" of an auth-param.
  const skipBws = (from: number): number => {
    let index = from;
    while (index < length) {
      const code = at(index);
      if (code !== SPACE && code !== TAB) break;
      index++;
    }
    return index;
  };
  const keep = (name: string, value: string): void => {
    const key = name.toLowerCase();
    // defineProperty: a parameter named `__proto__` is data like any other.
    if (!Object.hasOwn(params, key)) Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
  };

  let index = 0;
  while (index < length) {
    if (!isTchar(at(index))) {
      index++; // a separator, whitespace, or a stray character between challenges
      continue;
    }
    const nameStart = index;
    while (index < length && isTchar(at(index))) index++;
    const name = header.slice(nameStart, index);
    let cursor = skipBws(index);
    if (cursor >= length || at(cursor) !== EQUALS) {
      index = cursor; // an auth-scheme, or a token68 without padding
      continue;
    }
    cursor = skipBws(cursor + 1);
    if (cursor >= length) break;
    const first = at(cursor);
    if (first === QUOTE) {
      let value = '';
      let segment = cursor + 1;
      let position = segment;
      let closed = false;
      while (position < length) {
        const code = at(position);
        if (code === BACKSLASH) {
          // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): the next character stands for itself.
          value += header.slice(segment, position);
          segment = position + 1;
          position += 2;
          continue;
        }
        if (code === QUOTE) {
          value += header.slice(segment, position);
          closed = true;
          position++;
          break;
        }
        position++;
      }
      if (!closed) break;
      keep(name, value);
      index = position;
      continue;
    }
    if (first === EQUALS || first === COMMA) {
      index = cursor; // a token68's padding ("abc=="), or a parameter without a value
      continue;
    }
    let end = cursor;
    while (end < length) {
      const code = at(end);
      if (code === SPACE || code === TAB || code === COMMA || code === QUOTE) break;
      end++;
    }
    keep(name, header.slice(cursor, end));
    index = end;
  }
  return { params, steps };
}

/** The auth-params of a `WWW-Authenticate` header (RFC 9110 §11.6.1, RFC 6750 §3); the first of each name wins. */
export function parseWwwAuthenticate(header: string): Record<string, string> {
  return scanWwwAuthenticate(header).params;
}
