/**
 * oidc-provider 8 on 127.0.0.1 configured for the JOSE features: ID tokens
 * signed with RS256, PS256, ES256 or EdDSA (one public client per algorithm,
 * registered with `id_token_signed_response_alg`), a `private_key_jwt` client
 * and a `client_secret_jwt` client (RFC 7523), request objects (RFC 9101,
 * `requireSignedRequestObject` on demand), and signing keys that a test
 * can rotate (a new provider instance with new keys behind the same port and
 * storage: what a rotation looks like from outside).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { API_SCOPE, memoryAdapter, withoutDevInteractionsWarning } from './oidcProvider.js';

export const ID_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

const REDIRECT_URI = 'http://127.0.0.1/callback';

export interface JoseProvider {
  issuer: string;
  redirectUri: string;
  /** The public client whose ID tokens are signed with `alg`. */
  publicClientId(alg: IdTokenAlg): string;
  /** The `private_key_jwt` client: its id, and its private key as a non-extractable `CryptoKey` and as a JWK. */
  privateKeyJwt: { clientId: string; privateKey: CryptoKey; jwk: JsonWebKey & { kid: string }; alg: 'ES256' };
  /** The `client_secret_jwt` client. */
  secretJwt: { clientId: string; clientSecret: string };
  /** Replaces the provider's signing keys by new ones (new `kid`s); sessions and grants survive. */
  rotateKeys(): void;
  /** The `kid`s the provider signs with now. */
  currentKids(): string[];
  /** How many times the JWK Set was read. */
  jwksReads(): number;
  close(): Promise<void>;
}

function privateJwk(key: KeyObject, kid: string): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }), kid, use: 'sig' };
}

/** One signing key per algorithm family: RSA (RS256, PS256), P-256, Ed25519. */
function signingKeys(generation: number): Array<Record<string, unknown>> {
  return [
    privateJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, `rsa-${generation}`),
    privateJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, `ec-${generation}`),
    privateJwk(generateKeyPairSync('ed25519').privateKey, `ed-${generation}`),
  ];
}

export interface JoseProviderOptions {
  /** RFC 9101 §10.5: every authorization request must be a signed request object. Default `false`. */
  requireSignedRequestObject?: boolean;
}

export async function startJoseProvider(options: JoseProviderOptions = {}): Promise<JoseProvider> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const secret = (): string => randomBytes(32).toString('base64url');

  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const clientJwk = { ...(clientKey.privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'client-key-1', alg: 'ES256' };
  const publicClientJwk = { ...(clientKey.publicKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'client-key-1', alg: 'ES256', use: 'sig' };
  const privateKey = await crypto.subtle.importKey('jwk', clientJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const secretJwt = { clientId: 'secret-jwt', clientSecret: secret() };
  const cookieKeys = [secret(), secret()];
  const Adapter = memoryAdapter();
  let reads = 0;
  let generation = 1;
  let keys = signingKeys(generation);

  const grants = ['authorization_code', 'refresh_token', 'client_credentials'];
  const configuration = (): Configuration => ({
    adapter: Adapter,
    clients: [
      ...ID_TOKEN_ALGS.map((alg) => ({
        client_id: `spa-${alg}`,
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: alg,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      })),
      {
        client_id: 'private-key-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicClientJwk] },
        grant_types: grants,
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
      {
        client_id: secretJwt.clientId,
        client_secret: secretJwt.clientSecret,
        token_endpoint_auth_method: 'client_secret_jwt',
        grant_types: grants,
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
      },
    ],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    claims: { openid: ['sub'] },
    scopes: ['openid', 'offline_access', API_SCOPE],
    enabledJWA: {
      idTokenSigningAlgValues: [...ID_TOKEN_ALGS],
      clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'],
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      requestObjects: { request: true, requireSignedRequestObject: options.requireSignedRequestObject === true, mode: 'strict' },
    },
    pkce: { methods: ['S256'], required: () => true },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, ClientCredentials: 600, IdToken: 3600, RefreshToken: 86_400, Interaction: 600, Session: 3600, Grant: 86_400 },
  });

  const build = (): ((req: IncomingMessage, res: ServerResponse) => void) => {
    const provider = withoutDevInteractionsWarning(() => new Provider(issuer, configuration()));
    provider.use(async (ctx, next) => {
      if (ctx.path === '/jwks') reads += 1;
      await next();
    });
    return provider.callback();
  };
  let handler = build();
  server.on('request', (req, res) => handler(req, res));

  return {
    issuer,
    redirectUri: REDIRECT_URI,
    publicClientId: (alg) => `spa-${alg}`,
    privateKeyJwt: { clientId: 'private-key-jwt', privateKey, jwk: clientJwk, alg: 'ES256' },
    secretJwt,
    rotateKeys() {
      generation += 1;
      keys = signingKeys(generation);
      handler = build();
    },
    currentKids: () => keys.map((key) => String(key.kid)),
    jwksReads: () => reads,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
