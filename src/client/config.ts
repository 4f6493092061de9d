/**
 * The one configuration shape of every entry — `{ provider, client, services,
 * options }`, as the machines take it (`GrantInput`) — and its validation:
 * one valibot schema per concept, each a `strictObject`, so a misspelt or
 * misplaced key is refused at the entry with a `TypeError` that names it and
 * suggests the known key it is close to, never silently ignored.
 *
 * `createOAuthClient`, `createBrowserAuth`, `createClientCredentialsCache`
 * and `createCodeExchangeHandler` all check their input here, once.
 */
import * as v from 'valibot';
import { DEFAULT_GRANT_OPTIONS, resolveGrantOptions, type GrantOptions } from '../../machines/types.js';
import type { ClientAuthMethod, ClientConfig, PkceMethod, PrivateKey, ProviderConfig } from '../protocol/types.js';
import { RESERVED_AUTHORIZATION_PARAMS } from '../protocol/authorizationUrl.js';
import { RESERVED_TOKEN_PARAMS } from '../protocol/tokenRequest.js';
import { CLIENT_AUTH_METHODS, isRecord, isResourceIndicator, isScopeToken } from '../protocol/validators.js';
import type { Services } from '../services/types.js';

/** The default storage key of a client's session (the machines' `GrantOptions.storageKey`). */
export const DEFAULT_STORAGE_KEY: string = DEFAULT_GRANT_OPTIONS.storageKey;
/** The default prefix of the server token cache's storage keys. */
export const DEFAULT_CLIENT_CREDENTIALS_STORAGE_KEY = `${DEFAULT_STORAGE_KEY}:client-credentials`;

/** The grants the client drives, one machine each. */
export type OAuthGrant = 'authorization_code' | 'client_credentials' | 'device_code';

/**
 * Where the provider is: a full `ProviderConfig` (written by hand or a profile
 * from `oauth-machines/providers`), or `{ issuer }` for discovery (RFC 8414 /
 * OpenID Connect Discovery), optionally with fields that override the
 * discovered ones (for example `quirks`).
 */
export type ProviderOption = ProviderConfig | DiscoveredProviderOption;

/**
 * `{ issuer }` for discovery, with fields that override the discovered ones, and optionally a
 * `fallback`: the configuration to use when the issuer has no discovery document (its metadata
 * URLs answer 404 or 410), as SkyMavis SSO's client does ("the discovery document first, otherwise
 * `/oauth2/token`"). Relative endpoints in `fallback` resolve against its `baseUrl`, else the issuer.
 * Any other discovery failure (a network failure, a 5xx, a document for another issuer) is not
 * a missing document, and fails `ready` as before.
 */
export type DiscoveredProviderOption = Partial<ProviderConfig> & { issuer: string; fallback?: ProviderConfig };

interface ClientBase {
  clientId: string;
  /** Scopes of every request that names none. RFC 6749 §3.3 syntax. */
  scopes?: string[];
  /** `User-Agent` of every request (servers; some providers, like Path of Exile, require a format). */
  userAgent?: string;
  /** The algorithm the client registered for its ID tokens (`id_token_signed_response_alg`); others are refused. */
  idTokenSigningAlg?: string;
  /**
   * Send authorization requests as signed request objects (RFC 9101), signed with `privateKey` or an
   * HMAC of `clientSecret`; on whenever the provider requires it.
   */
  requestObject?: boolean;
}

/** A public client: no secret, `authMethod` `'none'` (OAuth 2.1 §2.1). */
export interface PublicClientCredentials {
  clientSecret?: undefined;
  authMethod?: 'none';
}

/**
 * A confidential client with a secret, sent with `client_secret_basic` (default) or
 * `client_secret_post`, or keying the HMAC of a `client_secret_jwt` assertion (RFC 7523).
 */
export interface ConfidentialClientCredentials {
  /** Confidential clients only; never ship one to a browser. */
  clientSecret: string;
  authMethod?: Exclude<ClientAuthMethod, 'none' | 'private_key_jwt'>;
  /** `client_secret_jwt`'s HMAC algorithm; default `HS256`. */
  signingAlg?: string;
}

