import { fc, test as propTest } from '@fast-check/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../src/errors.js';
import type { ProviderConfig } from '../src/protocol/types.js';
import {
  createClientCredentialsCache,
  type ClientCredentialsCache,
  type ClientCredentialsCacheOptions,
} from '../src/server/tokenCache.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { createTestAuthorizationServer } from '../src/testing/index.js';

const SCOPES = ['read', 'write', 'admin', 'audit'];
const caches: ClientCredentialsCache[] = [];

// Each key is a running actor with an expiry timer: stop them all after each test.
afterEach(() => {
  for (const cache of caches.splice(0)) cache.clear();
});

function setup(overrides: Partial<ClientCredentialsCacheOptions> = {}, accessTokenTtl = 3600) {
  const server = createTestAuthorizationServer({
    clients: [
      {
        clientId: 'svc',
        clientSecret: 'svc-secret',
        authMethod: 'client_secret_basic',
        redirectUris: [],
        grants: ['client_credentials'],
        scopes: SCOPES,
      },
    ],
    accessTokenTtl,
  });
  const provider: ProviderConfig = { issuer: 'https://auth.test', tokenEndpoint: 'https://auth.test/token' };
  const cache = createClientCredentialsCache({
    provider,
    client: { clientId: 'svc', clientSecret: 'svc-secret' },
    services: { fetch: server.fetch, clock: server.clock },
    ...overrides,
  });
  caches.push(cache);
  const tokenRequests = () => server.tokenRequests('client_credentials');
  return { server, cache, tokenRequests };
}

