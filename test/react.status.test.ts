/**
 * `selectAuthStatus`: the status `useAuth()` and `RequireAuth` decide by,
 * read from the machine's tags alone — the tag sets every state carries
 * (test/machines.tags.test.ts pins them), and the order in which they win.
 */
import { describe, expect, it } from 'vitest';
import { isAuthorizationCallback, selectAccessToken, selectAuthError, selectAuthStatus, type AuthSnapshot } from '../src/react/index.js';
import { OAuthError } from '../src/errors.js';

/** A snapshot with just these tags and this context: all the selectors read. */
function snapshot(tags: string[], context: object = {}): AuthSnapshot {
  return { tags: new Set(tags), context, hasTag: (tag: string) => tags.includes(tag) } as unknown as AuthSnapshot;
}

describe('selectAuthStatus', () => {
  it.each([
    [[], 'loading'], // restoring (and starting, before discovery)
    [['busy'], 'loading'], // discovering: busy, but not ready yet
    [['error'], 'error'], // discovery failed: in error without ever being ready
    [['error', 'ready'], 'error'], // error, restoreFailed
    [['ready'], 'signedOut'], // idle
    [['busy', 'ready'], 'busy'], // redirecting, exchanging, loggingOut
    [['awaitingCallback', 'ready'], 'awaitingCallback'],
    [['ready', 'signedIn'], 'signedIn'], // authenticated
    [['busy', 'ready', 'renewing', 'signedIn'], 'signedIn'], // refreshing: still signed in
  ])('tags %j are %s', (tags, status) => {
    expect(selectAuthStatus(snapshot(tags))).toBe(status);
  });
});

describe('selectAuthError and selectAccessToken', () => {
  it('give the machine\'s error only while it is in error, as one OAuthError per error object', () => {
    const error = { name: 'OAuthError' as const, code: 'access_denied', retryable: false };
    const first = selectAuthError(snapshot(['error', 'ready'], { error }));
    expect(first).toBeInstanceOf(OAuthError);
    expect(first?.code).toBe('access_denied');
    expect(selectAuthError(snapshot(['error', 'ready'], { error }))).toBe(first);
    // A renewal that failed transiently keeps its error in context while the session goes on: no error to show.
    expect(selectAuthError(snapshot(['busy', 'ready', 'renewing', 'signedIn'], { error }))).toBeUndefined();
  });

  it('give the access token only while signed in', () => {
    const tokens = { accessToken: 'at-1', tokenType: 'Bearer', raw: {} };
    expect(selectAccessToken(snapshot(['ready', 'signedIn'], { tokens }))).toBe('at-1');
    expect(selectAccessToken(snapshot(['busy', 'ready'], { tokens }))).toBeUndefined();
  });
});

describe('isAuthorizationCallback: the page load the provider redeems', () => {
  it.each([
    ['https://app.test/callback?code=c&state=s', true],
    ['https://app.test/callback?error=access_denied&state=s', true],
    ['https://app.test/callback#code=c&state=s', true], // response_mode=fragment
    ['https://app.test/callback?code=c', false], // no state: not an answer to a request of ours
    ['https://app.test/callback?state=s', false],
    ['https://app.test/orders?page=2#section', false],
  ])('%s → %s', (href, expected) => {
    expect(isAuthorizationCallback(new URL(href))).toBe(expected);
  });
});