/**
 * A confidential client that authenticates with `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a
 * single-use assertion signed with its private key, whose public key the provider has registered.
 */
export interface PrivateKeyJwtClientCredentials {
  clientSecret?: undefined;
  authMethod: 'private_key_jwt';
  /** A `CryptoKey` (best non-extractable) or a private JWK. */
  privateKey: PrivateKey;
  /** The key's `kid`, named in each assertion; default the JWK's own. */
  keyId?: string;
  /** The JWS algorithm; default the JWK's `alg`, else what the key is (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA). */
  signingAlg?: string;
}

/** `client` of the authorization code grant: a `redirectUri` is required. */
export type AuthorizationCodeClientConfig = ClientBase & {
  /** Sent exactly as registered (RFC 9700 §4.1.3). */
  redirectUri: string;
  /** `S256` by default; `plain` only by explicit opt-in (RFC 9700 §2.1.1). */
  pkceMethod?: PkceMethod;
} & (PublicClientCredentials | ConfidentialClientCredentials | PrivateKeyJwtClientCredentials);

/** `client` of the client credentials grant: confidential only (RFC 6749 §4.4). */
export type ClientCredentialsClientConfig = ClientBase &
  (ConfidentialClientCredentials | PrivateKeyJwtClientCredentials) & {
    /**
     * RFC 8707 resource indicator (an absolute URI without fragment): every token
     * request, renewals included, asks for a token for this resource.
     */
    resource?: string;
  };

/** `client` of the device authorization grant (RFC 8628). */
export type DeviceCodeClientConfig = ClientBase & (PublicClientCredentials | ConfidentialClientCredentials | PrivateKeyJwtClientCredentials);

/** The `client` of each grant. */
export type ClientConfigFor<G extends OAuthGrant> = G extends 'authorization_code'
  ? AuthorizationCodeClientConfig
  : G extends 'client_credentials'
    ? ClientCredentialsClientConfig
    : DeviceCodeClientConfig;

/** Any `client`, as the schema reads it. */
export interface AnyClientConfig extends ClientConfig {
  resource?: string;
}

// ---------------------------------------------------------------------------
// The schemas, one per concept.

const PKCE_METHODS = ['S256', 'plain'] as const;

const text = (message: string) => v.pipe(v.string(message), v.minLength(1, message));
const absoluteUrl = (message: string) => v.pipe(v.string(message), v.check((value) => URL.canParse(value), message));
const strings = (message: string) => v.array(v.string(message), message);

/** A profile's parameters for every request of a kind: strings, none of them a name the library sets. */
const extraParams = (reserved: ReadonlySet<string>) =>
  v.pipe(
    v.record(v.string(), v.string()),
    v.check((params) => Object.keys(params).every((key) => !reserved.has(key)), 'Invalid parameter: the library sets it'),
  );

const ProviderQuirksSchema = v.strictObject({
  tokenRequestEncoding: v.optional(v.picklist(['form', 'json'], 'quirks.tokenRequestEncoding must be form or json')),
  pkceMethodNames: v.optional(v.strictObject({ S256: v.optional(v.string()), plain: v.optional(v.string()) })),
  mapTokenResponse: v.optional(v.function('quirks.mapTokenResponse must be a function')),
  userAgentPattern: v.optional(v.string()),
  clientAuthMethods: v.optional(v.array(v.picklist(CLIENT_AUTH_METHODS, 'unknown client authentication method in quirks.clientAuthMethods'))),
  scopeGrants: v.optional(v.record(v.string(), v.array(v.string()))),
  pkceRequired: v.optional(v.boolean()),
  pkce: v.optional(v.picklist(['required', 'optional', 'unsupported'], 'quirks.pkce must be required, optional or unsupported')),
  pkceChallengeEncoding: v.optional(v.picklist(['base64url', 'base64'], 'quirks.pkceChallengeEncoding must be base64url or base64')),
  onlyListedScopes: v.optional(v.boolean('quirks.onlyListedScopes must be a boolean')),
  mapErrorResponse: v.optional(v.function('quirks.mapErrorResponse must be a function')),
  authorizationParams: v.optional(extraParams(RESERVED_AUTHORIZATION_PARAMS)),
  tokenParams: v.optional(extraParams(new Set(RESERVED_TOKEN_PARAMS))),
  scopeDelimiter: v.optional(v.picklist([' ', ','])),
  idTokenIssuer: v.optional(v.function()),
  acceptsDiscoveredIssuer: v.optional(v.function()),
  formEncodedTokenResponses: v.optional(v.boolean()),
  serverOnlyFields: v.optional(v.array(v.string())),
});

