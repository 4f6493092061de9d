/**
 * The slice of oidc-provider@8's API that the e2e harness uses. The package
 * ships no types and `@types/oidc-provider` is not a dependency, so this
 * declares only what `startOidcProvider` touches.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context as the harness reads it (oidc-provider runs on Koa). */
  export interface KoaContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    host: string;
    get(header: string): string;
    oidc: { client?: ProviderClient };
  }

  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export interface ProviderClient {
    clientId: string;
    clientName?: string;
    clientAuthMethod: string;
    redirectUris: string[];
  }

  /** Adapter payloads are opaque JSON the provider stores and reads back. */
  export interface AdapterPayload {
    uid?: string;
    grantId?: string;
    userCode?: string;
    consumed?: number;
    [key: string]: unknown;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  /** Configuration keys the harness sets; the provider accepts many more. */
  export interface Configuration {
    adapter?: new (model: string) => Adapter;
    clients?: Array<Record<string, unknown>>;
    jwks?: { keys: Array<Record<string, unknown>> };
    cookies?: { keys: string[] };
    findAccount?: (ctx: KoaContext, sub: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    scopes?: string[];
    features?: Record<string, Record<string, unknown>>;
    pkce?: { methods?: string[]; required?: () => boolean };
    rotateRefreshToken?: boolean;
    clientBasedCORS?: (ctx: KoaContext, origin: string, client: ProviderClient) => boolean;
    ttl?: Record<string, number>;
    renderError?: (ctx: KoaContext, out: Record<string, string>, error: Error) => Promise<void>;
    /** The JWS/JWE algorithms the provider enables, per use (`idTokenSigningAlgValues`, `clientAuthSigningAlgValues`, `requestObjectSigningAlgValues`…). */
    enabledJWA?: Record<string, string[]>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: KoaMiddleware): void;
  }
}
