/**
 * What the request log keeps: parameters and a few headers, with secrets
 * replaced (tokens are never written to a log, see docs/security.md) unless `logSecrets`.
 */
import { mediaType } from './requestParsing.js';

export const REDACTED = '[redacted]';

const SECRET_PARAMS = new Set([
  'client_secret',
  'code',
  'code_verifier',
  'refresh_token',
  'password',
  'device_code',
  'token',
  'access_token',
  'client_assertion',
]);

const LOGGED_HEADERS = ['authorization', 'user-agent', 'content-type', 'origin'];

export function redactParams(params: Record<string, string>, keepSecrets: boolean): Record<string, string> {
  if (keepSecrets) return { ...params };
  const redacted: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) redacted[name] = SECRET_PARAMS.has(name) ? REDACTED : value;
  return redacted;
}

export function loggedHeaders(request: Request, keepSecrets: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of LOGGED_HEADERS) {
    const value = request.headers.get(name);
    if (value === null) continue;
    headers[name] = name === 'authorization' && !keepSecrets ? `${value.split(' ')[0] ?? ''} ${REDACTED}` : value;
  }
  return headers;
}

/**
 * Parameters for the log, read leniently (the endpoint itself parses
 * strictly): the query, plus the form or JSON body.
 */
export function paramsForLog(request: Request, text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URL(request.url).searchParams) params[name] = value;
  if (text === '') return params;
  const type = mediaType(request);
  if (type === 'application/x-www-form-urlencoded') {
    for (const [name, value] of new URLSearchParams(text)) params[name] = value;
  } else if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        for (const [name, value] of Object.entries(parsed)) params[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
    } catch {
      // Not JSON: the endpoint will say so; the log keeps what parsed.
    }
  }
  return params;
}

/** The client id from the body or from Basic credentials, for the log. */
export function clientIdForLog(request: Request, params: Record<string, string>): string | undefined {
  if (params.client_id !== undefined) return params.client_id;
  const match = /^Basic +(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!match?.[1]) return undefined;
  try {
    const decoded = atob(match[1]);
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
