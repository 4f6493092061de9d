/**
 * How some providers' token endpoints answer differently from RFC 6749 §5:
 * errors with HTTP 200 (GitHub; Slack with `ok: false`), and form-encoded
 * bodies unless the request asked for JSON (GitHub).
 */
import type { ServerState } from './serverState.js';

/** Whether the request's `Accept` names `application/json` itself (a wildcard does not count). */
function acceptsJson(request: Request): boolean {
  return (request.headers.get('accept') ?? '')
    .split(',')
    .some((range) => range.split(';')[0]?.trim().toLowerCase() === 'application/json');
}

/** A token or device authorization endpoint's `response` as the configured provider would send it. */
export async function tokenResponseQuirks(state: ServerState, request: Request, response: Response): Promise<Response> {
  const { quirks } = state.config;
  const form = quirks.formEncodedTokenResponses === 'always' || (quirks.formEncodedTokenResponses === 'unless-accept-json' && !acceptsJson(request));
  const errorWith200 = quirks.tokenErrorsWithStatus200 === true && response.status >= 400 && response.status < 500;
  const slackError = quirks.tokenResponseShape === 'slack' && !response.ok;
  if (!form && !errorWith200 && !slackError) return response;
  const body = (await response.json()) as Record<string, unknown>;
  const fields: Record<string, unknown> = slackError ? { ok: false, ...body } : body;
  const headers = new Headers(response.headers);
  const status = errorWith200 ? 200 : response.status;
  if (!form) return new Response(JSON.stringify(fields), { status, headers });
  headers.set('content-type', 'application/x-www-form-urlencoded; charset=utf-8');
  const encoded = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) encoded.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return new Response(encoded.toString(), { status, headers });
}
