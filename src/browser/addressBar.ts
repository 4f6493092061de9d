/**
 * Removing the authorization response from the address bar once it has been
 * handled, so a code and state never linger in history, bookmarks, screenshots
 * or a `Referer` (RFC 9700 §4.2.4: authorization response leakage).
 */

/**
 * The authorization response parameters: RFC 6749 §4.1.2 (`code`, `state`),
 * §4.1.2.1 (`error`, `error_description`, `error_uri`), RFC 9207 (`iss`) and
 * OpenID Connect Session Management (`session_state`).
 */
const CALLBACK_PARAMS: readonly string[] = ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri'];

/**
 * Drops the callback parameters from an `a=1&b=2` list, keeping every other
 * pair byte for byte (re-serialising would re-encode them, `%20` → `+`).
 * `undefined` when none was there.
 */
function withoutCallbackParams(list: string): string | undefined {
  const pairs = list.split('&');
  const kept = pairs.filter((pair) => {
    const name = pair.split('=', 1)[0] ?? '';
    let decoded: string;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      decoded = name;
    }
    return !CALLBACK_PARAMS.includes(decoded);
  });
  return kept.length === pairs.length ? undefined : kept.join('&');
}

/**
 * The URL without the authorization response parameters, every other query
 * parameter and the hash kept as they were. The response may arrive in the
 * query or, with `response_mode=fragment`, as the fragment's parameters; both
 * are cleaned. Returns `undefined` when there was nothing to remove, so
 * callers leave history alone.
 */
export function urlWithoutCallbackParams(href: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  let changed = false;
  const query = withoutCallbackParams(url.search.slice(1));
  if (query !== undefined) {
    url.search = query === '' ? '' : `?${query}`;
    changed = true;
  }
  // A fragment is a parameter list only when it looks like one; `#section` or a router's `#/path` stays.
  const fragment = url.hash.slice(1);
  if (/^[^/?#]*=/.test(fragment)) {
    const hash = withoutCallbackParams(fragment);
    if (hash !== undefined) {
      url.hash = hash === '' ? '' : `#${hash}`;
      changed = true;
    }
  }
  return changed ? url.href : undefined;
}

/** The part of `Location` and `History` the cleanup needs. */
export interface AddressBar {
  location: { readonly href: string };
  history?: { readonly state: unknown; replaceState(data: unknown, unused: string, url?: string | URL | null): void } | undefined;
}

/**
 * Replaces the current history entry with the same page minus the
 * authorization response parameters. Never throws: a page without `history`
 * (or one that refuses the URL) keeps its address, which is no worse than not
 * cleaning.
 */
export function cleanAddressBar({ location, history }: AddressBar): boolean {
  if (!history) return false;
  const cleaned = urlWithoutCallbackParams(location.href);
  if (cleaned === undefined) return false;
  try {
    // Keep the entry's own state: routers (React Router, Vue Router) store theirs there.
    history.replaceState(history.state, '', cleaned);
    return true;
  } catch {
    return false;
  }
}
