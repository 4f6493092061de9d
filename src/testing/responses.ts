/**
 * How the test server answers: JSON with `Cache-Control: no-store` (RFC 6749
 * §5.1), OAuth error bodies (§5.2), HTML pages, redirects.
 */

/** An OAuth error raised inside an endpoint; the handler turns it into a §5.2 response. */
export class OAuthFailure extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthFailure';
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...NO_STORE, ...headers },
  });
}

export function oauthErrorResponse(failure: OAuthFailure): Response {
  return jsonResponse(
    failure.status,
    { error: failure.code, error_description: failure.description },
    failure.headers,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function htmlPage(status: number, title: string, message: string): Response {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return new Response(page, { status, headers: { 'content-type': 'text/html;charset=UTF-8', ...NO_STORE } });
}

export function redirectResponse(location: string): Response {
  return new Response(null, { status: 302, headers: { location, ...NO_STORE } });
}
