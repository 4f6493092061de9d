/**
 * Client authentication at the back-channel endpoints (RFC 6749 §2.3):
 * exactly the method the client registered, nothing else.
 */
import { basicCredentials } from './requestParsing.js';
import { OAuthFailure } from './responses.js';
import type { ServerState } from './serverState.js';
import type { TestClient } from './types.js';

/** RFC 6749 §5.2: invalid_client is a 401 with a challenge for the scheme the server supports. */
function invalidClient(description: string): OAuthFailure {
  return new OAuthFailure('invalid_client', description, 401, {
    'www-authenticate': 'Basic realm="test-authorization-server"',
  });
}

/** Compares without an early exit, as a real server must for secrets. */
function sameSecret(expected: string, presented: string): boolean {
  const a = new TextEncoder().encode(expected);
  const b = new TextEncoder().encode(presented);
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

export function authenticateClient(state: ServerState, request: Request, params: Record<string, string>): TestClient {
  const basic = basicCredentials(request);
  const bodyId = params.client_id;
  const bodySecret = params.client_secret;

  if (basic.scheme === 'basic') {
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    if (bodySecret !== undefined) throw new OAuthFailure('invalid_request', 'client credentials sent both in the header and in the body');
    if (state.config.quirks.clientSecretPostOnly) throw invalidClient('HTTP Basic client authentication is not supported; use client_secret_post');
    if (bodyId !== undefined && bodyId !== basic.clientId) throw invalidClient('client_id in the body differs from the Basic credentials');
    const client = state.clients.get(basic.clientId);
    if (!client) throw invalidClient('unknown client');
    if (client.authMethod !== 'client_secret_basic') throw invalidClient(`client is registered for ${client.authMethod}, not client_secret_basic`);
    if (!sameSecret(client.clientSecret ?? '', basic.clientSecret)) throw invalidClient('wrong client secret');
    return client;
  }

  if (bodyId === undefined) throw invalidClient('no client authentication');
  const client = state.clients.get(bodyId);
  if (!client) throw invalidClient('unknown client');
  if (bodySecret !== undefined) {
    if (client.authMethod !== 'client_secret_post') throw invalidClient(`client is registered for ${client.authMethod}, not client_secret_post`);
    if (!sameSecret(client.clientSecret ?? '', bodySecret)) throw invalidClient('wrong client secret');
    return client;
  }
  if (client.authMethod !== 'none') throw invalidClient(`client must authenticate with ${client.authMethod}`);
  return client;
}
