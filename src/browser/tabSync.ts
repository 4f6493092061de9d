/**
 * Keeping the tabs of one origin in step: what one tab does to the session
 * (new tokens, a logout, a write to its storage) is told to the others.
 *
 * `BroadcastChannel` where it exists; otherwise, when the session lives in
 * `localStorage`, the `storage` event (which fires in every other tab of the
 * origin on a write); otherwise nothing, and each tab keeps one tab's
 * guarantees. Neither transport echoes a message back to its sender.
 */

import * as v from 'valibot';
import { TokenSetSchema, type TokenSet } from '../session/tokenSet.js';
import { isRecord } from '../protocol/validators.js';

/** What a tab tells the others. */
export type TabMessage =
  /** The session changed here: new tokens, or none after a logout (storage is already cleared). */
  | { type: 'session'; tokens?: TokenSet }
  /**
   * A write to the store (`null`: a removal), told to the other tabs so a tab
   * that waited for the lock re-reads the newest session: mirrored into a
   * per-tab store; for a shared one, kept beside the tab's copy until the copy
   * has caught up. `at`: epoch ms of the write (a session's `savedAt`, the
   * writer's clock for a removal), to tell a late message from a newer one.
   */
  | { type: 'write'; key: string; value: string | null; at?: number }
  /** A tab with per-tab storage has started: whoever holds the session answers with a welcome. */
  | { type: 'hello'; id: string }
  /** The answer to hello `id`: the session as the answering tab holds it (tokens, and the stored value under `key`). */
  | { type: 'welcome'; id: string; tokens: TokenSet; key: string; value: string | null };

/** The constructor of a `BroadcastChannel`, as far as tab sync uses it. */
export type BroadcastChannelConstructor = new (name: string) => {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((this: never, event: MessageEvent) => unknown) | null;
};

/** The parts of `window` the storage-event fallback uses. */
export interface StorageEventSource {
  localStorage: Pick<Storage, 'setItem' | 'removeItem'>;
  addEventListener(type: 'storage', listener: (event: StorageEvent) => void): void;
  removeEventListener(type: 'storage', listener: (event: StorageEvent) => void): void;
}

/** An open link to the other tabs. */
export interface TabChannel {
  /** How messages travel: `broadcast-channel`, `storage-event` or `none` (this tab is alone). */
  readonly transport: 'broadcast-channel' | 'storage-event' | 'none';
  post(message: TabMessage): void;
  /**
   * Resolves once every message other tabs posted before this call has been
   * received here (a barrier through the channel itself), or after a short
   * bound when the transport cannot tell. A tab that was just granted the
   * refresh lock flushes first, so it re-reads the session the previous
   * holder wrote.
   */
  flush(): Promise<void>;
  close(): void;
}

/** How long a flush waits for its own barrier before going on anyway. */
const FLUSH_BOUND_MS = 250;

/** Tokens another tab sent: checked whole against the one TokenSet schema, like a stored session. */
function isTokenSet(value: unknown): value is TokenSet {
  return v.is(TokenSetSchema, value);
}

/**
 * Reads a message from another tab. Anything else on the channel (another
 * library, an older version of this one) is ignored rather than trusted.
 */
export function readTabMessage(data: unknown): TabMessage | undefined {
  if (!isRecord(data)) return undefined;
  if (data['type'] === 'session') {
    if (data['tokens'] === undefined) return { type: 'session' };
    return isTokenSet(data['tokens']) ? { type: 'session', tokens: data['tokens'] } : undefined;
  }
  if (data['type'] === 'hello') return typeof data['id'] === 'string' ? { type: 'hello', id: data['id'] } : undefined;
  if (data['type'] === 'welcome') {
    const { id, tokens, key, value } = data;
    if (typeof id !== 'string' || !isTokenSet(tokens) || typeof key !== 'string' || (value !== null && typeof value !== 'string')) return undefined;
    return { type: 'welcome', id, tokens, key, value };
  }
  if (data['type'] === 'write' && typeof data['key'] === 'string' && (data['value'] === null || typeof data['value'] === 'string')) {
    const { at } = data;
    // An older version of this library sends no time: the receiver then judges by the value alone.
    return typeof at === 'number' && Number.isFinite(at)
      ? { type: 'write', key: data['key'], value: data['value'], at }
      : { type: 'write', key: data['key'], value: data['value'] };
  }
  return undefined;
}

