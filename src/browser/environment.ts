/**
 * The browser APIs the helper uses, found by feature detection. Every one is
 * optional: a page without Web Locks, `BroadcastChannel` or Web Storage (an
 * old browser, a sandboxed iframe, blocked cookies) still works, with one
 * tab's guarantees.
 */

import type { LockManagerLike } from '../services/webLocks.js';
import type { WebStorageLike } from '../services/webStorage.js';
import type { AddressBar } from './addressBar.js';
import type { MessageEventSource, PopupOpener, PopupWindow } from './popup.js';
import type { BroadcastChannelConstructor, StorageEventSource } from './tabSync.js';

/**
 * What `createBrowserAuth` takes from `window`. Defaults to the real globals;
 * pass parts of it to run the helper somewhere else (a test with fakes, two
 * "tabs" in one process, an embedded webview).
 */
export interface BrowserEnvironment {
  /** `location.href` is the callback URL by default; `assign` is the default navigation. */
  location?: (AddressBar['location'] & { assign?(url: string): void }) | null;
  history?: AddressBar['history'] | null;
  sessionStorage?: WebStorageLike | null;
  localStorage?: (WebStorageLike & Pick<Storage, 'setItem' | 'removeItem'>) | null;
  /** `navigator.locks`. */
  locks?: LockManagerLike | null;
  BroadcastChannel?: BroadcastChannelConstructor | null;
  /** Where `storage` events are heard (`window`). */
  addEventListener?: StorageEventSource['addEventListener'];
  removeEventListener?: StorageEventSource['removeEventListener'];
  /** `window.open`, for `loginPopup()`. */
  open?: ((url: string, target: string, features: string) => PopupWindow | null) | null;
  /** `window.opener`, on a popup's callback page. */
  opener?: PopupOpener | null;
  /** Where the popup's `message` is heard (`window`). */
  messages?: MessageEventSource | null;
  /** `window.close`, for a popup's callback page once it handed the callback over. */
  close?: (() => void) | null;
}

/** Reads a global without letting a throwing getter (`SecurityError` on blocked storage) escape. */
function probe<T>(read: () => T | undefined | null): T | undefined {
  try {
    return read() ?? undefined;
  } catch {
    return undefined;
  }
}

type Globals = {
  location?: BrowserEnvironment['location'];
  history?: BrowserEnvironment['history'];
  sessionStorage?: WebStorageLike;
  localStorage?: BrowserEnvironment['localStorage'];
  navigator?: { locks?: LockManagerLike };
  BroadcastChannel?: BroadcastChannelConstructor;
  addEventListener?: StorageEventSource['addEventListener'];
  removeEventListener?: StorageEventSource['removeEventListener'];
  open?: BrowserEnvironment['open'];
  opener?: PopupOpener | null;
  close?: () => void;
};

/** The environment with the real globals filling every part not given (`null` in `given` means "absent"). */
export function resolveEnvironment(given: BrowserEnvironment = {}): BrowserEnvironment {
  const g = globalThis as Globals;
  const pick = <K extends keyof BrowserEnvironment>(key: K, read: () => BrowserEnvironment[K] | undefined): BrowserEnvironment[K] | undefined =>
    key in given ? (given[key] ?? undefined) : probe(read);
  const environment: BrowserEnvironment = {};
  const location = pick('location', () => g.location);
  if (location) environment.location = location;
  const history = pick('history', () => g.history);
  if (history) environment.history = history;
  const sessionStorage = pick('sessionStorage', () => g.sessionStorage);
  if (sessionStorage) environment.sessionStorage = sessionStorage;
  const localStorage = pick('localStorage', () => g.localStorage);
  if (localStorage) environment.localStorage = localStorage;
  const locks = pick('locks', () => g.navigator?.locks);
  if (locks && typeof locks.request === 'function') environment.locks = locks;
  const Channel = pick('BroadcastChannel', () => g.BroadcastChannel);
  if (typeof Channel === 'function') environment.BroadcastChannel = Channel;
  const add = pick('addEventListener', () => g.addEventListener?.bind(globalThis));
  const remove = pick('removeEventListener', () => g.removeEventListener?.bind(globalThis));
  if (typeof add === 'function' && typeof remove === 'function') {
    environment.addEventListener = add;
    environment.removeEventListener = remove;
  }
  const open = pick('open', () => g.open?.bind(globalThis));
  if (typeof open === 'function') environment.open = open;
  const opener = pick('opener', () => g.opener);
  if (opener && typeof opener.postMessage === 'function') environment.opener = opener;
  const messages = pick('messages', () => (typeof g.addEventListener === 'function' ? (globalThis as unknown as MessageEventSource) : undefined));
  if (messages) environment.messages = messages;
  const close = pick('close', () => g.close?.bind(globalThis));
  if (typeof close === 'function') environment.close = close;
  return environment;
}
