/**
 * Injected faults: what a flaky network or a broken provider does to a
 * request, queued per endpoint by `server.fail`.
 */
import { htmlPage, jsonResponse } from './responses.js';
import type { ServerState } from './serverState.js';
import type { TestEndpoint, TestFault } from './types.js';

export function queueFault(state: ServerState, endpoint: TestEndpoint, fault: TestFault, times: number): void {
  if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
  const queue = state.faults.get(endpoint) ?? [];
  queue.push({ fault, remaining: times });
  state.faults.set(endpoint, queue);
}

/** The fault for this request, if one is queued (each queued fault applies `times` times, in order). */
export function takeFault(state: ServerState, endpoint: TestEndpoint): TestFault | undefined {
  const queue = state.faults.get(endpoint);
  const next = queue?.[0];
  if (!queue || !next) return undefined;
  next.remaining -= 1;
  if (next.remaining === 0) queue.shift();
  return next.fault;
}

export function faultName(fault: TestFault): string {
  if ('delayMs' in fault) return 'delay';
  if ('drop' in fault) return 'drop';
  if ('notJson' in fault) return 'notJson';
  if ('wrongShape' in fault) return 'wrongShape';
  if ('oauthError' in fault) return 'oauthError';
  return 'status';
}

/** Valid JSON that a strict client must refuse: the right fields with the wrong types. */
const WRONG_SHAPES: Record<TestEndpoint, unknown> = {
  token: { access_token: 12345, token_type: ['Bearer'], expires_in: 'soon' },
  authorize: ['not', 'a', 'redirect'],
  revoke: ['unexpected'],
  introspect: { active: 'yes' },
  userinfo: { sub: 42 },
  device_authorization: { device_code: 7, user_code: null, verification_uri: false, expires_in: '600' },
  metadata: { issuer: 42, token_endpoint: ['nowhere'] },
  token_info: { client_id: 1, scopes: 'all', expires_at: 'tomorrow' },
  end_session: ['not', 'a', 'redirect'],
};

/** The response a fault produces by itself (delay and drop are handled by the faces). */
export function faultResponse(endpoint: TestEndpoint, fault: TestFault): Response | undefined {
  if ('status' in fault && !('oauthError' in fault) && !('notJson' in fault)) {
    const response = statusResponse(fault.status, fault.body);
    for (const [name, value] of Object.entries(fault.headers ?? {})) response.headers.set(name, value);
    return response;
  }
  if ('oauthError' in fault) {
    const status = fault.status ?? (fault.oauthError === 'invalid_client' ? 401 : 400);
    return jsonResponse(status, { error: fault.oauthError, error_description: fault.description ?? 'injected fault' });
  }
  if ('notJson' in fault) return htmlPage(fault.status ?? 200, 'Gateway says hello', 'An HTML page where JSON was expected (injected fault).');
  if ('wrongShape' in fault) return jsonResponse(200, WRONG_SHAPES[endpoint]);
  return undefined;
}

function statusResponse(status: number, body: string | Record<string, unknown> | unknown[] | undefined): Response {
  if (body === undefined) return new Response(null, { status });
  if (typeof body === 'string') return new Response(body, { status, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
  return jsonResponse(status, body);
}

/** Waits `ms` of real time, rejecting with the signal's reason if it aborts first. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
