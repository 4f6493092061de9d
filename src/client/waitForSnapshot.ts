/**
 * The one way the client waits for its actor: until a snapshot satisfies a
 * predicate, rejecting with the machine's own typed error instead of hanging
 * when the machine fails, errors out or is stopped.
 */
import { OAuthError, type OAuthErrorJSON } from '../errors.js';

/** The part of a grant machine's snapshot the client reads (docs/architecture.md "Machines"). */
export interface ObservedSnapshot {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  readonly value: unknown;
  readonly context: object;
  readonly error?: unknown;
  hasTag(tag: string): boolean;
}

/** The part of an XState actor the client drives. */
export interface ObservedActor<S extends ObservedSnapshot = ObservedSnapshot> {
  getSnapshot(): S;
  subscribe(observer: {
    next?: (snapshot: S) => void;
    error?: (error: unknown) => void;
    complete?: () => void;
  }): { unsubscribe(): void };
}

/** What a predicate answers: keep waiting (`undefined`), or settle with a value or an error. */
export type Verdict<T> = undefined | { value: T } | { error: OAuthError };

/** Top-level state name of a snapshot (`'refreshing'` for any of its substates, say `{ refreshing: 'retrying' }`). */
export function stateName(snapshot: ObservedSnapshot): string {
  const { value } = snapshot;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return Object.keys(value)[0] ?? '';
  return '';
}

/** The error a machine keeps in context, if any (plain data: a machine's context stays JSON-serialisable). */
export function contextError(snapshot: ObservedSnapshot): OAuthErrorJSON | undefined {
  const { error } = snapshot.context as { error?: OAuthErrorJSON };
  return error;
}

// One OAuthError per error object in context, so every caller that waited for
// the same failure rejects with the very same instance.
const errorsByJson = new WeakMap<OAuthErrorJSON, OAuthError>();

/** The typed error for a machine's context error (the same instance for the same context object). */
export function toOAuthError(json: OAuthErrorJSON): OAuthError {
  let error = errorsByJson.get(json);
  if (error === undefined) {
    error = OAuthError.fromJSON(json);
    errorsByJson.set(json, error);
  }
  return error;
}

/**
 * Resolves with the verdict's value once `judge` settles on a snapshot (the
 * current one first, then every following one). Rejects with an `OAuthError`
 * when the actor itself fails (`status: 'error'`, which a machine with
 * `onError` on every invoke never reaches), or `aborted` when it is stopped
 * before the verdict.
 */
export function waitForSnapshot<S extends ObservedSnapshot, T>(
  actor: ObservedActor<S>,
  judge: (snapshot: S) => Verdict<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let subscription: { unsubscribe(): void } | undefined;
    const settle = (verdict: Verdict<T>): boolean => {
      if (verdict === undefined || settled) return settled;
      settled = true;
      subscription?.unsubscribe();
      if ('error' in verdict) reject(verdict.error);
      else resolve(verdict.value);
      return true;
    };
    const check = (snapshot: S): boolean => {
      if (snapshot.status === 'error') {
        return settle({ error: OAuthError.from(snapshot.error, 'invalid_snapshot') });
      }
      if (snapshot.status === 'stopped') return settle({ error: stoppedError() });
      return settle(judge(snapshot));
    };
    if (check(actor.getSnapshot())) return;
    subscription = actor.subscribe({
      next: (snapshot) => void check(snapshot),
      error: (error) => void settle({ error: OAuthError.from(error, 'invalid_snapshot') }),
      complete: () => {
        if (!check(actor.getSnapshot())) settle({ error: stoppedError() });
      },
    });
    // The subscription may have been made after a synchronous settle inside subscribe().
    if (settled) subscription.unsubscribe();
  });
}

/** The error every pending call gets when the client is stopped under it. */
export function stoppedError(): OAuthError {
  return new OAuthError('aborted', { description: 'The OAuth client was stopped', retryable: false });
}