const providerEntries = {
  issuer: v.optional(v.string('provider.issuer must be a string')),
  baseUrl: v.optional(absoluteUrl('provider.baseUrl must be an absolute URL')),
  authorizationEndpoint: v.optional(v.string('provider.authorizationEndpoint must be a string')),
  tokenEndpoint: v.optional(v.string('provider.tokenEndpoint must be a string')),
  revocationEndpoint: v.optional(v.string()),
  introspectionEndpoint: v.optional(v.string()),
  userinfoEndpoint: v.optional(v.string()),
  tokenInfoEndpoint: v.optional(v.string()),
  deviceAuthorizationEndpoint: v.optional(v.string()),
  endSessionEndpoint: v.optional(v.string()),
  pushedAuthorizationRequestEndpoint: v.optional(v.string('provider.pushedAuthorizationRequestEndpoint must be a string')),
  requirePushedAuthorizationRequests: v.optional(v.boolean('provider.requirePushedAuthorizationRequests must be a boolean')),
  dpopSigningAlgValuesSupported: v.optional(strings('provider.dpopSigningAlgValuesSupported must be strings')),
  authorizationResponseIssParameterSupported: v.optional(v.boolean()),
  codeChallengeMethodsSupported: v.optional(strings('provider.codeChallengeMethodsSupported must be strings')),
  tokenEndpointAuthMethodsSupported: v.optional(strings('provider.tokenEndpointAuthMethodsSupported must be strings')),
  grantTypesSupported: v.optional(strings('provider.grantTypesSupported must be strings')),
  scopesSupported: v.optional(strings('provider.scopesSupported must be strings')),
  jwksUri: v.optional(absoluteUrl('provider.jwksUri must be an absolute URL')),
  idTokenSigningAlgValuesSupported: v.optional(strings('provider.idTokenSigningAlgValuesSupported must be strings')),
  tokenEndpointAuthSigningAlgValuesSupported: v.optional(strings('provider.tokenEndpointAuthSigningAlgValuesSupported must be strings')),
  requestParameterSupported: v.optional(v.boolean('provider.requestParameterSupported must be a boolean')),
  requireSignedRequestObject: v.optional(v.boolean('provider.requireSignedRequestObject must be a boolean')),
  requestObjectSigningAlgValuesSupported: v.optional(strings('provider.requestObjectSigningAlgValuesSupported must be strings')),
  allowInsecureRequests: v.optional(v.boolean()),
  quirks: v.optional(ProviderQuirksSchema),
};

/** `provider.fallback`: a whole `ProviderConfig` (a profile's, for instance). */
const FallbackProviderSchema = v.pipe(
  v.strictObject(providerEntries),
  v.check((provider) => typeof provider.tokenEndpoint === 'string', 'provider.fallback needs a tokenEndpoint'),
);

/** `provider`: a `ProviderConfig`, or `{ issuer }` (plus overrides, and a `fallback`) for discovery. */
export const ProviderSchema = v.pipe(
  v.strictObject({ ...providerEntries, fallback: v.optional(FallbackProviderSchema) }),
  v.check(
    (provider) => typeof provider.tokenEndpoint === 'string' || (typeof provider.issuer === 'string' && URL.canParse(provider.issuer)),
    'provider needs a tokenEndpoint, or an absolute issuer URL for discovery',
  ),
  v.check(
    (provider) => provider.fallback === undefined || typeof provider.tokenEndpoint !== 'string',
    'provider.fallback is for discovery: give an issuer without a tokenEndpoint',
  ),
);

