import { describe, expect, it } from 'vitest';
import * as serverEntry from '../src/server/index.js';
import { nodeServices } from '../src/server/services.js';
import { manualClock } from '../src/services/clock.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import type { FetchLike } from '../src/services/types.js';

describe('nodeServices', () => {
  it('fills every port with a working Node default', async () => {
    const services = nodeServices();
    expect(typeof services.fetch).toBe('function');
    expect(services.crypto.randomBytes(16)).toHaveLength(16);
    const digest = await services.crypto.sha256(new TextEncoder().encode('abc'));
    // FIPS 180-2 test vector for SHA-256("abc").
    expect(Buffer.from(digest).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    await services.storage.set('k', 'v');
    expect(await services.storage.get('k')).toBe('v');
    expect(Math.abs(services.clock.now() - Date.now())).toBeLessThan(60_000);
    expect(services.navigate).toBeUndefined();
  });

  it('uses whatever the caller gives instead of the defaults', () => {
    const fetch: FetchLike = () => Promise.resolve(new Response('{}'));
    const storage = memoryStorage();
    const clock = manualClock(42);
    const navigate = (): void => undefined;
    const services = nodeServices({ fetch, storage, clock, navigate });
    expect(services.fetch).toBe(fetch);
    expect(services.storage).toBe(storage);
    expect(services.clock).toBe(clock);
    expect(services.navigate).toBe(navigate);
  });
});

describe('oauth-machines/server', () => {
  it('exports the cache, the code-exchange handler and the Node services', () => {
    expect(Object.keys(serverEntry).sort()).toEqual([
      'createClientCredentialsCache',
      'createCodeExchangeHandler',
      'keepAliveFetch',
      'nodeCrypto',
      'nodeServices',
    ]);
  });
});
