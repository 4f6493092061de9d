/**
 * Pushed authorization requests (RFC 9126) against oidc-provider 8 on
 * 127.0.0.1: one provider that requires them (its metadata says
 * `require_pushed_authorization_requests`), one that offers them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthClient, type OAuthClient } from '../src/client.js';
import { OAuthError } from '../src/errors.js';
import { manualClock, memoryStorage } from '../src/services/index.js';
import type { FetchLike, StorageService } from '../src/services/types.js';
import { startOidcProvider, type StartedOidcProvider } from './support/oidcProvider.js';
import { UserAgent } from './support/userAgent.js';

let required: StartedOidcProvider;
let offered: StartedOidcProvider;

beforeAll(async () => {
  [required, offered] = await Promise.all([
    startOidcProvider({
      configure: (configuration) => {
        configuration.features = {
          ...configuration.features,
          pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
        };
      },
    }),
    startOidcProvider(),
  ]);
});

afterAll(async () => {
  await Promise.all([required?.close(), offered?.close()]);
});

interface Sent {
  url: string;
  body: URLSearchParams;
  status?: number;
}

function recordingFetch(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      const entry: Sent = { url: String(input), body: new URLSearchParams(typeof init?.body === 'string' ? init.body : '') };
      sent.push(entry);
      const response = await fetch(input, init);
      entry.status = response.status;
      return response;
    },
  };
}

function codeClient(op: StartedOidcProvider, options: { push?: boolean; storage?: StorageService; clock?: ReturnType<typeof manualClock>; redirectUri?: string } = {}) {
  const recorder = recordingFetch();
  const navigations: string[] = [];
  const client = createOAuthClient({
    grant: 'authorization_code',
    provider: { issuer: op.issuer },
    client: { clientId: op.clients.public.clientId, redirectUri: options.redirectUri ?? op.clients.public.redirectUris[0] ?? '', scopes: ['openid', 'offline_access'] },
    services: {
      storage: options.storage ?? memoryStorage(),
      fetch: recorder.fetch,
      navigate: (url) => void navigations.push(url),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    },
    ...(options.push === undefined ? {} : { options: { pushedAuthorizationRequests: options.push } }),
  });
  return { client, navigations, sent: recorder.sent };
}

async function signIn(client: OAuthClient<'authorization_code'>) {
  const authorizationUrl = await client.login({ extraParams: { prompt: 'consent' } });
  const callbackUrl = await new UserAgent().authorize(authorizationUrl, { login: 'alice' });
  const tokens = await client.handleCallback(callbackUrl);
  return { authorizationUrl: new URL(authorizationUrl), tokens };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('a provider that requires pushed authorization requests', () => {
  it('reads require_pushed_authorization_requests from discovery, pushes, and logs in with request_uri', async () => {
    const { client, sent, navigations } = codeClient(required);
    try {
      const { authorizationUrl, tokens } = await signIn(client);
      expect(client.provider).toMatchObject({
        pushedAuthorizationRequestEndpoint: `${required.issuer}/request`,
        requirePushedAuthorizationRequests: true,
      });
      const push = sent.filter((request) => request.url === `${required.issuer}/request`);
      expect(push).toHaveLength(1);
      expect(push[0]?.status).toBe(201);
      expect(push[0]?.body.get('code_challenge_method')).toBe('S256');
      expect(push[0]?.body.get('prompt')).toBe('consent');
      expect([...authorizationUrl.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
      expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      expect(navigations).toEqual([authorizationUrl.href]);
      expect(tokens.accessToken).toEqual(expect.any(String));
      expect(tokens.refreshToken).toEqual(expect.any(String));
    } finally {
      client.stop();
    }
  });

  it('is a provider that refuses the same request sent in the URL (what pushing avoids)', async () => {
    const { client } = codeClient(required, { push: false });
    try {
      const authorizationUrl = await client.login();
      const pushed = new URL(authorizationUrl);
      // The request the library would have sent without pushing, straight to the authorization endpoint.
      const direct = new URL(`${required.issuer}/auth`);
      for (const [name, value] of Object.entries({ client_id: 'spa', response_type: 'code', redirect_uri: 'http://127.0.0.1/callback', scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) {
        direct.searchParams.set(name, value);
      }
      const callback = new URL(await new UserAgent().authorize(direct.href));
      expect(callback.searchParams.get('error')).toBe('invalid_request');
      expect(pushed.searchParams.get('request_uri')).toEqual(expect.any(String));
    } finally {
      client.stop();
    }
  });

  it("rejects login() with the server's typed error when the push is refused, and sends the user nowhere", async () => {
    const { client, navigations } = codeClient(required, { redirectUri: 'http://127.0.0.1/not-registered' });
    try {
      const error = await rejection(client.login());
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'invalid_request', status: 400, retryable: false });
      expect((error as OAuthError).description).toMatch(/redirect_uri/);
      expect(navigations).toEqual([]);
    } finally {
      client.stop();
    }
  });

  it('pushes again when the request_uri expired before the user agent was sent, and the new one logs in', async () => {
    const clock = manualClock(Date.now());
    const inner = memoryStorage();
    let writes = 0;
    // The first write of the pending authorization takes longer than the request_uri lives (60 s at oidc-provider).
    const storage: StorageService = {
      get: (key) => inner.get(key),
      remove: (key) => inner.remove(key),
      set: async (key, value) => {
        if (++writes === 1) clock.advance(61_000);
        await inner.set(key, value);
      },
    };
    const { client, sent } = codeClient(required, { storage, clock });
    try {
      const { authorizationUrl, tokens } = await signIn(client);
      const pushes = sent.filter((request) => request.url === `${required.issuer}/request`);
      expect(pushes).toHaveLength(2);
      expect(authorizationUrl.searchParams.get('request_uri')).toEqual(expect.any(String));
      expect(tokens.accessToken).toEqual(expect.any(String));
    } finally {
      client.stop();
    }
  });
});

describe('a provider that offers pushed authorization requests', () => {
  it('pushes when options.pushedAuthorizationRequests is on', async () => {
    const { client, sent } = codeClient(offered, { push: true });
    try {
      const { authorizationUrl, tokens } = await signIn(client);
      expect(client.provider?.requirePushedAuthorizationRequests).toBeUndefined();
      expect(sent.filter((request) => request.url === `${offered.issuer}/request`)).toHaveLength(1);
      expect(authorizationUrl.searchParams.get('request_uri')).toEqual(expect.any(String));
      expect(tokens.accessToken).toEqual(expect.any(String));
    } finally {
      client.stop();
    }
  });

  it('sends the request in the URL by default', async () => {
    const { client, sent } = codeClient(offered);
    try {
      const { authorizationUrl, tokens } = await signIn(client);
      expect(sent.filter((request) => request.url === `${offered.issuer}/request`)).toEqual([]);
      expect(authorizationUrl.searchParams.get('state')).toEqual(expect.any(String));
      expect(authorizationUrl.searchParams.has('request_uri')).toBe(false);
      expect(tokens.accessToken).toEqual(expect.any(String));
    } finally {
      client.stop();
    }
  });
});
