/**
 * The options of `createOAuthClient`, checked up front: a misconfigured client
 * fails at construction with a `TypeError` that says what to fix, never later
 * inside a redirect.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { resolveGrantOptions, type GrantOptions } from '../../machines/types.js';
import type { ClientAuthMethod, ClientConfig, PkceMethod, ProviderConfig } from '../protocol/types.js';
import type { Services } from '../services/types.js';

/** The grants the client drives, one machine each. */
export type OAuthGrant = 'authorization_code' | 'client_credentials' | 'device_code';

/**
 * Where the provider is: a full `ProviderConfig` (written by hand or a profile
 * from `oauth-machines/providers`), or `{ issuer }` for discovery (RFC 8414 /
 * OpenID Connect Discovery), optionally with fields that override the
 * discovered ones (for example `quirks`).
 */
export type ProviderOption = ProviderConfig | (Partial<ProviderConfig> & { issuer: string });

/** Options of {@link createOAuthClient}. */
export interface OAuthClientOptions<G extends OAuthGrant = OAuthGrant> {
  grant: G;
  provider: ProviderOption;
  clientId: string;
  /** Confidential clients only; never ship one to a browser. */
  clientSecret?: string;
  authMethod?: ClientAuthMethod;
  /** Required for `authorization_code`; sent exactly as registered (RFC 9700 §4.1.3). */
  redirectUri?: string;
  scopes?: string[];
  /**
   * RFC 8707 resource indicator (an absolute URI without fragment) of the `client_credentials`
   * grant: every token request, renewals included, asks for a token for this resource.
   */
  resource?: string;
  /** `S256` by default; `plain` only by explicit opt-in (RFC 9700 §2.1.1). */
  pkceMethod?: PkceMethod;
  /** `User-Agent` of every request (servers; some providers, like Path of Exile, require a format). */
  userAgent?: string;
  /** Any subset of the services; `defaultServices` fills the rest. */
  services?: Partial<Services>;
  /** Any XState inspection observer, passed to `createActor` (the inspector, `createFlowRecorder()`). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Prefix of the storage keys (default `'oauth-machines'`); two clients sharing one storage need different keys. */
  storageKey?: string;
  /** Machine options: refresh skew, callback time to live, retries, restore. */
  options?: GrantOptions;
}

const GRANTS: readonly string[] = ['authorization_code', 'client_credentials', 'device_code'];
const AUTH_METHODS: readonly string[] = ['none', 'client_secret_post', 'client_secret_basic'];
const PKCE_METHODS: readonly string[] = ['S256', 'plain'];

function fail(message: string): never {
  throw new TypeError(`createOAuthClient: ${message}`);
}

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether the provider option asks for discovery (no token endpoint given). */
export function needsDiscovery(provider: ProviderOption): provider is Partial<ProviderConfig> & { issuer: string } {
  return typeof provider.tokenEndpoint !== 'string';
}

/**
 * Checks the options; throws a `TypeError` naming the first problem.
 * Endpoints a grant needs are checked here when given, and again after discovery.
 */