/** `client`: what the application registered with the provider. */
export const ClientSchema = v.strictObject({
  clientId: v.pipe(v.string('client.clientId must be a non-empty string'), v.trim(), v.minLength(1, 'client.clientId must be a non-empty string')),
  clientSecret: v.optional(text('client.clientSecret, when given, must be a non-empty string')),
  authMethod: v.optional(v.picklist(CLIENT_AUTH_METHODS, (issue) => `unknown client.authMethod ${JSON.stringify(issue.input)}`)),
  redirectUri: v.optional(absoluteUrl('client.redirectUri must be an absolute URL')),
  scopes: v.optional(
    v.array(
      v.custom<string>(isScopeToken, (issue) => `invalid scope ${JSON.stringify(issue.input)} (RFC 6749 §3.3)`),
      'client.scopes must be an array of strings',
    ),
  ),
  pkceMethod: v.optional(v.picklist(PKCE_METHODS, (issue) => `unknown client.pkceMethod ${JSON.stringify(issue.input)}; expected S256 or plain`)),
  userAgent: v.optional(text('client.userAgent must be a non-empty string')),
  idTokenSigningAlg: v.optional(text('client.idTokenSigningAlg must be a non-empty string')),
  privateKey: v.optional(
    v.custom<PrivateKey>(
      isPrivateKey,
      'client.privateKey must be a private CryptoKey or a private JWK (an object with kty and d)',
    ),
  ),
  keyId: v.optional(text('client.keyId must be a non-empty string')),
  requestObject: v.optional(v.boolean('client.requestObject must be a boolean')),
  signingAlg: v.optional(
    v.pipe(
      text('client.signingAlg must be a non-empty string'),
      v.check((alg) => alg.toLowerCase() !== 'none', 'client.signingAlg cannot be none: an assertion is always signed'),
    ),
  ),
  resource: v.optional(
    v.custom<string>(
      isResourceIndicator,
      (issue) => `client.resource must be an absolute URI without fragment (RFC 8707 §2), got ${JSON.stringify(issue.input)}`,
    ),
  ),
});

/** A private `CryptoKey`, or a JWK with the private part (`d`; RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2). */
function isPrivateKey(value: unknown): boolean {
  if (typeof CryptoKey !== 'undefined' && value instanceof CryptoKey) return value.type === 'private';
  return isRecord(value) && typeof value.kty === 'string' && typeof value.d === 'string';
}

const hasMethods = (...names: string[]) => (value: unknown) =>
  isRecord(value) && names.every((name) => typeof value[name] === 'function');

/** `services`: any subset of the ports; the entry's defaults fill the rest. */
export const ServicesSchema = v.strictObject({
  fetch: v.optional(v.function('services.fetch must be a function')),
  crypto: v.optional(v.custom(hasMethods('randomBytes', 'sha256'), 'services.crypto must have randomBytes and sha256')),
  storage: v.optional(v.custom(hasMethods('get', 'set', 'remove'), 'services.storage must be a StorageService (get, set, remove)')),
  clock: v.optional(v.custom(hasMethods('now', 'setTimeout'), 'services.clock must have now and setTimeout')),
  navigate: v.optional(v.function('services.navigate must be a function')),
  dpop: v.optional(v.custom(hasMethods('session'), 'services.dpop must be a DpopService (dpop())')),
});

const milliseconds = (name: string) => v.optional(v.number(`options.${name} must be a number`));

/** `options`: the machines' tunables (`GrantOptions`); their ranges are `resolveGrantOptions`'s. */
export const OptionsSchema = v.strictObject({
  storageKey: v.optional(text('options.storageKey must be a non-empty string')),
  refreshSkewMs: milliseconds('refreshSkewMs'),
  callbackTtlMs: milliseconds('callbackTtlMs'),
  maxRefreshAttempts: milliseconds('maxRefreshAttempts'),
  retryBaseMs: milliseconds('retryBaseMs'),
  restore: v.optional(v.boolean('options.restore must be a boolean')),
  minRenewalIntervalMs: milliseconds('minRenewalIntervalMs'),
  maxExchangeAttempts: milliseconds('maxExchangeAttempts'),
  codeLifetimeMs: milliseconds('codeLifetimeMs'),
  pushedAuthorizationRequests: v.optional(v.boolean('options.pushedAuthorizationRequests must be a boolean')),
});

