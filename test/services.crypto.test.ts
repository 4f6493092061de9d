import { afterEach, describe, expect, it, vi } from 'vitest';
import { manualClock, systemClock } from '../src/services/clock.js';
import { defaultServices } from '../src/services/defaultServices.js';
import { memoryStorage } from '../src/services/memoryStorage.js';
import { webCrypto } from '../src/services/webCrypto.js';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

describe('webCrypto', () => {
  it('digests with SHA-256 (FIPS 180-2 test vector "abc")', async () => {
    const digest = await webCrypto().sha256(new TextEncoder().encode('abc'));
    expect(hex(digest)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('fills large requests in chunks of at most 65536 bytes', () => {
    const chunkSizes: number[] = [];
    const fake = {
      getRandomValues<T extends ArrayBufferView | null>(array: T): T {
        if (array) {
          chunkSizes.push(array.byteLength);
          new Uint8Array(array.buffer, array.byteOffset, array.byteLength).fill(7);
        }
        return array;
      },
      subtle: globalThis.crypto.subtle,
    } as unknown as Crypto;
    const bytes = webCrypto(fake).randomBytes(150_000);
    expect(bytes).toHaveLength(150_000);
    expect(chunkSizes).toEqual([65_536, 65_536, 18_928]);
    expect(bytes.every((b) => b === 7)).toBe(true);
  });

  it('gives distinct random bytes of the asked length with the real WebCrypto', () => {
    const crypto = webCrypto();
    const a = crypto.randomBytes(32);
    expect(a).toHaveLength(32);
    expect(hex(a)).not.toBe(hex(crypto.randomBytes(32)));
    expect(crypto.randomBytes(0)).toHaveLength(0);
  });

  it('refuses a negative or fractional length', () => {
    expect(() => webCrypto().randomBytes(-1)).toThrow(TypeError);
    expect(() => webCrypto().randomBytes(1.5)).toThrow(TypeError);
  });

  it('throws a clear TypeError when WebCrypto is absent', () => {
    expect(() => webCrypto({} as Crypto)).toThrow(/WebCrypto/);
  });

  it('throws a TypeError naming the secure context when crypto.subtle is missing', async () => {
    const noSubtle = { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) } as unknown as Crypto;
    await expect(webCrypto(noSubtle).sha256(new Uint8Array(1))).rejects.toThrow(/secure context/);
  });
});

describe('clocks', () => {
  it('systemClock follows Date.now', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    try {
      expect(systemClock.now()).toBe(1_700_000_000_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('manualClock moves only when told', () => {
    const clock = manualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(TypeError);
  });
});

describe('defaultServices', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('fills every port and leaves navigate out where there is no location', async () => {
    const services = defaultServices();
    expect(typeof services.fetch).toBe('function');
    expect(services.crypto.randomBytes(4)).toHaveLength(4);
    await services.storage.set('a', 'b');
    expect(await services.storage.get('a')).toBe('b');
    expect(typeof services.clock.now()).toBe('number');
    expect('navigate' in services).toBe(false);
  });

  it('keeps the ports it is given', () => {
    const storage = memoryStorage();
    const clock = manualClock(42);
    const navigate = (url: string) => void url;
    const services = defaultServices({ storage, clock, navigate });
    expect(services.storage).toBe(storage);
    expect(services.clock).toBe(clock);
    expect(services.navigate).toBe(navigate);
  });

  it('navigates with location.assign when the runtime has a location', async () => {
    const assigned: string[] = [];
    vi.stubGlobal('location', { assign: (url: string) => assigned.push(url) });
    await defaultServices().navigate?.('https://id.example/authorize?x=1');
    expect(assigned).toEqual(['https://id.example/authorize?x=1']);
  });

  it('does not need WebCrypto when a crypto service is given', () => {
    vi.stubGlobal('crypto', undefined);
    const crypto = { randomBytes: (n: number) => new Uint8Array(n), sha256: () => Promise.resolve(new Uint8Array(32)) };
    expect(defaultServices({ crypto }).crypto).toBe(crypto);
    expect(() => defaultServices()).toThrow(TypeError);
  });
});
