/**
 * One tab's part in the session the tabs of an origin share: what this tab's
 * actor does to the tokens is announced to the others, and what the others
 * announce is sent to this tab's actor as `SESSION_CHANGED`
 * (docs/architecture.md: with tokens → `authenticated`, without → `idle`).
 */

import type { OAuthClient } from '../client.js';
import type { TokenSet } from '../protocol/types.js';
import type { StorageService } from '../services/types.js';
import type { BrowserEnvironment } from './environment.js';
import { openTabChannel, type StorageEventSource, type TabMessage } from './tabSync.js';
import { tabStorage, type ChosenStore } from './tabStorage.js';

/** What the tab session uses of the client: its actor (to hand it another tab's tokens), `ready` and `subscribe`. */
export type TabClient = Pick<OAuthClient<'authorization_code'>, 'actor' | 'ready' | 'subscribe'>;

/** How long a tab that just started waits for an answer to its hello before a refresh goes ahead alone. */
const HELLO_WAIT_MS = 250;

/** This tab in the shared session (see {@link joinTabSession}). */
export interface TabSession {
  /** The storage to give the client: the chosen store, a cross-tab lock, writes told to the other tabs. */
  readonly storage: StorageService;
  /**
   * Connects the client: its token changes go to the other tabs, theirs come
   * to its actor, and `onChange` hears every change of the tokens, from here
   * or elsewhere.
   */
  attach(client: TabClient, onChange: (tokens: TokenSet | undefined) => void): void;
  /** Leaves the other tabs. */
  close(): void;
}

/** What tells two token sets apart for "did the session change": the tokens themselves. */
function fingerprint(tokens: TokenSet | undefined): string {
  return tokens === undefined ? '' : JSON.stringify([tokens.accessToken, tokens.refreshToken ?? null, tokens.expiresAt ?? null]);
}

function storageEventsOf(environment: BrowserEnvironment): StorageEventSource | undefined {
  const { localStorage, addEventListener, removeEventListener } = environment;
  if (!localStorage || !addEventListener || !removeEventListener) return undefined;
  return { localStorage, addEventListener, removeEventListener };
}

/**
 * Joins the session stored under `storageKey` in `chosen`: opens the tab
 * channel (`BroadcastChannel`, else the `storage` event for `localStorage`,
 * else nothing) and builds the storage with the Web-Locks refresh lock.
 * `now` is the clock the machines stamp stored sessions with (`savedAt`).
 */
export function joinTabSession(
  storageKey: string,
  chosen: ChosenStore,
  environment: BrowserEnvironment,
  now: () => number = Date.now,
): TabSession {
  let client: TabClient | undefined;
  let current: TokenSet | undefined;
  let currentPrint = '';
  // The fingerprint of tokens another tab announced and this tab is taking over: not announced back.
  let adopting: string | undefined;
  // What the restore read from storage is no news to the other tabs (and, from a stale per-tab copy,
  // would roll them back): only changes made after it are announced.
  let announce = false;
  // The hello this tab is waiting to be welcomed for. A welcome only bootstraps a tab that has
  // heard nothing yet: once this tab changed the session or heard of a change, a welcome (written
  // before that, perhaps) is stale and ignored.
  let helloId: string | undefined;
  // Settled once the hello was answered or superseded, or nobody answered in time.
  let helloAnswered: Promise<void> = Promise.resolve();
  let helloSettled: (() => void) | undefined;
  const stopWaitingForWelcome = (): void => {
    helloId = undefined;
    helloSettled?.();
  };

  // Messages from other tabs are applied one at a time, in the order they arrived.
  let inbox: Promise<void> = Promise.resolve();
  const channel = openTabChannel(
    `${storageKey}:tabs`,
    {
      BroadcastChannel: environment.BroadcastChannel ?? undefined,
      storageEvents: chosen.kind === 'local' ? storageEventsOf(environment) : undefined,
    },
    (message) => {
      inbox = inbox.then(() => apply(message)).catch(() => undefined);
    },
  );
  const { storage, applyMirroredWrite } = tabStorage(chosen, environment.locks ?? undefined, channel, {
    settle: async () => {
      await channel.flush();
      // Received is not yet applied: messages wait their turn in the inbox.
      await inbox;
      // A tab that just started from a stale per-tab copy must not spend a refresh token already rotated.
      await helloAnswered;
    },
    now,
  });

  /** Answers a new tab's hello with this tab's session (when signed in), so it joins in step. */
  const welcome = async (id: string): Promise<void> => {
    const tokens = current;
    if (tokens === undefined) return;
    const value = await storage.get(storageKey).catch(() => null);
    channel.post({ type: 'welcome', id, tokens, key: storageKey, value });
  };

  /** Hands another tab's tokens (or none: it logged out) to this tab's actor, unless it has them already. */
  const adopt = (attached: TabClient, tokens: TokenSet | undefined): void => {
    const print = fingerprint(tokens);
    if (print === currentPrint) return;
    adopting = print;
    attached.actor.send(tokens === undefined ? { type: 'SESSION_CHANGED' } : { type: 'SESSION_CHANGED', tokens });
  };

  const apply = async (message: TabMessage): Promise<void> => {
    if (message.type === 'write') {
      await applyMirroredWrite(message.key, message.value, message.at);
      return;
    }
    if (client === undefined) return;
    await client.ready;
    switch (message.type) {
      case 'hello':
        await welcome(message.id);
        return;
      case 'welcome':
        if (message.id !== helloId) return;
        stopWaitingForWelcome();
        if (message.value !== null) await applyMirroredWrite(message.key, message.value);
        adopt(client, message.tokens);
        return;
      case 'session':
        stopWaitingForWelcome();
        adopt(client, message.tokens);
        return;
    }
  };

  /** After the restore: a per-tab store starts empty in a new tab, and stale in one the browser discarded; ask the open tabs. */
  const greet = (): void => {
    announce = true;
    if (chosen.scope !== 'per-tab' || channel.transport === 'none') return;
    // Only tells this tab's welcomes from another's: nothing secret rides on it.
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    helloId = id;
    helloAnswered = new Promise((resolve) => {
      const timer = setTimeout(resolve, HELLO_WAIT_MS);
      helloSettled = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    channel.post({ type: 'hello', id });
  };

  return {
    storage,
    attach(attached, onChange) {
      client = attached;
      attached.ready.then(greet, () => undefined);
      attached.subscribe((snapshot) => {
        const tokens = snapshot.hasTag('signedIn') ? snapshot.context.tokens : undefined;
        const print = fingerprint(tokens);
        if (print === currentPrint) return;
        current = tokens;
        currentPrint = print;
        const fromOtherTab = adopting === print;
        adopting = undefined;
        if (announce && !fromOtherTab) {
          stopWaitingForWelcome();
          channel.post(tokens === undefined ? { type: 'session' } : { type: 'session', tokens });
        }
        onChange(tokens);
      });
    },
    close() {
      stopWaitingForWelcome();
      channel.close();
    },
  };
}
