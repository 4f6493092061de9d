/**
 * The invariants every fault test checks, written once. Each throws an
 * `Error` whose message names the invariant, so a failing cell says which
 * promise the library broke:
 *
 * (a) every caller settles within a bound (liveness, not timing);
 * (b) every rejection is an `OAuthError`, and nothing is left unhandled;
 * (c) at most one token request of a session is in flight at any moment;
 * (d) no authorization code (nor, unless its answer was lost, a refresh token) is sent twice;
 * (e) what storage holds is the newest refresh token the server issued and still honours, or nothing;
 * (f) the session recovers once the fault stops;
 * (g) no request loop: the requests of a cell are bounded.
 */
import { isOAuthError, type OAuthError } from '../../src/errors.js';
import type { TestAuthorizationServer } from '../../src/testing/index.js';
import type { Endpoint, FaultyNetwork } from './faultyNetwork.js';
import type { FaultyStorage } from './faultyStorage.js';

/** How long a caller may take to settle before it counts as hung (real time). */
export const LIVENESS_MS = 5_000;

/**
 * Requests of one endpoint a cell may send, faults and recovery included: a backoff that doubles
 * from a few milliseconds sends a handful in the fault window; a loop sends hundreds.
 */
export const MAX_REQUESTS_PER_ENDPOINT = 20;

export interface Caller {
  label: string;
  promise: Promise<unknown>;
}

export type Outcome =
  | { label: string; status: 'fulfilled'; value: unknown; at: number }
  | { label: string; status: 'rejected'; reason: unknown; at: number };

class InvariantError extends Error {
  constructor(invariant: string, message: string) {
    super(`${invariant}: ${message}`);
    this.name = 'InvariantError';
  }
}

function describeReason(reason: unknown): string {
  if (isOAuthError(reason)) return `OAuthError ${reason.code}${reason.description ? ` (${reason.description})` : ''}`;
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return String(reason);
}

/** (a) Every caller settles within `boundMs`; returns the outcomes with when each settled (`performance.now()`). */
export async function allSettleWithin(callers: Caller[], boundMs = LIVENESS_MS): Promise<Outcome[]> {
  const outcomes: (Outcome | undefined)[] = callers.map(() => undefined);
  const watched = callers.map((caller, index) =>
    caller.promise.then(
      (value) => {
        outcomes[index] = { label: caller.label, status: 'fulfilled', value, at: performance.now() };
      },
      (reason: unknown) => {
        outcomes[index] = { label: caller.label, status: 'rejected', reason, at: performance.now() };
      },
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(watched), new Promise((resolve) => (timer = setTimeout(resolve, boundMs)))]);
  clearTimeout(timer);
  const hung = callers.filter((_, index) => outcomes[index] === undefined).map((caller) => caller.label);
  if (hung.length > 0) throw new InvariantError('(a) liveness', `${hung.join(', ')} did not settle within ${boundMs} ms`);
  return outcomes as Outcome[];
}

/** (b) Every rejection is an `OAuthError`: never a TypeError, a DOMException or a raw Error. */
export function everyRejectionIsOAuthError(outcomes: Outcome[]): OAuthError[] {
  const errors: OAuthError[] = [];
  for (const outcome of outcomes) {
    if (outcome.status !== 'rejected') continue;
    if (!isOAuthError(outcome.reason)) {
      throw new InvariantError('(b) typed errors', `${outcome.label} rejected with ${describeReason(outcome.reason)}`);
    }
    errors.push(outcome.reason);
  }
  return errors;
}

/** (b) A collector of unhandled rejections for a test file; `since(mark)` lists the ones after a mark. */
export function unhandledRejections(): { list: unknown[]; start(): void; stop(): void } {
  const list: unknown[] = [];
  const record = (reason: unknown): void => {
    list.push(reason);
  };
  return {
    list,
    start: () => process.on('unhandledRejection', record),
    stop: () => process.off('unhandledRejection', record),
  };
}

export function noUnhandledRejection(list: unknown[], from = 0): void {
  const fresh = list.slice(from);
  if (fresh.length > 0) {
    throw new InvariantError('(b) no unhandled rejection', fresh.map(describeReason).join('; '));
  }
}

/** (c) At most one token request in flight at once (the session's single flight, across its clients). */
export function atMostOneTokenRequestInFlight(network: FaultyNetwork): void {
  const most = network.maxInFlight('token');
  if (most > 1) throw new InvariantError('(c) single flight', `${most} token requests were in flight at once`);
}

/**
 * (d) No authorization code is redeemed twice, and none is sent again after the server gave it a
 * verdict (RFC 6749 §4.1.2): the same code goes again only after a transient failure — a 5xx, a 429,
 * a dropped or cut connection, or a fault injected in the server's place — as the code exchange's
 * bounded retry does. With `refreshTokens`, no refresh token after the server accepted it once:
 * the server takes a spent refresh token for a stolen one and revokes the session (RFC 9700
 * §4.14.2). From the server's log (`logSecrets: true`); a refresh token the server refused or
 * never saw may be sent again.
 */
