/**
 * `login()`'s options, as each façade checks them before anything is sent:
 * only the options its grant takes (a typo, or an option another grant takes,
 * is a `TypeError`, never dropped silently), and `appState` as JSON.
 */
import type { LoginEvent } from '../../machines/types.js';
import type { LoginOptions } from './types.js';

/** The most `appState` may take, serialised: it lives in the pending authorization, in `sessionStorage`. */
const MAX_APP_STATE_CHARS = 16 * 1024;

/**
 * `login()`'s options, checked: no unknown key (a typo must not be dropped
 * silently), `appState` JSON of at most 16 KiB. Returns the LOGIN event, with
 * `appState` as JSON gives it back (what the callback will hand back).
 */
export function loginEvent(options: LoginOptions & { returnTo?: string }, known: readonly string[]): LoginEvent {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`login(): unknown option ${key}; it takes ${known.join(', ')}`);
  }
  const event: LoginEvent = { type: 'LOGIN' };
  if (options.scopes !== undefined) event.scopes = options.scopes;
  if (options.extraParams !== undefined) event.extraParams = options.extraParams;
  if (options.tokenParams !== undefined) event.tokenParams = options.tokenParams;
  if (options.returnTo !== undefined) event.returnTo = options.returnTo;
  if (options.appState !== undefined) {
    let text: string | undefined;
    try {
      text = JSON.stringify(options.appState);
    } catch (error) {
      throw new TypeError('login(): appState must be JSON-serialisable', { cause: error });
    }
    if (text === undefined) throw new TypeError('login(): appState must be JSON-serialisable');
    if (text.length > MAX_APP_STATE_CHARS) throw new TypeError(`login(): appState is ${text.length} characters as JSON; at most ${MAX_APP_STATE_CHARS}`);
    event.appState = JSON.parse(text) as unknown;
  }
  return event;
}

