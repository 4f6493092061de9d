/**
 * Login in a popup: the authorization request opens in a window of its own,
 * and the callback page there hands its URL back to the page that opened it
 * with `postMessage`, which takes it only from that window and this origin.
 * The page's machine checks the callback (state, `iss`, single use) as for a
 * redirect; a popup closed before it answered cancels the login.
 */
import { OAuthError } from '../errors.js';
import type { Clock } from '../services/types.js';

/** The message the popup's callback page posts to its opener. */
export const POPUP_CALLBACK_MESSAGE = 'oauth-machines:callback';

/** The part of a popup window the helper uses. */
export interface PopupWindow {
  readonly closed: boolean;
  close(): void;
  location: { href: string };
}

/** Where `message` events are heard (`window`). */
export interface MessageEventSource {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** The window that opened the popup, as the popup's callback page sees it. */
export interface PopupOpener {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** How often a popup is looked at to see whether the user closed it. */
const POPUP_CLOSED_POLL_MS = 500;

export function popupBlocked(): OAuthError {
  return new OAuthError('popup_blocked', { description: 'the browser did not open the login window (call loginPopup() from a click)', retryable: false });
}

/**
 * Resolves with the callback URL the popup's page posts (only from `popup`,
 * only from `origin`), or rejects with `popup_closed` once the user closed it
 * first — looked at every half second on `clock`.
 */
export function popupCallback(popup: PopupWindow, origin: string, events: MessageEventSource, clock: Clock): Promise<string> {
  return new Promise((resolve, reject) => {
    let cancelPoll: () => void = () => undefined;
    const done = (): void => {
      events.removeEventListener('message', onMessage);
      cancelPoll();
    };
    function onMessage(event: MessageEvent): void {
      const data: unknown = event.data;
      // Another window, another origin, or another message: not this login's answer.
      if (event.source !== (popup as unknown) || event.origin !== origin) return;
      if (typeof data !== 'object' || data === null || (data as { type?: unknown }).type !== POPUP_CALLBACK_MESSAGE) return;
      const url = (data as { url?: unknown }).url;
      if (typeof url !== 'string') return;
      done();
      resolve(url);
    }
    const poll = (): void => {
      if (popup.closed) {
        done();
        reject(new OAuthError('popup_closed', { description: 'the login window was closed before the provider answered', retryable: false }));
        return;
      }
      cancelPoll = clock.setTimeout(poll, POPUP_CLOSED_POLL_MS);
    };
    events.addEventListener('message', onMessage);
    cancelPoll = clock.setTimeout(poll, POPUP_CLOSED_POLL_MS);
  });
}
