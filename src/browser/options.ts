/**
 * The options of `createBrowserAuth`, and the refusal of anything a browser
 * cannot keep: a browser app is a public client (OAuth 2.1 §2.1), so a
 * client secret in it is not a secret.
 */

import * as v from 'valibot';
import type { GrantOptions } from '../../machines/types.js';
import {
  ClientSchema,
  OptionsSchema,
  ProviderSchema,
  ServicesSchema,
  checkGrantOptions,
  checkProviderForGrant,
  configError,
  needsDiscovery,
  parseConfig,
  type ProviderOption,
} from '../client/config.js';
import type { InspectOption } from '../client/core.js';
import type { PkceMethod } from '../protocol/types.js';
import { isRecord } from '../protocol/validators.js';
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

/** `client` of a browser app: a public client (OAuth 2.1 §2.1), so no secret. */
export interface BrowserClientConfig {
  clientId: string;
  /** Sent exactly as registered (RFC 9700 §4.1.3); the page that calls `handleCallback`. */
  redirectUri: string;
  scopes?: string[];
  /** `S256` by default; `plain` only by explicit opt-in (RFC 9700 §2.1.1). */
  pkceMethod?: PkceMethod;
  /** Only `'none'`: browser apps are public clients. Anything else is refused. */
  authMethod?: 'none';
}

/** `services` of a browser app: `storage` also takes `'session'`, `'local'` or `'memory'`. */
export type BrowserServices = Partial<Omit<Services, 'storage'>> & {
  /** Where the session lives. Default `'session'`. */
  storage?: BrowserStorageOption;
};

/** Options of {@link createBrowserAuth}: the one configuration shape, plus the façade-only `environment` and `inspect`. */
export interface BrowserAuthOptions {
  provider: ProviderOption;
  client: BrowserClientConfig;
  /** Any service; default navigation `location.assign`, default storage `'session'`. */
  services?: BrowserServices;
  /** Machine options (storage key, refresh skew, …), as for `createOAuthClient`. */
  options?: GrantOptions;
  /** Façade only: the browser APIs to use instead of the globals (tests, webviews): a part left out is read from the globals, a part given as `null` is absent. */
  environment?: BrowserEnvironment;
  /** Façade only: any XState inspection observer. */
  inspect?: InspectOption;
}

const ENTRY = 'createBrowserAuth';

function fail(message: string): never {
  return configError(ENTRY, message);
}

const NO_SECRET =
  'a browser app cannot keep a client secret: anyone can read it from the page or its bundle, so it must be registered as a public ' +
  "client (authMethod 'none', PKCE only; RFC 9700 §2.1, OAuth 2.1 §2.1). Keep confidential credentials on a server " +
  '(oauth-machines/server: a token proxy that keeps the secret there).';

const BrowserOptionsSchema = v.strictObject({
  provider: ProviderSchema,
  client: ClientSchema,
  // `storage` may be a name here, checked apart; the rest is the services schema's.
  services: v.optional(v.custom<unknown>(isRecord, 'services must be an object')),
  options: v.optional(OptionsSchema),
  environment: v.optional(v.custom<unknown>(isRecord, 'environment must be an object')),
  inspect: v.optional(v.union([v.function(), v.object({})], 'inspect must be an observer or a function')),
});

/**
 * Checks the options; throws a `TypeError` naming the problem: anything a
 * browser cannot keep first (a client secret), then the shared schemas.
 */
export function validateBrowserOptions(options: BrowserAuthOptions): void {
  if (!isRecord(options)) fail('options must be an object');
  // Read as untyped: JavaScript callers and spread configs can carry what the type forbids.
  const loose = options as unknown as Record<string, unknown>;
  for (const key of ['clientSecret', 'client_secret']) {
    if (loose[key] !== undefined) fail(`refusing option ${key}: ${NO_SECRET}`);
  }
  const client = loose['client'];
  if (isRecord(client)) {
    if (client['clientSecret'] !== undefined || client['client_secret'] !== undefined) fail(`refusing client.clientSecret: ${NO_SECRET}`);
    const authMethod = client['authMethod'];
    if (authMethod !== undefined && authMethod !== 'none') fail(`refusing client.authMethod ${JSON.stringify(authMethod)}: ${NO_SECRET}`);
  }
  parseConfig(ENTRY, BrowserOptionsSchema, options);
  const services = loose['services'];
  if (isRecord(services)) {
    const { storage, ...rest } = services;
    if (storage !== undefined && storage !== 'session' && storage !== 'local' && storage !== 'memory' && !isStorageService(storage)) {
      fail(`services.storage must be 'session', 'local', 'memory' or a StorageService (get, set, remove), got ${describe(storage)}`);
    }
    parseConfig(ENTRY, v.strictObject({ services: ServicesSchema }), { services: rest });
  }
  if (!isRecord(client) || typeof client['redirectUri'] !== 'string') fail('client.redirectUri is required: the page that handles the callback');
  checkGrantOptions(ENTRY, options.options);
  const { provider } = options;
  if (!needsDiscovery(provider)) checkProviderForGrant(provider, 'authorization_code', fail);
}

function isStorageService(value: unknown): value is StorageService {
  if (!isRecord(value)) return false;
  return typeof value['get'] === 'function' && typeof value['set'] === 'function' && typeof value['remove'] === 'function';
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
