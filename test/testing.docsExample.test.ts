/**
 * The plain-fetch example of docs/testing.md, as written there (imports
 * adjusted to the source tree), so the page cannot drift from the code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createTestAuthorizationServer } from '../src/testing/index.js';

it('runs the plain-fetch example of docs/testing.md', async () => {
  const server = createTestAuthorizationServer({
    clients: [{
      clientId: 'my-spa', authMethod: 'none', redirectUris: ['http://127.0.0.1:5173/callback'],
      grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'offline_access'],
    }],
  });

  // 1. Discovery.
  const metadata = (await (await server.fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;

  // 2. The authorization request, "followed by the browser".
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorizationUrl = new URL(metadata.authorization_endpoint ?? '');
  authorizationUrl.search = new URLSearchParams({
    response_type: 'code', client_id: 'my-spa', redirect_uri: 'http://127.0.0.1:5173/callback',
    scope: 'openid offline_access', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  const callback = new URL(await server.authorize(authorizationUrl.toString()));
  expect(callback.href).toMatch(/^http:\/\/127\.0\.0\.1:5173\/callback\?code=ac_[\w-]+&state=xyz&iss=https%3A%2F%2Fauth\.test$/);

  // 3. The code exchange.
  const response = await server.fetch(metadata.token_endpoint ?? '', {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: 'my-spa', code: callback.searchParams.get('code') ?? '',
      redirect_uri: 'http://127.0.0.1:5173/callback', code_verifier: verifier,
    }),
  });
  const tokens = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(tokens).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);

  // 4. What the server saw, secrets redacted.
  expect(server.tokenRequests('authorization_code')).toMatchObject([{ endpoint: 'token', params: { code: '[redacted]' }, status: 200 }]);
});
