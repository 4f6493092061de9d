/**
 * What the façades read from a snapshot and how they settle a wait: the
 * verdict of a predicate, the machine's own typed error from context (one
 * instance per error object, so every waiter rejects with the same one), and
 * the error of a stopped client. The waiting itself is XState's `waitFor`
 * (see `core.ts`).
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

/** What a predicate answers: keep waiting (`undefined`), or settle with a value or an error. */
export type Verdict<T> = undefined | { value: T } | { error: OAuthError };

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

/** The error every pending call gets when the client is stopped under it. */
export function stoppedError(): OAuthError {
  return new OAuthError('aborted', { description: 'The OAuth client was stopped', retryable: false });
}
