/**
 * The user's side of an interactive login, driven like a browser would but
 * without one: a path-aware cookie jar, manual redirect following with plain
 * `fetch`, and HTML forms read from the page (action, hidden inputs, the
 * first submit button) rather than guessed.
 *
 * Written for oidc-provider's dev interactions (login form, consent form,
 * device code pages, logout confirmation) but knows nothing of their URLs.
 */

/** One stored cookie (RFC 6265 §5.3); only what a loopback test needs. */
interface StoredCookie {
  name: string;
  value: string;
  host: string;
  /** Domain attribute given: the cookie goes to subdomains too (RFC 6265 §5.1.3). */
  hostOnly: boolean;
  path: string;
  /** Epoch ms; `undefined` for a session cookie. */
  expiresAt?: number;
}

/**
 * A cookie jar that honours Domain, Path, Expires and Max-Age. HttpOnly is
 * irrelevant without scripts; Secure is ignored because every test server is
 * plain-HTTP loopback (where browsers treat it as a secure context anyway).
 */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Stores the `Set-Cookie` headers of a response to `requestUrl`. */
  store(requestUrl: string | URL, setCookieHeaders: readonly string[]): void {
    const url = new URL(requestUrl);
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(header, url, this.#now());
      if (cookie === undefined) continue;
      const key = `${cookie.host};${cookie.path};${cookie.name}`;
      // RFC 6265 §5.3 step 11/12: an expiry in the past removes the cookie.
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= this.#now()) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }

  /** The `Cookie` header for a request to `requestUrl`, or `undefined` when no cookie applies. */
  header(requestUrl: string | URL): string | undefined {
    const url = new URL(requestUrl);
    const now = this.#now();
    const matching: StoredCookie[] = [];
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) {
        this.#cookies.delete(key);
        continue;
      }
      if (domainMatches(url.hostname, cookie) && pathMatches(url.pathname, cookie.path)) matching.push(cookie);
    }
    if (matching.length === 0) return undefined;
    // RFC 6265 §5.4 step 2: longer paths first.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** Names of the cookies that would be sent to `requestUrl` (for assertions and debugging). */
  names(requestUrl: string | URL): string[] {
    const header = this.header(requestUrl);
    return header === undefined ? [] : header.split('; ').map((pair) => pair.slice(0, pair.indexOf('=')));
  }
}

function parseSetCookie(header: string, url: URL, now: number): StoredCookie | undefined {
  const [pair = '', ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie: StoredCookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    host: url.hostname,
    hostOnly: true,
    path: defaultPath(url.pathname),
  };
  let maxAge: number | undefined;
  let expires: number | undefined;
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const name = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? '' : attribute.slice(at + 1).trim();
    if (name === 'path' && value.startsWith('/')) cookie.path = value;
    else if (name === 'domain' && value !== '') {
      const domain = value.replace(/^\./, '').toLowerCase();
      // RFC 6265 §5.3 step 6: a Domain the request host is not within is rejected.
      if (url.hostname !== domain && !url.hostname.endsWith(`.${domain}`)) return undefined;
      cookie.host = domain;
      cookie.hostOnly = false;
    } else if (name === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
    else if (name === 'expires') {
      const parsed = Date.parse(value);
      if (!Number.isNaN(parsed)) expires = parsed;
    }
  }
  // RFC 6265 §5.3 step 3: Max-Age wins over Expires.
  if (maxAge !== undefined) cookie.expiresAt = maxAge <= 0 ? 0 : now + maxAge * 1000;
  else if (expires !== undefined) cookie.expiresAt = expires;
  return cookie;
}

/** RFC 6265 §5.1.4: the default path is the request path up to its last `/`. */
function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/';
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 §5.1.3 domain-match. */
function domainMatches(hostname: string, cookie: StoredCookie): boolean {
  if (cookie.hostOnly) return hostname === cookie.host;
  return hostname === cookie.host || hostname.endsWith(`.${cookie.host}`);
}

