/**
 * `createTestAuthorizationServer`: a strict, in-memory OAuth 2.1 / OpenID
 * authorization server for tests, with a `fetch` face (Web APIs only) and a
 * loopback HTTP face (`listen()`), both answering through one handler.
 */
import { queueFault } from './faults.js';
import { serverMetadata } from './metadata.js';
import { DROPPED, handleRequest } from './requestHandler.js';
import { checkClient, createServerState } from './serverState.js';
import { normalizeUserCode, type DeviceRecord } from './tokenStore.js';
import type {
  AuthorizationDecision,
  IssuedToken,
  ListeningServer,
  TestAuthorizationServerOptions,
  TestClient,
  TestClock,
  TestEndpoint,
  TestFault,
  TestFetch,
  TestLogEntry,
  TestUser,
} from './types.js';

/** A running test authorization server. */
export interface TestAuthorizationServer {
  /** The in-memory face's issuer (default `https://auth.test`). */
  readonly issuer: string;
  /**
   * A `fetch`-compatible function answering in memory: pass it as the `fetch`
   * service. Serves this server's issuer and the URL of any active `listen()`;
   * any other origin rejects with a `TypeError`, as an unreachable host does.
   * Honours `init.signal` (rejects with the signal's reason, an `AbortError`
   * `DOMException` for `abort()`), also during an injected delay. Redirects are
   * returned, never followed.
   */
  readonly fetch: TestFetch;
  /** The server's clock; expiry of codes, tokens and device codes follows it. */
  readonly clock: TestClock;
  /** Every request, in order (preflights excepted), with secrets redacted unless `logSecrets`. */
  readonly log: TestLogEntry[];
  /**
   * Serves the same server over HTTP on 127.0.0.1 (a random free port unless
   * `port` is given). On that face the issuer, metadata and `iss` follow
   * `http://127.0.0.1:<port>` (plus the configured issuer's path).
   */
  listen(options?: { port?: number }): Promise<ListeningServer>;
  /**
   * Follows an authorization request the way a browser would and returns the
   * URL the server redirects to (the callback with `code` or `error`, `state`,
   * `iss`). Throws when the server answers with a page instead (unknown client
   * or redirect URI: RFC 6749 §4.1.2.1).
   */
  authorize(url: string | URL): Promise<string>;
  /** Decides the next authorization request that reaches approval (queued, one per call). */
  nextAuthorization(decision: AuthorizationDecision): void;
  /** RFC 8628: the user approves the device authorization with this user code. */
  approveDevice(userCode: string, user?: TestUser): void;
  /** RFC 8628: the user denies it. */
  denyDevice(userCode: string): void;
  /** Injects a fault into the next `times` (default 1) requests to `endpoint`. */
  fail(endpoint: TestEndpoint, fault: TestFault, options?: { times?: number }): void;
  /** The log entries of token requests, optionally of one grant type. */
  tokenRequests(grantType?: string): TestLogEntry[];
  /** Every token issued so far, with its state now. */
  issuedTokens(): IssuedToken[];
  /** Whether a token was issued here and is neither expired, revoked nor rotated away. */
  isActive(token: string): boolean;
  /** Revokes a token as an administrator would (RFC 7009 semantics: a refresh token takes its grant along). Returns whether it was known. */
  revokeToken(token: string): boolean;
  /** Registers one more client. */
  registerClient(client: TestClient): void;
  /** The RFC 8414 metadata document as served at `issuer` (default: the in-memory issuer). */
  metadata(issuer?: string): Record<string, unknown>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Settles with `work`, or rejects as soon as `signal` aborts, like `fetch`. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Creates a test authorization server. For tests only: its ID tokens are
 * unsigned or HS256, its secrets are whatever the test registered.
 *
 * @example
 * const server = createTestAuthorizationServer({
 *   clients: [{ clientId: 'app', authMethod: 'none', redirectUris: ['https://app.test/cb'],
 *               grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'] }],
 * });
 * const callback = await server.authorize(authorizationUrl);
 * const response = await server.fetch(`${server.issuer}/token`, { method: 'POST', body: form });
 */
export function createTestAuthorizationServer(options: TestAuthorizationServerOptions = {}): TestAuthorizationServer {
  const state = createServerState(options);
  const issuer = state.config.issuer;
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  /** Issuers of the active loopback faces, which the in-memory face serves too. */
  const listening = new Set<string>();

  const issuerFor = (url: string): string | undefined => {
    for (const candidate of [issuer, ...listening]) {
      const base = new URL(candidate);
      const target = new URL(url);
      if (target.origin === base.origin) return candidate;
    }
    return undefined;
  };

  const findDevice = (userCode: string): DeviceRecord => {
    const wanted = normalizeUserCode(userCode);
    for (const record of state.store.devices.values()) {
      if (normalizeUserCode(record.userCode) === wanted) {
        if (record.status !== 'pending') throw new Error(`device authorization ${userCode} is already ${record.status}`);
        if (state.clock.now() >= record.expiresAt) throw new Error(`device authorization ${userCode} has expired`);
        return record;
      }
    }
    throw new Error(`no device authorization has the user code ${userCode}`);
  };

  const fetchInMemory: TestFetch = async (input, init) => {
    const request = new Request(input, init);
    const signal = request.signal;
    if (signal.aborted) throw abortReason(signal);
    const face = issuerFor(request.url);
    if (face === undefined) {
      throw new TypeError('fetch failed', { cause: new Error(`${new URL(request.url).origin} is not served by this test authorization server (${issuer})`) });
    }
    const result = await untilAborted(handleRequest(state, request, face, signal), signal);
    if (result === DROPPED) throw new TypeError('fetch failed', { cause: new Error('connection dropped (injected fault)') });
    return result;
  };

  return {
    issuer,
    fetch: fetchInMemory,
    clock: state.clock,
    log: state.log,
    async listen({ port = 0 } = {}) {
      // A computed specifier keeps bundlers from pulling node:http into browser bundles.
      const loopbackModule = './loopback.js';
      const { startLoopback } = (await import(/* @vite-ignore */ loopbackModule)) as typeof import('./loopback.js');
      const loopback = await startLoopback((request, faceIssuer, signal) => handleRequest(state, request, faceIssuer, signal), port, issuerPath);
      listening.add(loopback.issuer);
      return {
        url: loopback.url,
        issuer: loopback.issuer,
        close: async () => {
          listening.delete(loopback.issuer);
          await loopback.close();
        },
      };
    },
    async authorize(url) {
      const response = await fetchInMemory(String(url), { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status !== 302 || location === null) {
        const text = await response.text();
        throw new Error(`the authorization endpoint answered ${response.status} instead of redirecting: ${text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()}`);
      }
      return location;
    },
    nextAuthorization(decision) {
      state.decisions.push(decision);
    },
    approveDevice(userCode, user) {
      const record = findDevice(userCode);
      record.status = 'approved';
      if (user) record.user = user;
    },
    denyDevice(userCode) {
      findDevice(userCode).status = 'denied';
    },
    fail(endpoint, fault, { times = 1 } = {}) {
      queueFault(state, endpoint, fault, times);
    },
    tokenRequests(grantType) {
      return state.log.filter((entry) => entry.endpoint === 'token' && (grantType === undefined || entry.grantType === grantType));
    },
    issuedTokens() {
      return [...state.store.tokens.values()].map((record) => state.store.describe(record));
    },
    isActive(token) {
      const record = state.store.tokens.get(token);
      return record !== undefined && state.store.isActive(record);
    },
    revokeToken(token) {
      const record = state.store.tokens.get(token);
      if (!record) return false;
      state.store.revoke(record);
      return true;
    },
    registerClient(client) {
      checkClient(client);
      if (state.clients.has(client.clientId)) throw new TypeError(`client ${client.clientId} is registered twice`);
      state.clients.set(client.clientId, client);
    },
    metadata(atIssuer = issuer) {
      return serverMetadata(state, atIssuer);
    },
  };
}