/** Where a tab channel can come from; every part optional, as in a real browser. */
export interface TabChannelSources {
  BroadcastChannel?: BroadcastChannelConstructor | undefined;
  /** Given only when the session is kept in `localStorage`: the `storage` event reports nothing else. */
  storageEvents?: StorageEventSource | undefined;
}

const NO_CHANNEL: TabChannel = { transport: 'none', post() {}, flush: () => Promise.resolve(), close() {} };

/** The next macrotask: events already queued (a `storage` event) are dispatched before it. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

let barrierCount = 0;

/**
 * Opens the channel named `name` to the other tabs. Never throws: a transport
 * that is missing or refuses to open (an opaque origin, storage disabled)
 * falls through to the next, and finally to a channel that reaches nobody.
 */
export function openTabChannel(name: string, sources: TabChannelSources, receive: (message: TabMessage) => void): TabChannel {
  const Channel = sources.BroadcastChannel;
  if (typeof Channel === 'function') {
    try {
      const channel = new Channel(name);
      const barriers = new Map<string, () => void>();
      channel.onmessage = (event: MessageEvent) => {
        const data: unknown = event.data;
        if (isRecord(data) && data['type'] === 'barrier' && typeof data['id'] === 'string') {
          barriers.get(data['id'])?.();
          return;
        }
        const message = readTabMessage(data);
        if (message) receive(message);
      };
      return {
        transport: 'broadcast-channel',
        post(message) {
          try {
            channel.postMessage(message);
          } catch {
            // A closed channel or an uncloneable value: the other tabs miss one update, this tab goes on.
          }
        },
        flush() {
          // A second instance in this tab posts a barrier to the first: a channel delivers to each
          // receiver in the order messages reached it, so whatever other tabs posted earlier comes first.
          return new Promise<void>((resolve) => {
            const id = `${Date.now()}:${++barrierCount}`;
            let sibling: InstanceType<BroadcastChannelConstructor> | undefined;
            const done = (): void => {
              clearTimeout(timer);
              barriers.delete(id);
              sibling?.close();
              resolve();
            };
            const timer = setTimeout(done, FLUSH_BOUND_MS);
            barriers.set(id, done);
            try {
              sibling = new Channel(name);
              sibling.postMessage({ type: 'barrier', id });
            } catch {
              done();
            }
          });
        },
        close() {
          channel.onmessage = null;
          channel.close();
          for (const release of [...barriers.values()]) release();
        },
      };
    } catch {
      // Fall through to the storage event.
    }
  }
  const events = sources.storageEvents;
  if (events) return openStorageEventChannel(`${name}:message`, events, receive);
  return NO_CHANNEL;
}

/**
 * The `storage` event as a message bus: a write to `localStorage` fires the
 * event in every other tab of the origin (HTML Living Standard §12.2.1), with
 * the written value. The key is set and removed at once, so nothing stays
 * behind; only the set (with a value) carries a message.
 */
function openStorageEventChannel(key: string, events: StorageEventSource, receive: (message: TabMessage) => void): TabChannel {
  const listener = (event: StorageEvent): void => {
    if (event.key !== key || event.newValue === null) return;
    let data: unknown;
    try {
      data = JSON.parse(event.newValue);
    } catch {
      return;
    }
    const message = readTabMessage(data);
    if (message) receive(message);
  };
  try {
    events.addEventListener('storage', listener);
  } catch {
    return NO_CHANNEL;
  }
  return {
    transport: 'storage-event',
    // Other tabs' storage events are queued as tasks when they write; one task later they have run here.
    flush: nextTask,
    post(message) {
      try {
        // Removed at once, so every set is a change from nothing and fires, even for two equal messages.
        events.localStorage.setItem(key, JSON.stringify(message));
        events.localStorage.removeItem(key);
      } catch {
        // Quota or disabled storage: this tab goes on alone.
      }
    },
    close() {
      events.removeEventListener('storage', listener);
    },
  };
}