export function validateClientOptions(options: OAuthClientOptions): void {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const { grant, provider, clientId, clientSecret, authMethod, redirectUri, scopes, pkceMethod, services } = options;
  if (!GRANTS.includes(grant)) {
    fail(`unknown grant ${JSON.stringify(grant)}; expected one of ${GRANTS.join(', ')}`);
  }
  if (typeof clientId !== 'string' || clientId.trim() === '') fail('clientId must be a non-empty string');
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
    fail('clientSecret, when given, must be a non-empty string');
  }
  if (authMethod !== undefined) {
    if (!AUTH_METHODS.includes(authMethod)) fail(`unknown authMethod ${JSON.stringify(authMethod)}`);
    if (authMethod === 'none' && clientSecret !== undefined) fail("authMethod 'none' cannot be used with a clientSecret");
    if (authMethod !== 'none' && clientSecret === undefined) fail(`authMethod '${authMethod}' needs a clientSecret`);
  }
  if (grant === 'client_credentials' && clientSecret === undefined) {
    // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
    fail('the client_credentials grant needs a clientSecret (confidential clients only, RFC 6749 §4.4)');
  }
  if (redirectUri !== undefined && (typeof redirectUri !== 'string' || !isAbsoluteUrl(redirectUri))) {
    fail(`redirectUri must be an absolute URL, got ${JSON.stringify(redirectUri)}`);
  }
  if (grant === 'authorization_code' && redirectUri === undefined) {
    fail('the authorization_code grant needs a redirectUri');
  }
  if (scopes !== undefined) {
    if (!Array.isArray(scopes)) fail('scopes must be an array of strings');
    for (const scope of scopes) {
      // RFC 6749 §3.3: scope tokens are non-empty and contain no space.
      if (typeof scope !== 'string' || scope === '' || /[\s"\\]/.test(scope)) {
        fail(`invalid scope ${JSON.stringify(scope)} (RFC 6749 §3.3)`);
      }
    }
  }
  if (options.resource !== undefined) {
    if (grant !== 'client_credentials') fail('resource is supported by the client_credentials grant only');
    // RFC 8707 §2: an absolute URI, without a fragment.
    if (typeof options.resource !== 'string' || !isAbsoluteUrl(options.resource) || options.resource.includes('#')) {
      fail(`resource must be an absolute URI without fragment (RFC 8707 §2), got ${JSON.stringify(options.resource)}`);
    }
  }
  if (pkceMethod !== undefined && !PKCE_METHODS.includes(pkceMethod)) {
    fail(`unknown pkceMethod ${JSON.stringify(pkceMethod)}; expected S256 or plain`);
  }
  if (services !== undefined && (typeof services !== 'object' || services === null)) {
    fail('services must be an object');
  }
  if (services?.navigate !== undefined && typeof services.navigate !== 'function') {
    fail('services.navigate must be a function');
  }
  if (options.options !== undefined) {
    try {
      resolveGrantOptions(options.options);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
  }
  if (options.storageKey !== undefined && (typeof options.storageKey !== 'string' || options.storageKey === '')) {
    fail('storageKey must be a non-empty string');
  }
  if (typeof provider !== 'object' || provider === null) fail('provider is required');
  if (needsDiscovery(provider)) {
    if (typeof provider.issuer !== 'string' || !isAbsoluteUrl(provider.issuer)) {
      fail('provider needs a tokenEndpoint, or an absolute issuer URL for discovery');
    }
  } else {
    checkProviderForGrant(provider, grant, fail);
  }
}

/**
 * Whether the provider has the endpoints the grant needs; `report` decides
 * what a missing one becomes (a `TypeError` up front, a rejected `ready`
 * after discovery).
 */
export function checkProviderForGrant(
  provider: ProviderConfig,
  grant: OAuthGrant,
  report: (message: string) => never,
): void {
  if (grant === 'authorization_code' && typeof provider.authorizationEndpoint !== 'string') {
    report('the authorization_code grant needs provider.authorizationEndpoint');
  }
  if (grant === 'device_code' && typeof provider.deviceAuthorizationEndpoint !== 'string') {
    report('the device_code grant needs provider.deviceAuthorizationEndpoint (RFC 8628 §3.1)');
  }
}

/** The `ClientConfig` the machines take, without keys whose value is absent (exactOptionalPropertyTypes). */
export function clientConfigFrom(options: OAuthClientOptions): ClientConfig {
  const client: ClientConfig = { clientId: options.clientId };
  if (options.clientSecret !== undefined) client.clientSecret = options.clientSecret;
  if (options.authMethod !== undefined) client.authMethod = options.authMethod;
  if (options.redirectUri !== undefined) client.redirectUri = options.redirectUri;
  if (options.scopes !== undefined) client.scopes = [...options.scopes];
  if (options.pkceMethod !== undefined) client.pkceMethod = options.pkceMethod;
  if (options.userAgent !== undefined) client.userAgent = options.userAgent;
  return client;
}

/** The machine options, with the top-level `storageKey` taking precedence. */
export function grantOptionsFrom(options: OAuthClientOptions): GrantOptions {
  const grantOptions: GrantOptions = { ...options.options };
  if (options.storageKey !== undefined) grantOptions.storageKey = options.storageKey;
  return grantOptions;
}