/** The concepts, for the entries that compose them. */
export const CONCEPT_SCHEMAS = {
  provider: ProviderSchema,
  client: ClientSchema,
  services: ServicesSchema,
  options: OptionsSchema,
} as const;

type Concept = keyof typeof CONCEPT_SCHEMAS;

function keysOf(schema: v.GenericSchema): string[] {
  const inner = 'pipe' in schema ? (schema as unknown as { pipe: v.GenericSchema[] }).pipe[0] : schema;
  const entries = (inner as unknown as { entries?: Record<string, unknown> }).entries;
  return entries ? Object.keys(entries) : [];
}

const KNOWN: ReadonlyArray<{ concept: Concept; key: string }> = (Object.keys(CONCEPT_SCHEMAS) as Concept[]).flatMap(
  (concept) => keysOf(CONCEPT_SCHEMAS[concept]).map((key) => ({ concept, key })),
);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

const loose = (key: string) => key.replace(/[_-]/g, '').toLowerCase();

/**
 * The known key an unknown one is close to, as its path (`client.authMethod`):
 * the same key in another concept (`clientId` at the top → `client.clientId`),
 * the concept's name glued on (`clientAuthMethod` → `client.authMethod`),
 * another spelling (`client_secret`), or a typo (`refreshSkew`).
 */
export function suggestKey(unknown: string, where: string[]): string | undefined {
  const concept = where[0];
  const ranked = KNOWN.map((known) => {
    const name = loose(known.key);
    const glued = loose(`${known.concept}${known.key}`);
    const candidate = loose(unknown);
    let score = Number.POSITIVE_INFINITY;
    if (candidate === name || candidate === glued) score = 0;
    else {
      const distance = Math.min(editDistance(candidate, name), editDistance(candidate, glued));
      if (distance <= Math.max(1, Math.floor(name.length / 4))) score = distance;
    }
    // A near key of the concept the unknown one sits in comes first.
    return { path: `${known.concept}.${known.key}`, score: score + (known.concept === concept ? 0 : 0.5) };
  }).filter((entry) => Number.isFinite(entry.score));
  ranked.sort((a, b) => a.score - b.score);
  const best = ranked[0]?.path;
  return best === [...where, unknown].join('.') ? undefined : best;
}

/** The `TypeError` for the first issue of a failed parse: the unknown key with a suggestion, or the schema's message. */
function issueError(entry: string, issues: readonly v.BaseIssue<unknown>[]): TypeError {
  // An unknown key says most about what went wrong (a flat `clientId` also leaves `client` missing).
  const unknownKey = (item: v.BaseIssue<unknown>): boolean => item.type === 'strict_object' && item.expected === 'never';
  const issue = issues.find(unknownKey) ?? issues[0];
  const path = issue?.path?.map((item) => String(item.key)) ?? [];
  if (issue !== undefined && unknownKey(issue) && path.length > 0) {
    const key = path[path.length - 1] ?? '';
    const where = path.slice(0, -1);
    const suggestion = suggestKey(key, where);
    return new TypeError(
      `${entry}: unknown option ${path.join('.')}${suggestion ? `; did you mean ${suggestion}?` : ''}`,
    );
  }
  if (issue !== undefined && issue.input === undefined && path.length > 0 && issue.message.startsWith('Invalid')) {
    return new TypeError(`${entry}: ${path.join('.')} is required`);
  }
  const message = issue?.message ?? 'invalid options';
  // A schema's own messages name their key; valibot's generic ones get the path.
  const named = message.startsWith('Invalid') && path.length > 0 ? `${path.join('.')}: ${message}` : message;
  return new TypeError(`${entry}: ${named}`);
}

/**
 * Parses `input` with `schema` (a composition of the concept schemas), throws
 * the `TypeError` described above. `entry` prefixes the message (`createOAuthClient`).
 */
export function parseConfig<S extends v.GenericSchema>(entry: string, schema: S, input: unknown): v.InferOutput<S> {
  if (!isRecord(input)) throw new TypeError(`${entry}: options must be an object`);
  const result = v.safeParse(schema, input);
  if (!result.success) throw issueError(entry, result.issues);
  return result.output;
}

