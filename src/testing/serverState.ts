/**
 * The resolved configuration and the mutable state one test server holds,
 * shared by both faces (in-memory fetch and loopback HTTP).
 */
import { createTestClock } from './clock.js';
import { TokenStore } from './tokenStore.js';
import type {
  AuthorizationDecision,
  TestAuthorizationServerOptions,
  TestClient,
  TestClientAuthMethod,
  TestClock,
  TestEndpoint,
  TestFault,
  TestLogEntry,
  TestServerQuirks,
  TestUser,
} from './types.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export type PathEndpoint = Exclude<TestEndpoint, 'metadata'>;

export interface ServerConfig {
  issuer: string;
  user: TestUser;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  codeTtl: number;
  deviceCodeTtl: number;
  deviceInterval: number;
  rotateRefreshTokens: boolean;
  refreshTokens: 'offline_access' | 'always' | 'never';
  allowPlainPkce: boolean;
  passwordGrant: boolean;
  idTokenAlg: 'none' | 'HS256';
  idTokenKey?: string;
  paths: Record<PathEndpoint, string | null>;
  quirks: TestServerQuirks;
  logSecrets: boolean;
}

export interface QueuedFault {
  fault: TestFault;
  remaining: number;
}

export interface ServerState {
  config: ServerConfig;
  clock: TestClock;
  clients: Map<string, TestClient>;
  store: TokenStore;
  decisions: AuthorizationDecision[];
  faults: Map<TestEndpoint, QueuedFault[]>;
  log: TestLogEntry[];
}

const DEFAULT_PATHS: Record<PathEndpoint, string | null> = {
  authorize: '/authorize',
  token: '/token',
  revoke: '/revoke',
  introspect: '/introspect',
  userinfo: '/userinfo',
  device_authorization: '/device_authorization',
  token_info: '/v1/oauth/token/info',
  end_session: null,
};

function positiveSeconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of seconds`);
  return value;
}

/** RFC 8414 §2: an issuer is an https (here also http) URL without query or fragment. */
export function normalizeIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`issuer ${issuer} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('issuer must be an http(s) URL');
  if (url.search || url.hash) throw new TypeError('issuer must not have a query or fragment (RFC 8414 §2)');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const TEST_CLIENT_AUTH_METHODS: readonly TestClientAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];

export function checkClient(client: TestClient): void {
  if (!client.clientId) throw new TypeError('a test client needs a clientId');
  if (!TEST_CLIENT_AUTH_METHODS.includes(client.authMethod)) {
    throw new TypeError(`client ${client.clientId} needs an authMethod: ${TEST_CLIENT_AUTH_METHODS.join(', ')} (got ${String(client.authMethod)})`);
  }
  if (client.authMethod !== 'none' && !client.clientSecret) {
    throw new TypeError(`client ${client.clientId} uses ${client.authMethod} and needs a clientSecret`);
  }
  if (client.authMethod === 'none' && client.clientSecret !== undefined) {
    throw new TypeError(`client ${client.clientId} is public (authMethod none) and must not have a secret`);
  }
}

/** A `g` or `y` flag would make `RegExp#test` stateful (lastIndex), so every other request would fail. */
function withStatelessPattern(quirks: TestServerQuirks): TestServerQuirks {
  const pattern = quirks.userAgentPattern;
  if (!pattern) return quirks;
  return { ...quirks, userAgentPattern: new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) };
}

export function createServerState(options: TestAuthorizationServerOptions): ServerState {
  const paths: Record<PathEndpoint, string | null> = { ...DEFAULT_PATHS };
  if (!options.quirks?.tokenInfo) paths.token_info = null;
  for (const [endpoint, path] of Object.entries(options.paths ?? {}) as [PathEndpoint, string | null][]) {
    if (path !== null && !path.startsWith('/')) throw new TypeError(`path for ${endpoint} must start with /`);
    paths[endpoint] = path;
  }
  const config: ServerConfig = {
    issuer: normalizeIssuer(options.issuer ?? 'https://auth.test'),
    user: options.user ?? { sub: 'test-user' },
    accessTokenTtl: positiveSeconds('accessTokenTtl', options.accessTokenTtl, 3600),
    refreshTokenTtl: positiveSeconds('refreshTokenTtl', options.refreshTokenTtl, 30 * 24 * 3600),
    codeTtl: positiveSeconds('codeTtl', options.codeTtl, 60),
    deviceCodeTtl: positiveSeconds('deviceCodeTtl', options.deviceCodeTtl, 600),
    deviceInterval: positiveSeconds('deviceInterval', options.deviceInterval, 5),
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    refreshTokens: options.refreshTokens ?? 'offline_access',
    allowPlainPkce: options.allowPlainPkce ?? false,
    passwordGrant: options.passwordGrant ?? false,
    idTokenAlg: options.idTokenAlg ?? 'none',
    ...(options.idTokenKey === undefined ? {} : { idTokenKey: options.idTokenKey }),
    paths,
    quirks: withStatelessPattern(options.quirks ?? {}),
    logSecrets: options.logSecrets ?? false,
  };
  const clock = createTestClock(options.clock);
  const clients = new Map<string, TestClient>();
  for (const client of options.clients ?? []) {
    checkClient(client);
    if (clients.has(client.clientId)) throw new TypeError(`client ${client.clientId} is registered twice`);
    clients.set(client.clientId, client);
  }
  return {
    config,
    clock,
    clients,
    store: new TokenStore(() => clock.now()),
    decisions: [],
    faults: new Map(),
    log: [],
  };
}
