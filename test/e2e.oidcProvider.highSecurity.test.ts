/**
 * The high-security features together, against oidc-provider 8 on
 * 127.0.0.1 with PAR required and DPoP on: a confidential client that
 * authenticates with `private_key_jwt` (a non-extractable `CryptoKey`) pushes
 * its authorization request, binds the code to its DPoP key, redeems it with
 * an assertion and a proof, and refreshes the same way. Each feature has its
 * own suite; this one checks that they compose.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthClient } from '../src/client.js';
import { dpop } from '../src/protocol/dpop.js';
import { memoryDpopKeyStore, memoryStorage } from '../src/services/index.js';
import type { FetchLike } from '../src/services/types.js';
import { startOidcProvider, type StartedOidcProvider } from './support/oidcProvider.js';
import { UserAgent } from './support/userAgent.js';

const CLIENT_ID = 'high-security';
const REDIRECT_URI = 'http://127.0.0.1/callback';

const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privateJwk = { ...(clientKey.privateKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'hs-1', alg: 'ES256' };
const publicJwk = { ...(clientKey.publicKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'hs-1', alg: 'ES256', use: 'sig' };

let op: StartedOidcProvider;

beforeAll(async () => {
  op = await startOidcProvider({
    configure: (configuration) => {
      configuration.features = {
        ...configuration.features,
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => false },
        pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      };
      configuration.clients = [
        ...(configuration.clients ?? []),
        {
          client_id: CLIENT_ID,
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [publicJwk] },
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [REDIRECT_URI],
          dpop_bound_access_tokens: true,
        },
      ];
    },
  });
});

afterAll(async () => {
  await op?.close();
});

interface Sent {
  url: string;
  headers: Headers;
  body: URLSearchParams;
}

function recordingFetch(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      const request = input instanceof Request ? input : undefined;
      sent.push({
        url: request?.url ?? String(input),
        headers: new Headers(request?.headers ?? init?.headers),
        body: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
      });
      return fetch(input, init);
    },
  };
}

describe('PAR, DPoP and private_key_jwt together against oidc-provider', () => {
  it('pushes with an assertion, binds the code to the DPoP key, redeems and refreshes with an assertion and a proof each', async () => {
    const privateKey = await crypto.subtle.importKey('jwk', privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const recorder = recordingFetch();
    const keys = memoryDpopKeyStore();
    const client = createOAuthClient({
      grant: 'authorization_code',
      provider: { issuer: op.issuer },
      client: { clientId: CLIENT_ID, authMethod: 'private_key_jwt', privateKey, keyId: 'hs-1', redirectUri: REDIRECT_URI, scopes: ['openid', 'offline_access'] },
      services: { storage: memoryStorage(), fetch: recorder.fetch, navigate: () => undefined, dpop: dpop({ keys }) },
    });
    try {
      const authorizationUrl = new URL(await client.login({ extraParams: { prompt: 'consent' } }));
      // PAR (RFC 9126 §4): the user agent carries only client_id and request_uri.
      expect([...authorizationUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      const push = recorder.sent.find((request) => request.url === `${op.issuer}/request`);
      expect(push?.body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const dpopJkt = push?.body.get('dpop_jkt');
      expect(dpopJkt).toEqual(expect.any(String));

      const tokens = await client.handleCallback(await new UserAgent().authorize(authorizationUrl.href, { login: 'alice' }));
      expect(tokens.tokenType).toBe('DPoP');
      const tokenRequests = () => recorder.sent.filter((request) => request.url === `${op.issuer}/token`);
      const exchange = tokenRequests()[0]!;
      const proof = await jwtVerify(exchange.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(await calculateJwkThumbprint(proof.protectedHeader.jwk!)).toBe(dpopJkt);
      const assertion = decodeJwt(exchange.body.get('client_assertion') ?? '');
      expect(assertion).toMatchObject({ iss: CLIENT_ID, sub: CLIENT_ID });

      const refreshed = await client.refresh();
      expect(refreshed?.tokenType).toBe('DPoP');
      const refresh = tokenRequests().at(-1)!;
      expect(refresh.body.get('grant_type')).toBe('refresh_token');
      const refreshAssertion = decodeJwt(refresh.body.get('client_assertion') ?? '');
      expect(refreshAssertion.jti).not.toBe(assertion.jti);
      const refreshProof = await jwtVerify(refresh.headers.get('dpop') ?? '', EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(await calculateJwkThumbprint(refreshProof.protectedHeader.jwk!)).toBe(dpopJkt);
    } finally {
      client.stop();
    }
  });
});
