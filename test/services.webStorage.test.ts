import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../src/errors.js';
import { webStorage, type WebStorageLike } from '../src/services/webStorage.js';

/** A Storage with a quota in characters, throwing like browsers do when it is full. */
class QuotaStorage implements WebStorageLike {
  readonly items = new Map<string, string>();
  constructor(private readonly quota: number) {}
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    const used = [...this.items].reduce((sum, [k, v]) => (k === key ? sum : sum + k.length + v.length), 0);
    if (used + key.length + value.length > this.quota) {
      throw new DOMException("Failed to execute 'setItem' on 'Storage': exceeded the quota.", 'QuotaExceededError');
    }
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

async function rejection(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(error)}`);
  return error;
}

describe('webStorage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('reads, writes and removes through the Web Storage, under the prefix', async () => {
    const backing = new QuotaStorage(1_000);
    const storage = webStorage(backing, { prefix: 'om:' });
    expect(storage.persistent).toBe(true);
    expect(await storage.get('tokens')).toBeNull();
    await storage.set('tokens', 'v1');
    expect(backing.items.get('om:tokens')).toBe('v1');
    expect(await storage.get('tokens')).toBe('v1');
    await storage.remove('tokens');
    expect(backing.items.has('om:tokens')).toBe(false);
  });

  it('turns a full quota into storage_quota_exceeded with the cause, keeping the value stored before', async () => {
    const backing = new QuotaStorage(20);
    const storage = webStorage(backing);
    await storage.set('k', 'small');
    const error = await rejection(storage.set('k', 'x'.repeat(100)));
    expect(error.code).toBe('storage_quota_exceeded');
    expect(error.retryable).toBe(false);
    expect((error.cause as DOMException).name).toBe('QuotaExceededError');
    expect(await storage.get('k')).toBe('small');
  });

  it('recognises the legacy quota code 22 and Firefox NS_ERROR_DOM_QUOTA_REACHED', async () => {
    for (const thrown of [Object.assign(new Error('full'), { code: 22 }), Object.assign(new Error('full'), { name: 'NS_ERROR_DOM_QUOTA_REACHED' })]) {
      const storage = webStorage({
        getItem: () => null,
        removeItem: () => undefined,
        setItem: () => {
          throw thrown;
        },
      });
      expect((await rejection(storage.set('k', 'v'))).code).toBe('storage_quota_exceeded');
    }
  });

  it('puts the old value back when a broken storage loses it while failing', async () => {
    const items = new Map<string, string>([['k', 'old']]);
    let failNext = true;
    const storage = webStorage({
      getItem: (key) => items.get(key) ?? null,
      removeItem: (key) => void items.delete(key),
      setItem: (key, value) => {
        if (failNext) {
          failNext = false;
          items.delete(key);
          throw new DOMException('full', 'QuotaExceededError');
        }
        items.set(key, value);
      },
    });
    expect((await rejection(storage.set('k', 'new'))).code).toBe('storage_quota_exceeded');
    expect(items.get('k')).toBe('old');
  });

  it('turns any other failure into storage_error with the cause', async () => {
    const denied = new DOMException('The operation is insecure.', 'SecurityError');
    const storage = webStorage({
      getItem: () => {
        throw denied;
      },
      setItem: () => {
        throw denied;
      },
      removeItem: () => {
        throw denied;
      },
    });
    for (const attempt of [storage.get('k'), storage.set('k', 'v'), storage.remove('k')]) {
      const error = await rejection(attempt);
      expect(error.code).toBe('storage_error');
      expect(error.cause).toBe(denied);
    }
  });

  it('falls back to memory, and says so, when there is no Web Storage', async () => {
    const storage = webStorage(null, { prefix: 'p:' });
    expect(storage.persistent).toBe(false);
    await storage.set('k', 'v');
    expect(await storage.get('k')).toBe('v');
    await storage.remove('k');
    expect(await storage.get('k')).toBeNull();
  });

  it('uses globalThis.sessionStorage by default', async () => {
    const backing = new QuotaStorage(1_000);
    vi.stubGlobal('sessionStorage', backing);
    const storage = webStorage();
    await storage.set('k', 'v');
    expect(backing.items.get('k')).toBe('v');
  });

  it('falls back to memory when merely reading globalThis.sessionStorage throws (blocked storage)', async () => {
    Object.defineProperty(globalThis, 'sessionStorage', {
      configurable: true,
      get() {
        throw new DOMException('Access is denied for this document.', 'SecurityError');
      },
    });
    try {
      const storage = webStorage();
      expect(storage.persistent).toBe(false);
      await storage.set('k', 'v');
      expect(await storage.get('k')).toBe('v');
    } finally {
      Reflect.deleteProperty(globalThis, 'sessionStorage');
    }
  });
});