/** Throws the entry's `TypeError`. */
export function configError(entry: string, message: string): never {
  throw new TypeError(`${entry}: ${message}`);
}

/** Checks `options`'s ranges with the machines' own rule (`resolveGrantOptions`). */
export function checkGrantOptions(entry: string, options: GrantOptions | undefined): void {
  if (options === undefined) return;
  try {
    resolveGrantOptions(options);
  } catch (error) {
    configError(entry, error instanceof Error ? error.message : String(error));
  }
}

/**
 * The secret rules of a `client` (RFC 6749 §2.3): `'none'` takes no secret, a
 * secret method needs one; `confidential` (client credentials, the server
 * helpers) needs a secret whatever the method.
 */
export function checkClientAuth(entry: string, client: AnyClientConfig, confidential: string | undefined): void {
  const { authMethod, clientSecret, privateKey } = client;
  if (authMethod === 'none' && clientSecret !== undefined) configError(entry, "client.authMethod 'none' cannot be used with a clientSecret");
  if (authMethod === 'private_key_jwt') {
    if (privateKey === undefined) configError(entry, "client.authMethod 'private_key_jwt' needs a privateKey");
    if (clientSecret !== undefined) configError(entry, "client.authMethod 'private_key_jwt' takes a privateKey, not a clientSecret");
  } else {
    if (authMethod !== undefined && authMethod !== 'none' && clientSecret === undefined) {
      configError(entry, `client.authMethod '${authMethod}' needs a clientSecret`);
    }
    if (privateKey !== undefined || client.keyId !== undefined) configError(entry, "client.privateKey and client.keyId are for client.authMethod 'private_key_jwt'");
    if (client.signingAlg !== undefined && authMethod !== 'client_secret_jwt' && client.requestObject !== true) {
      configError(entry, "client.signingAlg is for client.authMethod 'private_key_jwt' or 'client_secret_jwt', or client.requestObject");
    }
  }
  if (confidential !== undefined && clientSecret === undefined && privateKey === undefined) configError(entry, confidential);
}

/** Whether the provider option asks for discovery (no token endpoint given). */
export function needsDiscovery(provider: ProviderOption): provider is DiscoveredProviderOption {
  return typeof provider.tokenEndpoint !== 'string';
}

/**
 * Whether the provider has the endpoints the grant needs; `report` decides
 * what a missing one becomes (a `TypeError` up front, a rejected `ready`
 * after discovery).
 */
export function checkProviderForGrant(provider: ProviderConfig, grant: OAuthGrant, report: (message: string) => never): void {
  if (grant === 'authorization_code' && typeof provider.authorizationEndpoint !== 'string') {
    report('the authorization_code grant needs provider.authorizationEndpoint');
  }
  if (grant === 'device_code' && typeof provider.deviceAuthorizationEndpoint !== 'string') {
    report('the device_code grant needs provider.deviceAuthorizationEndpoint (RFC 8628 §3.1)');
  }
}

/** The `ClientConfig` the machines take: the given keys only (exactOptionalPropertyTypes), `resource` left out. */
export function machineClientConfig(client: AnyClientConfig): ClientConfig {
  const config: ClientConfig = { clientId: client.clientId };
  if (client.clientSecret !== undefined) config.clientSecret = client.clientSecret;
  if (client.authMethod !== undefined) config.authMethod = client.authMethod;
  if (client.redirectUri !== undefined) config.redirectUri = client.redirectUri;
  if (client.scopes !== undefined) config.scopes = [...client.scopes];
  if (client.pkceMethod !== undefined) config.pkceMethod = client.pkceMethod;
  if (client.userAgent !== undefined) config.userAgent = client.userAgent;
  if (client.idTokenSigningAlg !== undefined) config.idTokenSigningAlg = client.idTokenSigningAlg;
  if (client.privateKey !== undefined) config.privateKey = client.privateKey;
  if (client.keyId !== undefined) config.keyId = client.keyId;
  if (client.signingAlg !== undefined) config.signingAlg = client.signingAlg;
  if (client.requestObject !== undefined) config.requestObject = client.requestObject;
  return config;
}

/** Drops keys whose value is `undefined` (a JavaScript caller's `{ x: undefined }` is no `x`). */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

export type { Services };
