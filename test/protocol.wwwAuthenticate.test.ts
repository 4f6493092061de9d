/**
 * The `WWW-Authenticate` tokenizer: what it reads from real headers, that it
 * reads back any auth-params written by the RFC 9110 grammar, and that its
 * work grows linearly with the header, adversarial ones included.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, scanWwwAuthenticate } from '../src/protocol/wwwAuthenticate.js';

describe('parseWwwAuthenticate', () => {
  it.each([
    ['Bearer realm="a, b", error=invalid_token, scope="x y", error="second"', { realm: 'a, b', error: 'invalid_token', scope: 'x y' }],
    [
      'Bearer realm="example", error="invalid_token", error_description="The access token \\"expired\\""',
      { realm: 'example', error: 'invalid_token', error_description: 'The access token "expired"' },
    ],
    ['Bearer', {}],
    ['Basic realm="simple", Bearer realm="api", error="insufficient_scope", scope="read write"', { realm: 'simple', error: 'insufficient_scope', scope: 'read write' }],
    ['Bearer error = "invalid_token" , error_description = "bad"', { error: 'invalid_token', error_description: 'bad' }],
    ['Bearer Error="invalid_token", REALM=r', { error: 'invalid_token', realm: 'r' }],
    ['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"', { realm: 'apps', type: '1', title: 'Login to "apps"' }],
    ['DPoP algs="ES256 PS256", error="use_dpop_nonce"', { algs: 'ES256 PS256', error: 'use_dpop_nonce' }],
    ['Bearer realm=""', { realm: '' }],
    ['Bearer a="x\\\\", b=c', { a: 'x\\', b: 'c' }],
    ['Bearer\ta=1,\tb=2', { a: '1', b: '2' }],
    ['Bearer a=1,,b=2', { a: '1', b: '2' }],
    ['Bearer realm="x" error="y"', { realm: 'x', error: 'y' }],
    // A token68 credential is no auth-param.
    ['Negotiate YIIBhAYGKwYBBQUCoIIBeDCCAXSgGDAWBgkqhkiC9xIBAgIGCSqGSIb3EgECAg==', {}],
    ['Bearer abc123==', {}],
    // Nothing after an unterminated quoted-string can be told apart from its content.
    ['Bearer realm="unterminated, error=invalid_token', {}],
    ['Bearer __proto__=x', { ['__proto__']: 'x' }],
  ])('reads %j', (header, expected) => {
    const params = parseWwwAuthenticate(header);
    expect(params).toEqual(expected);
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
  });

  const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
  const quotable = fc.string({ unit: fc.constantFrom(...' !"#$%&()*+,-./:;<=>?@[\\]^_`{|}~aZ09\t'), maxLength: 20 });
  const param = fc.record({
    name: token,
    value: fc.oneof(token.map((value) => ({ value, wire: value })), quotable.map((value) => ({ value, wire: `"${value.replace(/["\\]/g, '\\$&')}"` }))),
  });

  test.prop([token, fc.uniqueArray(param, { selector: (p) => p.name.toLowerCase(), maxLength: 6 })])(
    'reads back every auth-param of a challenge written by the RFC 9110 grammar',
    (scheme, params) => {
      const header = `${scheme} ${params.map((p) => `${p.name}=${p.value.wire}`).join(', ')}`;
      const expected = Object.fromEntries(params.map((p) => [p.name.toLowerCase(), p.value.value]));
      expect(parseWwwAuthenticate(header)).toEqual(expected);
    },
  );
});

describe('the tokenizer does work linear in the header length', () => {
  // The kinds of header that made a backtracking pattern slow, or that could make a tokenizer step back.
  const adversarial: Record<string, (size: number) => string> = {
    'a run of token characters': (size) => 'a'.repeat(size),
    'a run of token characters, then "="': (size) => `${'a'.repeat(size - 1)}=`,
    'tokens separated by long whitespace': (size) => `a${' '.repeat(size - 2)}b`,
    'repeated a="': (size) => 'a="'.repeat(size / 4),
    'repeated a=\\"': (size) => 'a=\\"'.repeat(size / 4),
    'unbalanced quotes': (size) => '"a="'.repeat(size / 4),
    'commas': (size) => ','.repeat(size),
    'a quoted run of backslashes': (size) => `x="${'\\'.repeat(size - 3)}`,
    'empty parameters': (size) => 'a=,'.repeat(size / 3),
    'token68 padding': (size) => 'a=='.repeat(size / 3),
  };

  it.each(Object.entries(adversarial))('%s: 64 KiB costs about four times 16 KiB, a few steps per character', (_kind, make) => {
    const small = make(16 * 1024);
    const large = make(64 * 1024);
    const smallSteps = scanWwwAuthenticate(small).steps;
    const largeSteps = scanWwwAuthenticate(large).steps;
    expect(smallSteps).toBeLessThanOrEqual(3 * small.length + 8);
    expect(largeSteps).toBeLessThanOrEqual(3 * large.length + 8);
    expect(largeSteps).toBeLessThanOrEqual(4.5 * smallSteps);
  });

  test.prop([fc.string({ unit: fc.constantFrom('a', 'B', '=', '"', '\\', ',', ' ', '\t', '!'), maxLength: 2000 })])(
    'for any header the tokenizer looks at most three times at each character',
    (header) => {
      expect(scanWwwAuthenticate(header).steps).toBeLessThanOrEqual(3 * header.length);
    },
  );
});
