import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { cleanAddressBar, urlWithoutCallbackParams } from '../src/browser/addressBar.js';

const CALLBACK_PARAMS = ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri'];

describe('urlWithoutCallbackParams', () => {
  it('removes code, state and iss and keeps the other query parameters and the hash', () => {
    expect(urlWithoutCallbackParams('https://app.example/cb?lang=en&code=abc&state=xyz&iss=https%3A%2F%2Fid.example&tab=2#top')).toBe(
      'https://app.example/cb?lang=en&tab=2#top',
    );
  });

  it('removes an error response with its description, uri and session_state', () => {
    expect(
      urlWithoutCallbackParams('https://app.example/cb?error=access_denied&error_description=User+said+no&error_uri=x&session_state=s&keep=1'),
    ).toBe('https://app.example/cb?keep=1');
  });

  it('drops the question mark when nothing else was in the query', () => {
    expect(urlWithoutCallbackParams('https://app.example/cb?code=abc&state=xyz')).toBe('https://app.example/cb');
  });

  it('cleans a response delivered in the fragment', () => {
    expect(urlWithoutCallbackParams('https://app.example/cb?x=1#code=abc&state=xyz&extra=1')).toBe('https://app.example/cb?x=1#extra=1');
  });

  it('leaves a router fragment that only contains code-like text alone', () => {
    expect(urlWithoutCallbackParams('https://app.example/#/callback?code=abc')).toBeUndefined();
  });

  it('keeps other parameters byte for byte, without re-encoding them', () => {
    expect(urlWithoutCallbackParams('https://app.example/cb?q=a%20b+c&code=1&e=%E2%9C%93')).toBe('https://app.example/cb?q=a%20b+c&e=%E2%9C%93');
  });

  it('answers undefined when there is nothing to remove, or the URL does not parse', () => {
    expect(urlWithoutCallbackParams('https://app.example/cb?codes=1&mystate=2')).toBeUndefined();
    expect(urlWithoutCallbackParams('not a url')).toBeUndefined();
  });

  const paramName = fc.stringMatching(/^[a-z_]{1,8}$/).filter((name) => !CALLBACK_PARAMS.includes(name));
  const paramValue = fc.stringMatching(/^[A-Za-z0-9._~-]{0,8}$/);

  test.prop([
    fc.array(fc.tuple(paramName, paramValue), { maxLength: 5 }),
    fc.subarray(CALLBACK_PARAMS, { minLength: 1 }),
    fc.option(fc.stringMatching(/^[a-z]{1,8}$/), { nil: undefined }),
  ])('no callback parameter survives, and every other parameter and the hash keep their order', (others, callback, hash) => {
    const pairs = [...others.map(([name, value]) => `${name}=${value}`)];
    // Interleave the callback parameters among the others.
    callback.forEach((name, index) => pairs.splice(Math.min(index * 2, pairs.length), 0, `${name}=v${index}`));
    const href = `https://app.example/cb?${pairs.join('&')}${hash === undefined ? '' : `#${hash}`}`;
    const cleaned = urlWithoutCallbackParams(href);
    expect(cleaned).toBeDefined();
    const url = new URL(cleaned ?? '');
    for (const name of CALLBACK_PARAMS) expect(url.searchParams.has(name)).toBe(false);
    expect([...url.searchParams]).toEqual(others);
    expect(url.hash).toBe(hash === undefined ? '' : `#${hash}`);
  });
});

describe('cleanAddressBar', () => {
  it('replaces the current entry with the cleaned URL and keeps the entry state', () => {
    const calls: [unknown, string, string | URL | null | undefined][] = [];
    const history = { state: { route: 'cb' }, replaceState: (data: unknown, unused: string, url?: string | URL | null) => void calls.push([data, unused, url]) };
    expect(cleanAddressBar({ location: { href: 'https://app.example/cb?code=1&state=2&x=y' }, history })).toBe(true);
    expect(calls).toEqual([[{ route: 'cb' }, '', 'https://app.example/cb?x=y']]);
  });

  it('leaves history alone when the address has no callback parameters', () => {
    let called = false;
    const history = { state: null, replaceState: () => void (called = true) };
    expect(cleanAddressBar({ location: { href: 'https://app.example/home?x=1' }, history })).toBe(false);
    expect(called).toBe(false);
  });

  it('does not throw without history or when replaceState refuses', () => {
    expect(cleanAddressBar({ location: { href: 'https://app.example/cb?code=1' } })).toBe(false);
    const history = {
      state: null,
      replaceState: () => {
        throw new DOMException('refused', 'SecurityError');
      },
    };
    expect(cleanAddressBar({ location: { href: 'https://app.example/cb?code=1' }, history })).toBe(false);
  });
});
