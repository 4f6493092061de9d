/**
 * The client's side of the network in a fault test: a `fetch` that records
 * every request the library makes (endpoint, parameters, how many are in
 * flight at once, what came back), tells a listener about each call, and — on
 * the in-memory transport — applies an armed fault to the requests of one
 * endpoint until it is disarmed.
 */
import type { FetchLike } from '../../src/services/types.js';
import type { TestAuthorizationServer, TestFault } from '../../src/testing/index.js';

export type Endpoint = 'token' | 'revoke' | 'device_authorization' | 'metadata' | 'userinfo' | 'other';

/** Which endpoint of the test server (default paths) a URL is. */
export function endpointOf(path: string): Endpoint {
  if (path.startsWith('/.well-known/') || path.endsWith('/.well-known/openid-configuration')) return 'metadata';
  if (path.endsWith('/token')) return 'token';
  if (path.endsWith('/revoke')) return 'revoke';
  if (path.endsWith('/device_authorization')) return 'device_authorization';
  if (path.endsWith('/userinfo')) return 'userinfo';
  return 'other';
}

/**
 * A fault of the in-memory transport:
 * - `server`: the test server's own fault injection (`server.fail`), armed for one request at a time;
 * - `rewrite`: the server answers, then the JSON body of a 2xx answer is replaced (an odd `expires_in`);
 * - `before`: runs before the request goes to the server (the clock jumps).
 */
export type MemoryFault =
  | { server: TestFault }
  | { rewrite: (body: Record<string, unknown>) => Record<string, unknown> }
  | { before: () => void };

export interface RequestRecord {
  endpoint: Endpoint;
  /** Form parameters of the request body (or the query). */
  params: Record<string, string>;
  /** `performance.now()` when the library called fetch, and when fetch settled. */
  startedAt: number;
  settledAt?: number;
  /** The same two moments on the test server's clock (the clock the machines' timers run on). */
  clockStartedAt?: number;
  clockSettledAt?: number;
  status?: number;
  /** The `Retry-After` header of the answer. */
  retryAfter?: string;
  /** What fetch rejected with. */
  error?: unknown;
}

export interface FaultyNetwork {
  /** The fetch the library is given. */
  readonly fetch: FetchLike;
  readonly requests: RequestRecord[];
  /** The most requests to `endpoint` (of `grantType`, when given) that were in flight at once (from the call until fetch settled). */
  maxInFlight(endpoint: Endpoint, grantType?: string): number;
  inFlight(endpoint: Endpoint, grantType?: string): number;
  /** Called as each request starts. */
  onCall: ((endpoint: Endpoint) => void) | undefined;
  /** In-memory transport only: applies `fault` to every request to `endpoint` until {@link FaultyNetwork.disarm}. */
  arm(endpoint: Endpoint, fault: MemoryFault): void;
  disarm(): void;
  /** Requests an armed fault was applied to. */
  readonly hits: number;
}

function paramsOf(url: URL, init: RequestInit | undefined): Record<string, string> {
  const params: Record<string, string> = Object.fromEntries(url.searchParams);
  const body = init?.body;
  if (typeof body === 'string') Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
  else if (body instanceof URLSearchParams) Object.assign(params, Object.fromEntries(body));
  return params;
}

/**
 * `server` is the test server for the in-memory transport (faults are armed
 * on it); `transport` is what actually sends (its `fetch`, or a real fetch
 * towards the faulty loopback server).
 */
export function faultyNetwork(transport: FetchLike, server: TestAuthorizationServer | undefined): FaultyNetwork {
  const requests: RequestRecord[] = [];
  const current = new Map<string, number>();
  const most = new Map<string, number>();
  const keyOf = (endpoint: Endpoint, grantType?: string): string => (grantType === undefined ? endpoint : `${endpoint} ${grantType}`);
  let armed: { endpoint: Endpoint; fault: MemoryFault } | undefined;
  let hits = 0;

  const send = async (endpoint: Endpoint, input: string | URL | Request, init: RequestInit | undefined): Promise<Response> => {
    const fault = armed?.endpoint === endpoint ? armed.fault : undefined;
    if (fault === undefined) return transport(input, init);
    if (server === undefined) throw new Error('faultyNetwork: in-memory faults need the test server');
    hits += 1;
    if ('server' in fault) {
      server.fail(endpoint as Exclude<Endpoint, 'other'>, fault.server);
      return transport(input, init);
    }
    if ('before' in fault) {
      fault.before();
      return transport(input, init);
    }
    const response = await transport(input, init);
    if (!response.ok) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(fault.rewrite(body)), { status: response.status, headers: response.headers });
  };

  const network: FaultyNetwork = {
    requests,
    onCall: undefined,
    maxInFlight: (endpoint, grantType) => most.get(keyOf(endpoint, grantType)) ?? 0,
    inFlight: (endpoint, grantType) => current.get(keyOf(endpoint, grantType)) ?? 0,
    arm(endpoint, fault) {
      armed = { endpoint, fault };
    },
    disarm() {
      armed = undefined;
    },
    get hits() {
      return hits;
    },
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const endpoint = endpointOf(url.pathname);
      const record: RequestRecord = { endpoint, params: paramsOf(url, init), startedAt: performance.now(), ...(server === undefined ? {} : { clockStartedAt: server.clock.now() }) };
      requests.push(record);
      const keys = [keyOf(endpoint), ...(record.params['grant_type'] === undefined ? [] : [keyOf(endpoint, record.params['grant_type'])])];
      for (const key of keys) {
        const now = (current.get(key) ?? 0) + 1;
        current.set(key, now);
        most.set(key, Math.max(most.get(key) ?? 0, now));
      }
      const sent = send(endpoint, input, init);
      network.onCall?.(endpoint);
      try {
        const response = await sent;
        record.status = response.status;
        const retryAfter = response.headers.get('retry-after');
        if (retryAfter !== null) record.retryAfter = retryAfter;
        return response;
      } catch (error) {
        record.error = error;
        throw error;
      } finally {
        record.settledAt = performance.now();
        if (server !== undefined) record.clockSettledAt = server.clock.now();
        for (const key of keys) current.set(key, (current.get(key) ?? 1) - 1);
      }
    },
  };
  return network;
}