/** A form as a browser would submit it. */
interface HtmlForm {
  action: string;
  method: 'GET' | 'POST';
  fields: Array<{ name: string; value: string; type: string }>;
  /** The form's abort button (`name="abort"`), which only a user who declines clicks. */
  abort?: { name: string; value: string };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function attributesOf(tag: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  // Skip the tag name itself.
  const inner = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const match of inner.matchAll(pattern)) {
    const name = match[1];
    if (name === undefined) continue;
    attributes.set(name.toLowerCase(), decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

/**
 * The forms of a page: inputs inside each form plus inputs and buttons
 * elsewhere that name it with `form="id"` (oidc-provider puts its buttons
 * outside the device and logout forms). The first submit button that has a
 * name contributes its value, unless it is an abort button.
 */
export function readForms(html: string, pageUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  const formPattern = /<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi;
  for (const match of html.matchAll(formPattern)) {
    const [whole, body = ''] = match;
    const open = attributesOf(whole.slice(0, whole.indexOf('>') + 1));
    const id = open.get('id');
    const method = (open.get('method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
    const action = new URL(open.get('action') || pageUrl, pageUrl).href;
    const controls: string[] = [...body.matchAll(/<(?:input|button)\b[^>]*>/gi)].map((m) => m[0]);
    if (id !== undefined) {
      for (const m of html.matchAll(/<(?:input|button)\b[^>]*>/gi)) {
        if (attributesOf(m[0]).get('form') === id && !controls.includes(m[0])) controls.push(m[0]);
      }
    }
    const fields: HtmlForm['fields'] = [];
    let submitterChosen = false;
    let abort: HtmlForm['abort'];
    for (const control of controls) {
      const attributes = attributesOf(control);
      const isButton = /^<\s*button/i.test(control);
      const type = (attributes.get('type') ?? (isButton ? 'submit' : 'text')).toLowerCase();
      const name = attributes.get('name');
      if (type === 'submit' || type === 'button' || type === 'image') {
        if (type !== 'submit') continue;
        // A browser user clicks the main button: the first one, never an abort.
        if (name === 'abort') {
          abort ??= { name, value: attributes.get('value') ?? '' };
          continue;
        }
        if (submitterChosen) continue;
        submitterChosen = true;
        if (name !== undefined) fields.push({ name, value: attributes.get('value') ?? '', type });
        continue;
      }
      if (name === undefined) continue;
      fields.push({ name, value: attributes.get('value') ?? '', type });
    }
    forms.push(abort === undefined ? { action, method, fields } : { action, method, fields, abort });
  }
  return forms;
}

function pageTitle(html: string): string {
  const match = /<title>([\s\S]*?)<\/title>/i.exec(html) ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html);
  return decodeEntities(match?.[1]?.trim() ?? '');
}

function textOf(html: string): string {
  return decodeEntities(html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

export interface Credentials {
  /** The login typed into the login form (oidc-provider's dev interactions take any). Default `alice`. */
  login?: string;
  /** Default `pw`. */
  password?: string;
}

export interface ApproveDeviceOptions extends Credentials {
  /** The `verification_uri` (e.g. `http://127.0.0.1:1234/device`), needed when only a user code is given. */
  verificationUri?: string;
}

/** What happened when the user agent had nothing more to do (the page it ended on). */
export interface FinalPage {
  url: string;
  status: number;
  title: string;
  text: string;
}

/** At most this many requests per interaction; a loop on the server side fails the test instead of hanging it. */
const MAX_STEPS = 25;

/**
 * A user agent with its own cookie jar: one "browser profile". Logging in
 * twice with the same agent reuses the provider's session (no second login
 * form), as a real browser would.
 */
export class UserAgent {
  readonly jar = new CookieJar();
  /** Every URL requested, in order (for debugging a failed interaction). */
  readonly history: string[] = [];

  /** One request with this agent's cookies; redirects are returned, not followed. */
  async request(url: string, init: { method?: 'GET' | 'POST'; form?: URLSearchParams } = {}): Promise<Response> {
    const headers = new Headers({ accept: 'text/html,application/xhtml+xml' });
    const cookie = this.jar.header(url);
    if (cookie !== undefined) headers.set('cookie', cookie);
    if (init.form !== undefined) headers.set('content-type', 'application/x-www-form-urlencoded');
    this.history.push(`${init.method ?? 'GET'} ${url}`);
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.form === undefined ? {} : { body: init.form.toString() }),
    });
    this.jar.store(url, response.headers.getSetCookie());
    return response;
  }

  /**
   * Follows an authorization request through login and consent and returns
   * the URL the provider redirects to at the client's `redirect_uri` (not
   * followed): the authorization response with `code`, `state`, `iss` (or
   * the error response).
   */
  async authorize(authorizationUrl: string, credentials: Credentials = {}): Promise<string> {
    const start = new URL(authorizationUrl);
    const redirectUri = start.searchParams.get('redirect_uri');
    const isCallback = (location: URL): boolean =>
      redirectUri !== null
        ? `${location.origin}${location.pathname}` === redirectUri.replace(/[?#].*$/, '')
        : location.origin !== start.origin;
    const outcome = await this.#drive(authorizationUrl, credentials, {}, isCallback);
    if (typeof outcome === 'string') return outcome;
    throw new Error(`authorization ended on a page, not at the redirect URI: ${describe(outcome)}\n${this.#trail()}`);
  }

  /**
   * Plays the user of RFC 8628 §3.3: opens the verification URI (complete,
   * or plain with the user code typed in), confirms the code, logs in and
   * consents. Resolves once the provider shows its success page.
   */
  async approveDevice(verificationUriCompleteOrUserCode: string, options: ApproveDeviceOptions = {}): Promise<FinalPage> {
    const isUrl = /^https?:\/\//.test(verificationUriCompleteOrUserCode);
    if (!isUrl && options.verificationUri === undefined) {
      throw new TypeError('approveDevice: a user code needs options.verificationUri');
    }
    const start = isUrl ? verificationUriCompleteOrUserCode : (options.verificationUri as string);
    const typed = isUrl ? {} : { user_code: verificationUriCompleteOrUserCode };
    const outcome = await this.#drive(start, options, typed, (location) => location.origin !== new URL(start).origin, false);
    if (typeof outcome === 'string') throw new Error(`device approval left the provider for ${outcome}\n${this.#trail()}`);
    if (!/success/i.test(outcome.title)) {
      throw new Error(`device approval did not succeed: ${describe(outcome)}\n${this.#trail()}`);
    }
    return outcome;
  }

  /**
   * Plays a user who declines a device (RFC 8628 §3.5 `access_denied`):
   * opens the verification URI and clicks the confirmation page's abort
   * button. Resolves with the page the provider shows afterwards.
   */
  async denyDevice(verificationUriComplete: string): Promise<FinalPage> {
    const origin = new URL(verificationUriComplete).origin;
    const outcome = await this.#drive(verificationUriComplete, {}, {}, (location) => location.origin !== origin, true);
    if (typeof outcome === 'string') throw new Error(`device denial left the provider for ${outcome}\n${this.#trail()}`);
    return outcome;
  }

  /**
   * Follows redirects and submits forms until `isDone(location)` says a
   * redirect is the end (returns its URL) or a page has no form (returns it).
   */
  async #drive(
    url: string,
    credentials: Credentials,
    typed: Record<string, string>,
    isDone: (location: URL) => boolean,
    declining = false,
  ): Promise<string | FinalPage> {
    let declined = false;
    let next: { url: string; method: 'GET' | 'POST'; form?: URLSearchParams } = { url, method: 'GET' };
    let previousForm: string | undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      const response = await this.request(next.url, next);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        const target = new URL(location, next.url);
        if (isDone(target)) return target.href;
        next = { url: target.href, method: 'GET' };
        continue;
      }
      const html = await response.text();
      const page: FinalPage = { url: next.url, status: response.status, title: pageTitle(html), text: textOf(html) };
      const forms = readForms(html, next.url);
      const form = forms.find((f) => f.method === 'POST') ?? forms[0];
      if (response.status >= 400 || form === undefined || declined) return page;
      // The same form again is how a provider says "that was wrong" (an unknown user code, a bad password).
      const signature = `${form.action} ${form.fields.map((f) => f.name).join(',')}`;
      if (signature === previousForm) return page;
      previousForm = signature;
      next = { url: form.action, method: form.method, form: fillForm(form, credentials, typed) };
      if (declining && form.abort !== undefined) {
        // The user clicks abort instead: the form is sent with the abort button's value, and that is the last step.
        next.form?.append(form.abort.name, form.abort.value);
        declined = true;
      }
      if (form.method === 'GET') {
        const target = new URL(form.action);
        for (const [name, value] of next.form ?? []) target.searchParams.append(name, value);
        next = { url: target.href, method: 'GET' };
      }
    }
    throw new Error(`no end after ${MAX_STEPS} requests\n${this.#trail()}`);
  }

  #trail(): string {
    return this.history.map((line) => `  ${line}`).join('\n');
  }
}

function fillForm(form: HtmlForm, credentials: Credentials, typed: Record<string, string>): URLSearchParams {
  const body = new URLSearchParams();
  for (const field of form.fields) {
    const typedValue = typed[field.name];
    if (typedValue !== undefined && field.value === '') body.append(field.name, typedValue);
    else if (field.type === 'password') body.append(field.name, credentials.password ?? 'pw');
    else if (field.type !== 'hidden' && /^(login|username|email)$/i.test(field.name) && field.value === '') {
      body.append(field.name, credentials.login ?? 'alice');
    } else body.append(field.name, field.value);
  }
  return body;
}

function describe(page: FinalPage): string {
  return `${page.status} ${page.url} "${page.title}" ${page.text.slice(0, 300)}`;
}

/** {@link UserAgent.authorize} with a fresh user agent (no provider session yet). */
export function authorize(authorizationUrl: string, credentials: Credentials = {}): Promise<string> {
  return new UserAgent().authorize(authorizationUrl, credentials);
}

/** {@link UserAgent.denyDevice} with a fresh user agent. */
export function denyDevice(verificationUriComplete: string): Promise<FinalPage> {
  return new UserAgent().denyDevice(verificationUriComplete);
}

/** {@link UserAgent.approveDevice} with a fresh user agent. */
export function approveDevice(verificationUriCompleteOrUserCode: string, options: ApproveDeviceOptions = {}): Promise<FinalPage> {
  return new UserAgent().approveDevice(verificationUriCompleteOrUserCode, options);
}