describe('createClientCredentialsCache', () => {
  it('sends exactly one token request for 1,000 concurrent callers of one key', async () => {
    const { cache, tokenRequests } = setup();
    const callers = Array.from({ length: 1_000 }, () => cache.getAccessToken({ scopes: ['read'] }));
    const tokens = await Promise.all(callers);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/.+/);
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]?.params['scope']).toBe('read');
  });

  it('serves a cached token without asking the server again', async () => {
    const { cache, tokenRequests } = setup();
    const first = await cache.getAccessToken({ scopes: ['read'] });
    const second = await cache.getAccessToken({ scopes: ['read'] });
    expect(second).toBe(first);
    expect(tokenRequests()).toHaveLength(1);
  });

  it('shares one token between scope lists that differ only in order and duplicates', async () => {
    const { cache, tokenRequests } = setup();
    const a = await cache.getAccessToken({ scopes: ['write', 'read'] });
    const b = await cache.getAccessToken({ scopes: ['read', 'write', 'read'] });
    expect(b).toBe(a);
    expect(tokenRequests()).toHaveLength(1);
    // The request carries the normalised scope set.
    expect(tokenRequests()[0]?.params['scope']).toBe('read write');
  });

  propTest.prop([fc.shuffledSubarray(SCOPES, { minLength: 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 })], { numRuns: 40 })(
    'any reordering or duplication of a scope set maps to the same key (one token request)',
    async (scopes, picks) => {
      const { cache, tokenRequests } = setup();
      const reordered = [...scopes].reverse();
      const duplicated = [...scopes, ...picks.map((pick) => scopes[pick % scopes.length] ?? 'read')];
      const results = await Promise.all([
        cache.getAccessToken({ scopes }),
        cache.getAccessToken({ scopes: reordered }),
        cache.getAccessToken({ scopes: duplicated }),
      ]);
      expect(new Set(results).size).toBe(1);
      expect(tokenRequests()).toHaveLength(1);
      expect(cache.size).toBe(1);
    },
  );

  propTest.prop([fc.array(fc.subarray(SCOPES, { minLength: 1 }), { minLength: 1, maxLength: 120 })], { numRuns: 30 })(
    'for any mix of concurrent callers over several keys, each key sends exactly one token request and its callers share its token',
    async (requests) => {
      const { cache, tokenRequests } = setup({ maxEntries: 50 });
      const tokens = await Promise.all(requests.map((scopes) => cache.getAccessToken({ scopes })));
      const byKey = new Map<string, Set<string>>();
      requests.forEach((scopes, index) => {
        const key = [...scopes].sort().join(' ');
        const seen = byKey.get(key) ?? new Set<string>();
        seen.add(tokens[index] ?? '');
        byKey.set(key, seen);
      });
      for (const seen of byKey.values()) expect(seen.size).toBe(1);
      expect(tokenRequests()).toHaveLength(byKey.size);
      expect(new Set(tokenRequests().map((entry) => entry.params['scope'])).size).toBe(byKey.size);
    },
  );

  it('keeps a separate token per resource (RFC 8707)', async () => {
    const { cache, tokenRequests } = setup();
    const a = await cache.getAccessToken({ scopes: ['read'], resource: 'https://api-a.example/' });
    const b = await cache.getAccessToken({ scopes: ['read'], resource: 'https://api-b.example/' });
    const aAgain = await cache.getAccessToken({ scopes: ['read'], resource: 'https://api-a.example/' });
    expect(b).not.toBe(a);
    expect(aAgain).toBe(a);
    expect(tokenRequests().map((entry) => entry.params['resource'])).toEqual([
      'https://api-a.example/',
      'https://api-b.example/',
    ]);
  });

  it('asks for the same resource again when it renews the token of a resource key', async () => {
    const { server, cache, tokenRequests } = setup({ options: { refreshSkewMs: 60_000 } }, 3600);
    const request = { scopes: ['read'], resource: 'https://api-a.example/' };
    const first = await cache.getAccessToken(request);
    server.clock.advance(3_600_000 - 60_000);
    expect(await cache.getAccessToken(request)).toBe(first); // still valid: served while it is renewed
    await vi.waitFor(async () => expect(await cache.getAccessToken(request)).not.toBe(first));
    expect(tokenRequests().map((entry) => entry.params['resource'])).toEqual(['https://api-a.example/', 'https://api-a.example/']);
  });

  it('adds the resource to JSON-encoded token requests too (a jsonTokenEndpoint() server)', async () => {
    const server = createTestAuthorizationServer({
      clients: [
        { clientId: 'svc', clientSecret: 'svc-secret', authMethod: 'client_secret_post', redirectUris: [], grants: ['client_credentials'], scopes: ['read'] },
      ],
      quirks: { jsonTokenRequests: true },
    });
    const cache = createClientCredentialsCache({
      provider: { tokenEndpoint: 'https://auth.test/token', quirks: { tokenRequestEncoding: 'json' } },
      client: { clientId: 'svc', clientSecret: 'svc-secret', authMethod: 'client_secret_post' },
      services: { fetch: server.fetch, clock: server.clock },
    });
    caches.push(cache);
    await cache.getAccessToken({ scopes: ['read'], resource: 'https://api.example/' });
    const [request] = server.tokenRequests('client_credentials');
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.params['resource']).toBe('https://api.example/');
    expect(request?.status).toBe(200);
  });

  it('shares tokens between caches (processes) that share a storage and storage key', async () => {
    const { server } = setup();
    const storage = memoryStorage();
    const make = () => {
      const cache = createClientCredentialsCache({
        provider: { tokenEndpoint: 'https://auth.test/token' },
        client: { clientId: 'svc', clientSecret: 'svc-secret' },
        services: { fetch: server.fetch, clock: server.clock, storage },
      });
      caches.push(cache);
      return cache;
    };
    const first = await make().getAccessToken({ scopes: ['read'] });
    // A second process starting later restores the stored session instead of asking again.
    expect(await make().getAccessToken({ scopes: ['read'] })).toBe(first);
    expect(server.tokenRequests('client_credentials')).toHaveLength(1);
  });

  it('never shares a stored token between two clients that share a storage', async () => {
    const server = createTestAuthorizationServer({
      clients: ['svc-a', 'svc-b'].map((clientId) => ({
        clientId,
        clientSecret: 'secret',
        authMethod: 'client_secret_basic' as const,
        redirectUris: [],
        grants: ['client_credentials' as const],
        scopes: ['read'],
      })),
    });
    const storage = memoryStorage();
    const make = (clientId: string) => {
      const cache = createClientCredentialsCache({
        provider: { tokenEndpoint: 'https://auth.test/token' },
        client: { clientId, clientSecret: 'secret' },
        services: { fetch: server.fetch, clock: server.clock, storage },
      });
      caches.push(cache);
      return cache;
    };
    const a = await make('svc-a').getAccessToken({ scopes: ['read'] });
    const b = await make('svc-b').getAccessToken({ scopes: ['read'] });
    expect(b).not.toBe(a);
    expect(server.tokenRequests('client_credentials').map((entry) => entry.clientId)).toEqual(['svc-a', 'svc-b']);
  });

  it('keeps a separate token per scope set', async () => {
    const { cache, tokenRequests } = setup();
    const read = await cache.getAccessToken({ scopes: ['read'] });
    const write = await cache.getAccessToken({ scopes: ['write'] });
    expect(write).not.toBe(read);
    expect(tokenRequests()).toHaveLength(2);
  });

  it('uses the configured default scopes when a call names none', async () => {
    const { cache, tokenRequests } = setup({ client: { clientId: 'svc', clientSecret: 'svc-secret', scopes: ['write', 'read'] } });
    const a = await cache.getAccessToken();
    const b = await cache.getAccessToken({ scopes: ['read', 'write'] });
    expect(b).toBe(a);
    expect(tokenRequests()[0]?.params['scope']).toBe('read write');
  });

  it('renews a token once it is within the skew of its expiry, not before, serving it meanwhile', async () => {
    const { server, cache, tokenRequests } = setup({ options: { refreshSkewMs: 60_000 } }, 3600);
    const first = await cache.getTokens({ scopes: ['read'] });
    expect(first.expiresAt).toBe(server.clock.now() + 3_600_000);

    server.clock.advance(3_600_000 - 60_000 - 1);
    expect((await cache.getTokens({ scopes: ['read'] })).accessToken).toBe(first.accessToken);
    expect(tokenRequests()).toHaveLength(1);

    server.clock.advance(1);
    // Still valid: every caller gets it at once, and one renewal starts in the background.
    const callers = Array.from({ length: 100 }, () => cache.getAccessToken({ scopes: ['read'] }));
    const served = await Promise.all(callers);
    expect(new Set(served)).toEqual(new Set([first.accessToken]));
    await vi.waitFor(async () => expect(await cache.getAccessToken({ scopes: ['read'] })).not.toBe(first.accessToken));
    const renewed = await Promise.all(Array.from({ length: 100 }, () => cache.getAccessToken({ scopes: ['read'] })));
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(first.accessToken);
    expect(tokenRequests()).toHaveLength(2);
  });



  it('rejects every waiting caller with the same OAuthError, and asks again once the backoff is over', async () => {
    const { server, cache, tokenRequests } = setup({ options: { retryBaseMs: 1_000 } });
    server.fail('token', { oauthError: 'invalid_client', status: 401 });
    const callers = Array.from({ length: 50 }, () => cache.getAccessToken({ scopes: ['read'] }).then(
      () => undefined,
      (error: unknown) => error,
    ));
    const errors = await Promise.all(callers);
    const first = errors[0];
    expect(first).toBeInstanceOf(OAuthError);
    expect((first as OAuthError).code).toBe('invalid_client');
    expect((first as OAuthError).status).toBe(401);
    expect(errors.every((error) => error === first)).toBe(true);
    expect(tokenRequests()).toHaveLength(1);

    // During the backoff a call gets the failure at once, without a request.
    await expect(cache.getAccessToken({ scopes: ['read'] })).rejects.toMatchObject({ code: 'invalid_client', status: 401 });
    expect(tokenRequests()).toHaveLength(1);
    // Not cached for good: once the backoff (at most retryBaseMs the first time) is over, the next call asks again and succeeds.
    server.clock.advance(1_000);
    await expect(cache.getAccessToken({ scopes: ['read'] })).resolves.toMatch(/.+/);
    expect(tokenRequests()).toHaveLength(2);
  });

  it('maps a dropped connection to a retryable network_error for every caller', async () => {
    const { server, cache } = setup();
    server.fail('token', { drop: true });
    const results = await Promise.allSettled([cache.getAccessToken(), cache.getAccessToken()]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(OAuthError);
        expect((result.reason as OAuthError).code).toBe('network_error');
        expect((result.reason as OAuthError).retryable).toBe(true);
      }
    }
  });

  it('hides a transient renewal failure from callers while the token is still valid: the renewal is retried', async () => {
    const { server, cache, tokenRequests } = setup({ options: { refreshSkewMs: 60_000, retryBaseMs: 20 } });
    const first = await cache.getAccessToken();
    server.clock.advance(3_600_000 - 30_000); // inside the skew, 30 s before expiry
    server.fail('token', { status: 503, body: { error: 'temporarily_unavailable' } });
    const during = await cache.getAccessToken(); // resolves: the old token or the retried renewal's
    expect(typeof during).toBe('string');
    // The lifecycle retries after a backoff on the server's clock (tens of ms here): move it on, bounded.
    let renewed = during;
    for (let attempt = 0; attempt < 200 && renewed === first; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      server.clock.advance(5);
      renewed = await cache.getAccessToken();
    }
    expect(renewed).not.toBe(first);
    expect(tokenRequests().map((entry) => entry.status)).toEqual([200, 503, 200]);
  });

  it('does not serve an expired token when its renewal fails', async () => {
    const { server, cache } = setup({ options: { maxRefreshAttempts: 1 } });
    await cache.getAccessToken();
    server.clock.advance(3_600_000);
    server.fail('token', { status: 503, body: { error: 'temporarily_unavailable' } });
    await expect(cache.getAccessToken()).rejects.toMatchObject({ code: 'temporarily_unavailable', retryable: true });
  });

  it('drops the least recently used key beyond maxEntries', async () => {
    const { cache, tokenRequests } = setup({ maxEntries: 2 });
    const read = await cache.getAccessToken({ scopes: ['read'] });
    await cache.getAccessToken({ scopes: ['write'] });
    expect(await cache.getAccessToken({ scopes: ['read'] })).toBe(read); // read is now the most recent
    await cache.getAccessToken({ scopes: ['admin'] }); // evicts write
    expect(cache.size).toBe(2);
    expect(tokenRequests()).toHaveLength(3);
    expect(await cache.getAccessToken({ scopes: ['read'] })).toBe(read);
    expect(tokenRequests()).toHaveLength(3);
    await cache.getAccessToken({ scopes: ['write'] });
    expect(tokenRequests()).toHaveLength(4);
  });

  it('never evicts a key whose request is under way, so its callers still share one request', async () => {
    const { server, cache, tokenRequests } = setup({ maxEntries: 1 });
    server.fail('token', { delayMs: 20 });
    const slowRead = cache.getAccessToken({ scopes: ['read'] });
    const write = cache.getAccessToken({ scopes: ['write'] }); // over the bound while read is in flight
    const readAgain = cache.getAccessToken({ scopes: ['read'] });
    expect(await readAgain).toBe(await slowRead);
    await write;
    expect(tokenRequests().filter((entry) => entry.params['scope'] === 'read')).toHaveLength(1);
    expect(cache.size).toBe(1);
  });

  it('answers a caller of a key that is dropped in the same tick (no aborted rejection)', async () => {
    const { server, cache } = setup({ maxEntries: 1 });
    const first = await cache.getAccessToken({ scopes: ['read'] });
    server.clock.advance(3_600_000); // read's token has expired: its next caller must renew
    const read = cache.getAccessToken({ scopes: ['read'] });
    const write = cache.getAccessToken({ scopes: ['write'] }); // drops read, whose caller has not sent REFRESH yet
    const renewed = await read;
    expect(renewed).not.toBe(first);
    await write;
    expect(cache.size).toBe(1);
  });

  it('rejects a request the provider profile forbids, without sending anything', async () => {
    const { cache, tokenRequests } = setup({
      provider: { tokenEndpoint: 'https://auth.test/token', quirks: { userAgentPattern: '^OAuth [^/\\s]+/\\S+ \\(contact: [^)]+\\)' } },
    });
    await expect(cache.getAccessToken()).rejects.toThrow(/User-Agent/);
    expect(tokenRequests()).toHaveLength(0);
  });

  it('invalidates one key, leaving the others cached', async () => {
    const { cache, tokenRequests } = setup();
    const read = await cache.getAccessToken({ scopes: ['read'] });
    const write = await cache.getAccessToken({ scopes: ['write'] });
    cache.invalidate({ scopes: ['read'] });
    expect(await cache.getAccessToken({ scopes: ['read'] })).not.toBe(read);
    expect(await cache.getAccessToken({ scopes: ['write'] })).toBe(write);
    expect(tokenRequests()).toHaveLength(3);
  });

  it('invalidates with an access token only when it is still the held one', async () => {
    const { cache, tokenRequests } = setup();
    const first = await cache.getAccessToken({ scopes: ['read'] });
    cache.invalidate({ scopes: ['read'], accessToken: first });
    cache.invalidate({ scopes: ['read'], accessToken: first }); // a second report of the same token during the renewal
    const second = await cache.getAccessToken({ scopes: ['read'] });
    expect(second).not.toBe(first);
    // A late report about the first token must not throw away the second.
    cache.invalidate({ scopes: ['read'], accessToken: first });
    expect(await cache.getAccessToken({ scopes: ['read'] })).toBe(second);
    expect(tokenRequests()).toHaveLength(2);
  });

  it('invalidates every key without an argument, and clear() empties the cache', async () => {
    const { cache, tokenRequests } = setup();
    await cache.getAccessToken({ scopes: ['read'] });
    await cache.getAccessToken({ scopes: ['write'] });
    cache.invalidate();
    await cache.getAccessToken({ scopes: ['read'] });
    await cache.getAccessToken({ scopes: ['write'] });
    expect(tokenRequests()).toHaveLength(4);
    cache.clear();
    expect(cache.size).toBe(0);
    await cache.getAccessToken({ scopes: ['read'] });
    expect(tokenRequests()).toHaveLength(5);
  });

  it('stops every key on clear(): callers under way reject with aborted, the next call starts afresh', async () => {
    const { server, cache, tokenRequests } = setup();
    server.fail('token', { delayMs: 20 });
    const pending = cache.getAccessToken({ scopes: ['read'] });
    await new Promise((resolve) => setTimeout(resolve, 1)); // the request is on its way
    cache.clear();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(cache.size).toBe(0);
    await expect(cache.getAccessToken({ scopes: ['read'] })).resolves.toMatch(/.+/);
    expect(tokenRequests().filter((entry) => entry.status === 200)).toHaveLength(1);
  });

  it('rejects scopes that are not RFC 6749 scope tokens and resources that are not absolute URIs', async () => {
    const { cache, tokenRequests } = setup();
    await expect(cache.getAccessToken({ scopes: ['two words'] })).rejects.toThrow(TypeError);
    await expect(cache.getAccessToken({ scopes: [''] })).rejects.toThrow(TypeError);
    await expect(cache.getTokens({ resource: '/relative' })).rejects.toThrow(TypeError);
    await expect(cache.getAccessToken({ resource: 'https://api.example/#frag' })).rejects.toThrow(TypeError);
    expect(tokenRequests()).toHaveLength(0);
  });

  it('refuses bad options up front', () => {
    const provider = { tokenEndpoint: 'https://auth.test/token' };
    const client = { clientId: 'svc', clientSecret: 's' };
    const base = { provider, client };
    expect(() => createClientCredentialsCache({ ...base, client: { ...client, clientId: '' } })).toThrow(TypeError);
    expect(() => createClientCredentialsCache({ ...base, client: { ...client, clientSecret: '' } })).toThrow(TypeError);
    expect(() => createClientCredentialsCache({ ...base, maxEntries: 0 })).toThrow(TypeError);
    expect(() => createClientCredentialsCache({ ...base, options: { refreshSkewMs: -1 } })).toThrow(TypeError);
    expect(() => createClientCredentialsCache({ ...base, client: { ...client, scopes: ['a b'] } })).toThrow(TypeError);
    // One shape: the old flat keys are refused, naming where they went.
    expect(() => createClientCredentialsCache({ ...base, ...({ refreshSkewMs: 1 } as object) })).toThrow(
      'createClientCredentialsCache: unknown option refreshSkewMs; did you mean options.refreshSkewMs?',
    );
  });

});
