/**
 * The options of `createBrowserAuth`, and the refusal of anything a browser
 * cannot keep: a browser app is a public client (OAuth 2.1 §2.1), so a
 * client secret in it is not a secret.
 */

import type { OAuthClientOptions } from '../client/options.js';
import type { Services, StorageService } from '../services/types.js';
import type { BrowserEnvironment } from './environment.js';

/**
 * Where the session lives: `'session'` (default, `sessionStorage`: this tab,
 * survives reloads), `'local'` (`localStorage`: every tab of the origin,
 * survives restarts), `'memory'` (this page only; a redirect login cannot
 * complete across the reload unless the callback is handled in a popup or
 * iframe), or any `StorageService` (IndexedDB, an encrypted store…).
 */
export type BrowserStorageOption = 'session' | 'local' | 'memory' | StorageService;

/** Options of {@link createBrowserAuth}. */
export interface BrowserAuthOptions
  extends Omit<OAuthClientOptions<'authorization_code'>, 'grant' | 'clientSecret' | 'authMethod' | 'redirectUri' | 'services'> {
  /** Sent exactly as registered (RFC 9700 §4.1.3); the page that calls `handleRedirectCallback`. */
  redirectUri: string;
  /** Only `'none'`: browser apps are public clients. Anything else is refused. */
  authMethod?: 'none';
  /** Where the session lives. Default `'session'`. */
  storage?: BrowserStorageOption;
  /** Any other service (fetch, crypto, clock, navigate); storage comes from `storage`. Default navigation: `location.assign`. */
  services?: Partial<Omit<Services, 'storage'>>;
  /** The browser APIs to use instead of the globals (tests, webviews): a part left out is read from the globals, a part given as `null` is absent. */
  environment?: BrowserEnvironment;
}

function fail(message: string): never {
  throw new TypeError(`createBrowserAuth: ${message}`);
}

const NO_SECRET =
  'a browser app cannot keep a client secret: anyone can read it from the page or its bundle, so it must be registered as a public ' +
  "client (authMethod 'none', PKCE only; RFC 9700 §2.1, OAuth 2.1 §2.1). Keep confidential credentials on a server " +
  '(oauth-machines/server: a token proxy that keeps the secret there).';

/**
 * Checks what only the browser entry forbids or needs; the client checks the
 * rest (client id, scopes, provider). Throws a `TypeError` naming the problem.
 */
export function validateBrowserOptions(options: BrowserAuthOptions): void {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  // Read as untyped: JavaScript callers and spread configs can carry what the type forbids.
  const loose = options as unknown as Record<string, unknown>;
  for (const key of ['clientSecret', 'client_secret']) {
    if (loose[key] !== undefined) fail(`refusing option ${key}: ${NO_SECRET}`);
  }
  const client = loose['client'];
  if (typeof client === 'object' && client !== null) {
    const nested = client as Record<string, unknown>;
    if (nested['clientSecret'] !== undefined || nested['client_secret'] !== undefined) fail(`refusing client.clientSecret: ${NO_SECRET}`);
  }
  const authMethod = loose['authMethod'];
  if (authMethod !== undefined && authMethod !== 'none') {
    fail(`refusing authMethod ${JSON.stringify(authMethod)}: ${NO_SECRET}`);
  }
  const services = loose['services'];
  if (typeof services === 'object' && services !== null && (services as Record<string, unknown>)['storage'] !== undefined) {
    fail("pass storage as the 'storage' option ('session', 'local', 'memory' or a StorageService), not services.storage");
  }
  const storage = loose['storage'];
  if (storage !== undefined && storage !== 'session' && storage !== 'local' && storage !== 'memory' && !isStorageService(storage)) {
    fail(`storage must be 'session', 'local', 'memory' or a StorageService (get, set, remove), got ${describe(storage)}`);
  }
  if (typeof loose['redirectUri'] !== 'string') fail('redirectUri is required: the page that handles the callback');
}

function isStorageService(value: unknown): value is StorageService {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate['get'] === 'function' && typeof candidate['set'] === 'function' && typeof candidate['remove'] === 'function';
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
