/**
 * The vanilla single-page app: `createBrowserAuth` and a page that shows the
 * machine's state, the tokens (redacted), and the typed error of a callback
 * that fails — a forged one included.
 *
 * Configuration comes from `./config.json` next to the page (so one build
 * serves any authorization server), for example:
 * `{ "issuer": "http://127.0.0.1:9000", "clientId": "spa", "scopes": ["openid", "offline_access"] }`
 * Without `tokenEndpoint` the provider is discovered from `issuer`.
 */
import { createBrowserAuth, isOAuthError, type BrowserAuth, type BrowserAuthOptions, type TokenSet } from '../../src/browser/index.js';

interface ExampleConfig {
  issuer: string;
  clientId: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  redirectUri?: string;
  scopes?: string[];
  storage?: 'session' | 'local' | 'memory';
}

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found;
}

/** Tokens never go on screen or into a log whole: enough to tell two apart, not enough to use one. */
function redact(token: string | undefined): string {
  if (token === undefined) return '—';
  return token.length <= 8 ? '•'.repeat(token.length) : `${token.slice(0, 4)}…${token.slice(-2)} (${token.length} chars)`;
}

function showError(error: unknown): void {
  const text = isOAuthError(error)
    ? `${error.code}${error.description ? `: ${error.description}` : ''}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  element('error').textContent = text;
  element('error').dataset['code'] = isOAuthError(error) ? error.code : 'unexpected';
}

function showTokens(tokens: TokenSet | undefined): void {
  element('token').textContent = redact(tokens?.accessToken);
  element('refresh-token').textContent = redact(tokens?.refreshToken);
  element('expires').textContent =
    tokens === undefined ? '—' : tokens.expiresAt === undefined ? 'never' : new Date(tokens.expiresAt).toISOString();
}

async function loadConfig(): Promise<ExampleConfig> {
  const response = await fetch(new URL('./config.json', location.href));
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return (await response.json()) as ExampleConfig;
}

function optionsFrom(config: ExampleConfig): BrowserAuthOptions {
  const redirectUri = config.redirectUri ?? `${location.origin}${location.pathname}`;
  const provider =
    config.tokenEndpoint === undefined
      ? { issuer: config.issuer }
      : {
          issuer: config.issuer,
          tokenEndpoint: config.tokenEndpoint,
          ...(config.authorizationEndpoint === undefined ? {} : { authorizationEndpoint: config.authorizationEndpoint }),
          ...(config.revocationEndpoint === undefined ? {} : { revocationEndpoint: config.revocationEndpoint }),
        };
  return {
    provider,
    client: { clientId: config.clientId, redirectUri, scopes: config.scopes ?? ['openid', 'offline_access'] },
    services: { storage: config.storage ?? 'session' },
  };
}

function isCallback(): boolean {
  const params = new URLSearchParams(location.search);
  return params.has('state') && (params.has('code') || params.has('error'));
}

function wire(auth: BrowserAuth): void {
  auth.onTokenChange(showTokens);
  const showState = (snapshot: ReturnType<typeof auth.actor.getSnapshot>): void => {
    element('state').textContent = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
    element('tags').replaceChildren(
      ...[...snapshot.tags].map((tag) => {
        const span = document.createElement('span');
        span.textContent = tag;
        return span;
      }),
    );
    const error = snapshot.context.error;
    if (error !== undefined && snapshot.hasTag('error')) showError(Object.assign(new Error(error.description ?? error.code), error));
  };
  // subscribe() reports changes only: show where the actor is now, then follow it.
  showState(auth.actor.getSnapshot());
  auth.actor.subscribe(showState);
  element('login').addEventListener('click', () => {
    element('error').textContent = '';
    auth.login().catch(showError);
  });
  // The same login in a window of its own: called right in the click, or the browser blocks the window.
  element('login-popup').addEventListener('click', () => {
    element('error').textContent = '';
    auth.loginPopup().then(showTokens, showError);
  });
  // The promise API refreshes only when needed; the button asks the machine directly, as a UI may.
  element('refresh').addEventListener('click', () => auth.actor.send({ type: 'REFRESH' }));
  element('logout').addEventListener('click', () => {
    auth.logout().catch(showError);
  });
  element('forge').addEventListener('click', (event) => {
    event.preventDefault();
    const forged = new URL(location.href);
    forged.search = '?code=forged-code&state=forged-state';
    location.assign(forged.href);
  });
}

async function main(): Promise<void> {
  const auth = createBrowserAuth(optionsFrom(await loadConfig()));
  // The callback page inside a login window: hand the callback to the page that opened it, and close.
  if (isCallback() && window.opener !== null) return auth.handlePopupCallback();
  await auth.ready;
  wire(auth);
  showTokens(await auth.getTokens());
  if (isCallback()) await auth.handleCallback();
}

main().catch(showError);
