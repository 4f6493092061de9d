/**
 * A real, certified OpenID Provider (oidc-provider@8) on 127.0.0.1 for the
 * e2e tests: a public PKCE client and two confidential clients (one per
 * client authentication method), with introspection, revocation, client
 * credentials, the device flow and RP-initiated logout turned on.
 *
 * Facts about oidc-provider@8 this encodes (see docs/e2e.md):
 * - refresh tokens need the `offline_access` scope and `prompt=consent`;
 * - the device authorization response carries no `interval`, so a middleware
 *   adds `interval: 1` and polling tests do not wait 5 s each;
 * - only OpenID discovery is served, not `/.well-known/oauth-authorization-server`;
 * - browser calls to `/token` need `clientBasedCORS`; `127.0.0.1` and
 *   `localhost` are different origins;
 * - a replayed code or a reused refresh token revokes the whole grant.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Provider from 'oidc-provider';
import type { Adapter, AdapterPayload, Configuration, KoaContext, ProviderClient } from 'oidc-provider';

export interface OidcProviderOptions {
  /**
   * Redirect URIs registered for every client in addition to the default
   * `http://127.0.0.1/callback` (e.g. the page the browser tests serve on
   * another loopback port). Their origins are also allowed by CORS.
   */
  redirectUris?: string[];
  /** Lifetime of access tokens in seconds (default 3600). */
  accessTokenTtl?: number;
  /**
   * Called after the provider answered each request, with the grant type of
   * a `/token` request: lets a test count the refresh requests the server
   * really received (from every tab, preflights apart).
   */
  onRequest?: (request: ProviderRequest) => void;
  /**
   * Issue a refresh token to the public client on every code exchange, as
   * oidc-provider's documented recipe for public web clients does, instead
   * of only for `offline_access` with `prompt=consent`. For apps whose login
   * sends no `prompt` (the examples). Default `false`.
   */
  refreshTokensForPublicClient?: boolean;
  /**
   * Changes the configuration before the provider is built: a test file's own features (pushed
   * authorization requests required, DPoP…), on top of everything above.
   */
  configure?: (configuration: Configuration) => void;
}

/** What {@link OidcProviderOptions.onRequest} sees of one request. */
export interface ProviderRequest {
  method: string;
  /** The path without the query, e.g. `/token`. */
  path: string;
  status: number;
  /** `grant_type` of a token request, as the provider parsed it. */
  grantType?: string;
  /** `client_id` as the provider resolved it, when the request named a client. */
  clientId?: string;
}

/** A client registered with the provider, as a test configures the library with it. */
export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  authMethod: 'none' | 'client_secret_post' | 'client_secret_basic';
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface StartedOidcProvider {
  /** `http://127.0.0.1:<port>`, also the base of every endpoint. */
  issuer: string;
  port: number;
  clients: {
    /** `token_endpoint_auth_method: none`, PKCE required; code, refresh and device grants. */
    public: RegisteredClient;
    /** `client_secret_post`; code, refresh, device and client credentials grants. */
    post: RegisteredClient & { clientSecret: string };
    /** `client_secret_basic`; code, refresh, device and client credentials grants. */
    basic: RegisteredClient & { clientSecret: string };
  };
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** The scope the confidential clients may ask for through client credentials. */
export const API_SCOPE = 'api:read';

const DEFAULT_REDIRECT_URI = 'http://127.0.0.1/callback';
const DEFAULT_POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1/logged-out';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let signingKey: Promise<Record<string, unknown>> | undefined;

/** One RSA key per test process: generating it is the slowest part of a start. */
function rsaSigningKey(): Promise<Record<string, unknown>> {
  signingKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => ({
    ...privateKey.export({ format: 'jwk' }),
    kid: `test-${randomBytes(4).toString('hex')}`,
    use: 'sig',
    alg: 'RS256',
  }));
  return signingKey;
}

/**
 * An adapter holding one provider's state in a Map, so every started provider
 * is isolated (the built-in memory adapter shares one module-level store and
 * warns on every start).
 */