export function noCodeSentTwice(server: TestAuthorizationServer, options: { refreshTokens: boolean }): void {
  const answered = new Map<string, number>();
  const spent = new Set<string>();
  const reused: string[] = [];
  for (const entry of server.tokenRequests()) {
    const code = entry.grantType === 'authorization_code' ? entry.params['code'] : undefined;
    if (code !== undefined) {
      if (answered.has(code)) reused.push(`code ${code.slice(0, 10)}… sent again after the server answered it with ${answered.get(code)}`);
      const transient = entry.fault !== undefined || entry.status === 0 || entry.status === 429 || entry.status >= 500;
      if (!transient) answered.set(code, entry.status);
    }
    const refreshToken = entry.grantType === 'refresh_token' ? entry.params['refresh_token'] : undefined;
    if (refreshToken === undefined) continue;
    if (spent.has(refreshToken) && options.refreshTokens) reused.push(`${refreshToken.slice(0, 10)}… presented again after it was spent`);
    // An injected fault answered in the server's place: it never saw the token.
    if (entry.status === 200 && entry.fault === undefined) spent.add(refreshToken);
  }
  if (reused.length > 0) throw new InvariantError('(d) single use', reused.join(', '));
}

/** The refresh tokens found in storage (any value, any key: what a restart would find). */
export function storedRefreshTokens(storage: FaultyStorage): string[] {
  const found = new Set<string>();
  for (const value of storage.values().values()) {
    for (const match of value.matchAll(/\brt_[A-Za-z0-9_-]+/g)) found.add(match[0]);
  }
  return [...found];
}

/** Whether storage still holds any token of a session (access or refresh). */
export function storageHoldsTokens(storage: FaultyStorage): boolean {
  return [...storage.values().values()].some((value) => /\b(?:at|rt)_[A-Za-z0-9_-]+/.test(value));
}

/**
 * (e) Storage holds no refresh token but the newest one the server issued to `clientId`, and the
 * server still honours it; or none at all (the session ended cleanly). `held`: the refresh token the
 * live client holds, which must be that one too.
 */
export function newestRefreshTokenIsStored(server: TestAuthorizationServer, storage: FaultyStorage, clientId: string, held?: string): void {
  const issued = server.issuedTokens().filter((token) => token.kind === 'refresh_token' && token.clientId === clientId);
  const newest = issued.at(-1);
  for (const stored of storedRefreshTokens(storage)) {
    const record = issued.find((token) => token.token === stored);
    const what = record === undefined ? 'unknown' : record.rotated ? 'rotated' : record.revoked ? 'revoked' : record.active ? 'active' : 'expired';
    if (stored !== newest?.token) {
      throw new InvariantError('(e) newest refresh token stored', `storage holds an older refresh token (${what}); the newest issued is ${newest?.active ? 'active' : 'inactive'}`);
    }
    if (!server.isActive(stored)) {
      throw new InvariantError('(e) newest refresh token stored', `storage holds the newest refresh token, but the server no longer honours it (${what})`);
    }
  }
  if (held !== undefined && held !== newest?.token) {
    throw new InvariantError('(e) newest refresh token stored', 'the client holds an older refresh token than the newest issued');
  }
}

/** (f) The recovery resolves within the liveness bound once the fault has stopped. */
export async function recovers<T>(label: string, recovery: () => Promise<T>, boundMs = LIVENESS_MS): Promise<T> {
  const [outcome] = await allSettleWithin([{ label: `recovery (${label})`, promise: recovery() }], boundMs).catch((error: unknown) => {
    throw new InvariantError('(f) recovery', error instanceof Error ? error.message : String(error));
  });
  if (outcome?.status === 'rejected') throw new InvariantError('(f) recovery', `${label} rejected with ${describeReason(outcome.reason)}`);
  return (outcome as { value: T }).value;
}

/** (g) No request loop: at most `max` requests to each endpoint since `from` (an index in `network.requests`). */
export function noRequestLoop(network: FaultyNetwork, from = 0, max = MAX_REQUESTS_PER_ENDPOINT): void {
  const counts = new Map<Endpoint, number>();
  for (const request of network.requests.slice(from)) counts.set(request.endpoint, (counts.get(request.endpoint) ?? 0) + 1);
  const loops = [...counts].filter(([, count]) => count > max);
  if (loops.length > 0) {
    throw new InvariantError('(g) no request loop', loops.map(([endpoint, count]) => `${count} requests to ${endpoint}`).join(', '));
  }
}

/** A contract of one fault (say, "a 3xx is unexpected_redirect"), named like the invariants. */
export function contract(condition: boolean, message: string): void {
  if (!condition) throw new InvariantError('contract', message);
}

export { describeReason };
