/**
 * What the Svelte page shows and does, as stores and commands over one
 * `BrowserAuth` — plain TypeScript, type-checked with the repository, so the
 * component (`App.svelte`) only lays it out. Every value is a store from
 * `@xstate/svelte`'s `useSelector` on `auth.actor`, which tells its
 * subscribers only when its selector's answer changes (including changes
 * made in another tab); decisions come from the machine's tags, never its
 * state names.
 */
import { useSelector } from '@xstate/svelte';
import { derived, writable, type Readable } from 'svelte/store';
import { selectUser, type BrowserAuth, type LoginOptions } from 'oauth-machines/browser';
import {
  expiresText,
  forgedCallbackUrl,
  isCallbackPage,
  machineErrorOf,
  redact,
  shownError,
  stateText,
  statusText,
  tagsText,
  tokensOf,
  type ShownError,
} from '../examplePage.js';

/** The key of the page's {@link ExampleSession} in the context `App.svelte` is mounted with. */
export const SESSION = 'oauth-machines example session';

/** The page's view of the session, and its commands. */
export interface ExampleSession {
  /** `'loading'`, `'signedOut'`, `'busy'`, `'awaitingCallback'`, `'signedIn'` or `'error'`, from the tags. */
  status: Readable<string>;
  /** The machine's state, for the developer reading the page. */
  machineState: Readable<string>;
  tags: Readable<string[]>;
  user: Readable<string>;
  accessToken: Readable<string>;
  refreshToken: Readable<string>;
  expires: Readable<string>;
  /** The failure of the last command the page started, else the machine's own while it is in error. */
  error: Readable<ShownError | undefined>;
  /** On the redirect page, redeems the code once (the helper cleans the address bar); elsewhere nothing. */
  redeemCallback(): void;
  login(): void;
  refresh(): void;
  logout(): void;
  /** Goes to this page with a code and a state this tab never asked for. */
  forgeCallback(): void;
}

export function createSession(auth: BrowserAuth, loginOptions: LoginOptions): ExampleSession {
  const tokens = useSelector(auth.actor, tokensOf);
  const machineError = useSelector(auth.actor, machineErrorOf);
  const commandError = writable<ShownError | undefined>(undefined);
  const report = (failure: unknown): void => commandError.set(shownError(failure));

  return {
    status: useSelector(auth.actor, statusText),
    machineState: useSelector(auth.actor, stateText),
    tags: derived(useSelector(auth.actor, tagsText), (text) => (text === '' ? [] : text.split(' '))),
    user: derived(useSelector(auth.actor, selectUser), (user) => user?.sub ?? '—'),
    accessToken: derived(tokens, (held) => redact(held?.accessToken)),
    refreshToken: derived(tokens, (held) => redact(held?.refreshToken)),
    expires: derived(tokens, expiresText),
    error: derived([commandError, machineError], ([command, machine]) => command ?? (machine === undefined ? undefined : shownError(machine))),

    redeemCallback() {
      if (isCallbackPage(location.href)) auth.handleCallback().catch(report);
    },
    login() {
      commandError.set(undefined);
      auth.login(loginOptions).catch(report);
    },
    // getAccessToken() renews only when due; the button asks the machine to renew now.
    refresh: () => auth.actor.send({ type: 'REFRESH' }),
    logout() {
      commandError.set(undefined);
      auth.logout().catch(report);
    },
    forgeCallback: () => location.assign(forgedCallbackUrl(location.href)),
  };
}
