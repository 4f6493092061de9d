/**
 * What the framework examples (React, Vue, Svelte) show of the auth machine,
 * the same way in each: the machine's state and tags for the developer
 * reading the page, the tokens redacted, errors as their typed code, and the
 * forged callback the page offers to try.
 */
import { selectAuthStatus, type BrowserAuth, type TokenSet } from 'oauth-machines/browser';

/** A snapshot of the helper's actor, as the frameworks' `useSelector` hands it to a selector. */
export type AuthSnapshot = ReturnType<BrowserAuth['actor']['getSnapshot']>;

/** The part of the actor's snapshot the text selectors read. */
interface Snapshot {
  readonly value: unknown;
  readonly tags: ReadonlySet<string>;
  hasTag(tag: string): boolean;
}

/** The tokens while signed in (tagged `signedIn`), else `undefined`. */
export function tokensOf(snapshot: AuthSnapshot): TokenSet | undefined {
  return snapshot.hasTag('signedIn') ? snapshot.context.tokens : undefined;
}

/** The machine's own failure (plain data) while it is in error: the same object until it changes. */
export function machineErrorOf(snapshot: AuthSnapshot): unknown {
  return snapshot.hasTag('error') ? snapshot.context.error : undefined;
}

/** The machine's state as text (`{"refreshing":{"attempt":"requesting"}}` inside refreshing): for reading, not for deciding. */
export function stateText(snapshot: Snapshot): string {
  return typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
}

/** The tags, sorted, as one string: a selector of it changes only when the set of tags does. */
export function tagsText(snapshot: Snapshot): string {
  return [...snapshot.tags].sort().join(' ');
}

/** Where the session stands, from the tags alone (the UI's contract; state names are for developers). */
export function statusText(snapshot: AuthSnapshot): string {
  return selectAuthStatus(snapshot);
}

/** Tokens never go on screen or into a log whole: enough to tell two apart, not enough to use one. */
export function redact(token: string | undefined): string {
  if (token === undefined) return '—';
  return token.length <= 8 ? '•'.repeat(token.length) : `${token.slice(0, 4)}…${token.slice(-2)} (${token.length} chars)`;
}

/** When the access token expires, as the page shows it. */
export function expiresText(tokens: TokenSet | undefined): string {
  if (tokens === undefined) return '—';
  return tokens.expiresAt === undefined ? 'never' : new Date(tokens.expiresAt).toISOString();
}

/** An error as the page shows it: its typed code, and a sentence. */
export interface ShownError {
  code: string;
  text: string;
}

/** Any failure as a {@link ShownError}: an `OAuthError` (or its plain-data form in the machine's context) by its code. */
export function shownError(error: unknown): ShownError {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    const description = 'description' in error && typeof error.description === 'string' ? `: ${error.description}` : '';
    return { code: error.code, text: `${error.code}${description}` };
  }
  if (error instanceof Error) return { code: 'unexpected', text: `${error.name}: ${error.message}` };
  return { code: 'unexpected', text: String(error) };
}

/** Whether this page load is the redirect back from the provider (RFC 6749 §4.1.2: `state`, and `code` or `error`). */
export function isCallbackPage(href: string): boolean {
  const { searchParams } = new URL(href);
  return searchParams.has('state') && (searchParams.has('code') || searchParams.has('error'));
}

/** This page with a code and a state the tab never asked for: what an attacker's link back to the app looks like. */
export function forgedCallbackUrl(href: string): string {
  const forged = new URL(href);
  forged.search = '?code=forged-code&state=forged-state';
  return forged.href;
}
