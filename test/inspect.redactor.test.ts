/**
 * `createRedactor()`: what it learns, what it leaves alone, and how much it
 * keeps. The flow recorder and the inspector sanitizers are built on it.
 */
import { describe, expect, it } from 'vitest';
import { createRedactor, redact, redactString } from '../src/inspect/index.js';

const BOT_TOKEN = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';

/** A TokenSet as the protocol functions build it from a Slack-style token response. */
function slackTokens() {
  return {
    accessToken: 'xoxp-1234-5678-91011-00e4dd9cbeb9e0c4cb0e6ac5f',
    tokenType: 'Bearer',
    scope: ['chat:write'],
    raw: {
      access_token: 'xoxp-1234-5678-91011-00e4dd9cbeb9e0c4cb0e6ac5f',
      token_type: 'Bearer',
      scope: 'chat:write,commands',
      expires_in: 43200,
      error_description: 'nothing went wrong here',
      bot: { bot_user_id: 'U0KRQLJ9H', bot_access_token: BOT_TOKEN },
      team: { id: 'T9', name: 'Softball Team' },
    },
  };
}

describe('createRedactor', () => {
  it('redacts every string of a TokenSet raw body except the fields that describe the tokens', () => {
    const copy = createRedactor().redact(slackTokens());
    expect(copy).toEqual({
      accessToken: '[redacted]',
      tokenType: 'Bearer',
      scope: ['chat:write'],
      raw: {
        access_token: '[redacted]',
        token_type: 'Bearer',
        scope: 'chat:write,commands',
        expires_in: 43200,
        error_description: 'nothing went wrong here',
        bot: { bot_user_id: '[redacted]', bot_access_token: '[redacted]' },
        // `T9` is too short to be learned.
        team: { id: 'T9', name: '[redacted]' },
      },
    });
  });

  it('treats any object with a string access_token as a token response body, such as an error cause', () => {
    const error = new Error('the token response has an invalid expires_in', { cause: { access_token: 'at-0123456789', expires_in: 'soon', bot: { bot_access_token: BOT_TOKEN } } });
    const text = JSON.stringify(createRedactor().redact({ error }));
    expect(text).not.toContain(BOT_TOKEN);
    expect(text).toContain('"expires_in":"soon"');
  });

  it('redacts a learned value in later values, inside text, URLs, JSON text, Map and Set entries and keys', () => {
    const redactor = createRedactor();
    redactor.learn({ tokens: slackTokens() });
    const later = redactor.redact({
      note: `token is ${BOT_TOKEN}.`,
      url: new URL(`https://app.example/debug?t=${BOT_TOKEN}`),
      json: JSON.stringify({ anything: BOT_TOKEN }),
      map: new Map([['k', BOT_TOKEN]]),
      set: new Set([`${BOT_TOKEN}!`]),
      byToken: { [BOT_TOKEN]: 1 },
    });
    expect(later).toEqual({
      note: 'token is [redacted].',
      url: 'https://app.example/debug?t=[redacted]',
      json: '{"anything":"[redacted]"}',
      map: { k: '[redacted]' },
      set: ['[redacted]!'],
      byToken: { '[redacted]': 1 },
    });
  });

  it('redacts a value in its URL-encoded, form-encoded and JSON-escaped forms', () => {
    const secret = 'a/b+c=d "e" ~f';
    const redactor = createRedactor();
    redactor.learn({ client_secret: secret });
    const text = redactor.redactString(
      [encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString(), JSON.stringify({ x: secret }), new URL(`https://x.example/?q=${encodeURIComponent(secret)}`).href].join(' | '),
    );
    expect(text).toBe('[redacted] | x=[redacted] | {"x":"[redacted]"} | https://x.example/?q=[redacted]');
  });

  it('learns from secrets found by name inside text: URL parameters, JSON members, credentials', () => {
    const redactor = createRedactor();
    redactor.redactString('https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz');
    redactor.redactString('{"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}');
    redactor.redactString('Authorization: Bearer mF_9.B5f-4.1JqM');
    expect(redactor.redactString('SplxlOBeZQQYbYS6WxSbIA, tGzv3JOkF0XG5Qx2TlKWIA, mF_9.B5f-4.1JqM')).toBe('[redacted], [redacted], [redacted]');
  });

  it('learns a string given directly as a whole', () => {
    const redactor = createRedactor();
    redactor.learn('a-token-from-elsewhere');
    expect(redactor.redactString('sent a-token-from-elsewhere twice: a-token-from-elsewhere')).toBe('sent [redacted] twice: [redacted]');
  });

  it('does not learn short values, so common words are never redacted by value', () => {
    const redactor = createRedactor();
    redactor.learn({ code: 'read', password: 'Bearer', token: '   short   ' });
    expect(redactor.redact({ scope: 'read', tokenType: 'Bearer', note: 'short' })).toEqual({ scope: 'read', tokenType: 'Bearer', note: 'short' });
    const lenient = createRedactor({ minLength: 4 });
    lenient.learn({ code: 'read' });
    expect(lenient.redactString('scope: read')).toBe('scope: [redacted]');
  });

  it('keeps an error code, and does not learn it', () => {
    const redactor = createRedactor();
    expect(redactor.redact({ error: { name: 'OAuthError', code: 'invalid_grant', retryable: false } })).toEqual({ error: { name: 'OAuthError', code: 'invalid_grant', retryable: false } });
    expect(redactor.redactString('invalid_grant')).toBe('invalid_grant');
  });

  it('keeps at most maxValues learned values, forgetting the least recently seen first', () => {
    const redactor = createRedactor({ maxValues: 3 });
    const values = ['first-secret-value', 'second-secret-value', 'third-secret-value', 'fourth-secret-value'];
    redactor.learn(values[0]);
    redactor.learn(values[1]);
    redactor.learn(values[2]);
    // Seeing the first again makes the second the least recently seen.
    expect(redactor.redactString(values[0] ?? '')).toBe('[redacted]');
    redactor.learn(values[3]);
    expect(values.map((value) => redactor.redactString(value))).toEqual(['[redacted]', 'second-secret-value', '[redacted]', '[redacted]']);
  });

  it('redacts overlapping learned values as one', () => {
    const redactor = createRedactor();
    redactor.learn('abcdefgh-1234');
    redactor.learn('1234-ijklmnop');
    expect(redactor.redactString('x abcdefgh-1234-ijklmnop y')).toBe('x [redacted] y');
  });

  it('learns a value that has no URL encoding (a lone surrogate) and still redacts it', () => {
    const secret = 'half-a-pair-\uD800-of-it';
    const copy = createRedactor().redact({ password: secret, note: `copied: ${secret}` });
    expect(copy).toEqual({ password: '[redacted]', note: 'copied: [redacted]' });
  });

  it('learns from an object met deep in a value and again near its root, where more of it is copied', () => {
    const shared = { inner: { password: 'deep-and-shallow-secret' } };
    const deep = [[[[[[[[[[shared]]]]]]]]]];
    const text = JSON.stringify(createRedactor().redact({ deep, shallow: shared, note: 'copied: deep-and-shallow-secret' }));
    expect(text).not.toContain('deep-and-shallow-secret');
  });

  it('keeps a property named __proto__ as data', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const copy = createRedactor().redact(value) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe('redact and redactString (no memory between calls)', () => {
  it('redact learns within the one value it is given', () => {
    const copy = redact({ tokens: slackTokens(), note: `copied: ${BOT_TOKEN}` });
    expect(JSON.stringify(copy)).not.toContain(BOT_TOKEN);
  });

  it('remembers nothing from one call to the next', () => {
    redact({ tokens: slackTokens() });
    expect(redactString(`copied: ${BOT_TOKEN}`)).toBe(`copied: ${BOT_TOKEN}`);
  });
});