export function memoryAdapter(): new (model: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const index = new Map<string, string>();
  const grants = new Map<string, Set<string>>();

  const read = (key: string | undefined): AdapterPayload | undefined => {
    if (key === undefined) return undefined;
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return class MapAdapter implements Adapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    #key(id: string): string {
      return `${this.#model}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.#key(id);
      entries.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
      if (this.#model === 'Session' && typeof payload.uid === 'string') index.set(`uid:${payload.uid}`, key);
      if (typeof payload.userCode === 'string') index.set(`userCode:${payload.userCode}`, key);
      if (typeof payload.grantId === 'string') {
        const keys = grants.get(payload.grantId) ?? new Set<string>();
        keys.add(key);
        grants.set(payload.grantId, keys);
      }
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return read(this.#key(id));
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return read(index.get(`uid:${uid}`));
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return read(index.get(`userCode:${userCode}`));
    }
    async consume(id: string): Promise<void> {
      const payload = read(this.#key(id));
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      entries.delete(this.#key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of grants.get(grantId) ?? []) entries.delete(key);
      grants.delete(grantId);
    }
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A page without external resources (the defaults import Google Fonts, which the browser tests would block). */
function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The dev interactions are exactly what the harness wants, but the provider
 * warns about them on every start; drop that one line and nothing else.
 */
export function withoutDevInteractionsWarning<T>(construct: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('development-only feature devInteractions')) return;
    warn(...args);
  };
  try {
    return construct();
  } finally {
    console.warn = warn;
  }
}

/**
 * Starts oidc-provider on 127.0.0.1 at a random port. Every call gets fresh
 * clients' secrets, cookie keys and storage; the signing key is shared per process.
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<StartedOidcProvider> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const redirectUris = [DEFAULT_REDIRECT_URI, ...(options.redirectUris ?? [])];
  const postLogoutRedirectUris = [DEFAULT_POST_LOGOUT_REDIRECT_URI, ...(options.redirectUris ?? [])];
  const secret = (): string => randomBytes(32).toString('base64url');
  const clients: StartedOidcProvider['clients'] = {
    public: { clientId: 'spa', authMethod: 'none', redirectUris, postLogoutRedirectUris },
    post: {
      clientId: 'confidential-post',
      clientSecret: secret(),
      authMethod: 'client_secret_post',
      redirectUris,
      postLogoutRedirectUris,
    },
    basic: {
      clientId: 'confidential-basic',
      clientSecret: secret(),
      authMethod: 'client_secret_basic',
      redirectUris,
      postLogoutRedirectUris,
    },
  };

  const configuration: Configuration = {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: clients.public.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
        redirect_uris: redirectUris,
        post_logout_redirect_uris: postLogoutRedirectUris,
      },
      ...[clients.post, clients.basic].map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        token_endpoint_auth_method: client.authMethod,
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT],
        response_types: ['code'],
        redirect_uris: redirectUris,
        post_logout_redirect_uris: postLogoutRedirectUris,
      })),
    ],
    jwks: { keys: [await rsaSigningKey()] },
    cookies: { keys: [secret(), secret()] },
    // The dev interactions accept any login; every login is an account.
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, name: sub, email: `${sub}@example.test`, email_verified: true }),
    }),
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', API_SCOPE],
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: KoaContext, form: string, _out: unknown, error: unknown) => {
          const message = error === undefined ? 'Enter the code displayed on your device' : `Error: ${String(error)}`;
          ctx.body = page(
            'Sign-in',
            `<p>${escapeHtml(message)}</p>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
          );
        },
        userCodeConfirmSource: async (ctx: KoaContext, form: string, _client: unknown, _info: unknown, userCode: string) => {
          ctx.body = page(
            'Confirm Device',
            `<p><code>${escapeHtml(userCode)}</code></p>${form}` +
              '<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>' +
              '<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">[ Abort ]</button>',
          );
        },
        successSource: async (ctx: KoaContext) => {
          ctx.body = page('Sign-in Success', '<p>You can now close this page.</p>');
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContext, form: string) => {
          ctx.body = page(
            'Logout Request',
            `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>` +
              '<button type="submit" form="op.logoutForm">No, stay signed in</button>',
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContext) => {
          ctx.body = page('Sign-out Success', '<p>Signed out.</p>');
        },
      },
    },
    // OAuth 2.1: PKCE for every client, S256 only.
    pkce: { methods: ['S256'], required: () => true },
    rotateRefreshToken: true,
    ...(options.refreshTokensForPublicClient
      ? {
          // Every client here has the refresh_token grant, so no grantTypeAllowed check is needed.
          issueRefreshToken: async (_ctx: KoaContext, client: ProviderClient, code: { scopes: Set<string> }) =>
            code.scopes.has('offline_access') || client.clientAuthMethod === 'none',
        }
      : {}),
    // Browser SPAs call /token cross-origin: allow a public client's registered origins only.
    clientBasedCORS: (_ctx: KoaContext, origin: string, client: ProviderClient) =>
      client.clientAuthMethod === 'none' && client.redirectUris.some((uri) => new URL(uri).origin === origin),
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      ClientCredentials: options.accessTokenTtl ?? 600,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: 86_400,
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
    },
    renderError: async (ctx: KoaContext, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page(
        'oops! something went wrong',
        Object.entries(out)
          .map(([key, value]) => `<pre><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</pre>`)
          .join(''),
      );
    },
  };

  options.configure?.(configuration);
  let provider: Provider;
  try {
    provider = withoutDevInteractionsWarning(() => new Provider(issuer, configuration));
  } catch (error) {
    // A configuration the provider refuses must not leave a port open behind the failed test.
    server.close();
    throw error;
  }
  // RFC 8628 §3.2: `interval` is optional (default 5 s); oidc-provider omits it. 1 s keeps polling tests fast.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200 && isRecord(ctx.body)) {
      ctx.body = { ...ctx.body, interval: ctx.body.interval ?? 1 };
    }
  });
  const { onRequest } = options;
  if (onRequest !== undefined) {
    provider.use(async (ctx, next) => {
      try {
        await next();
      } finally {
        const oidc = (ctx as { oidc?: { params?: Record<string, unknown>; client?: { clientId?: string } } }).oidc;
        const grantType = oidc?.params?.['grant_type'];
        const clientId = oidc?.client?.clientId;
        onRequest({
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ...(typeof grantType === 'string' ? { grantType } : {}),
          ...(typeof clientId === 'string' ? { clientId } : {}),
        });
      }
    });
  }
  server.on('request', provider.callback());

  return {
    issuer,
    port,
    clients,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
