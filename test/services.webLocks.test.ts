import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../src/services/memoryStorage.js';
import type { StorageService } from '../src/services/types.js';
import { webLocks, type LockManagerLike } from '../src/services/webLocks.js';

/** The smallest exclusive Web Locks manager: one FIFO queue per name, recording every request. */
function fakeLocks() {
  const requests: Array<{ name: string; mode: string }> = [];
  const queues = new Map<string, Promise<unknown>>();
  const locks: LockManagerLike = {
    request<T>(name: string, options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T> {
      requests.push({ name, mode: options.mode });
      const previous = queues.get(name) ?? Promise.resolve();
      const result = previous.then(() => callback());
      queues.set(
        name,
        result.catch(() => undefined),
      );
      return result;
    },
  };
  return { locks, requests };
}

function recordSections(storage: StorageService) {
  const events: string[] = [];
  const lock = storage.lock;
  if (!lock) throw new Error('webLocks must give the storage a lock');
  const section = (key: string, name: string, fail = false) =>
    lock(key, async () => {
      events.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(`${name} out`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
  return { events, section };
}

describe('webLocks', () => {
  it('takes an exclusive Web Lock named after the key and returns what the critical section returns', async () => {
    const { locks, requests } = fakeLocks();
    const storage = webLocks(memoryStorage(), locks);
    const { events, section } = recordSections(storage);
    const results = await Promise.all([section('refresh', 'first'), section('refresh', 'second')]);
    expect(results).toEqual(['first', 'second']);
    expect(requests).toEqual([
      { name: 'refresh', mode: 'exclusive' },
      { name: 'refresh', mode: 'exclusive' },
    ]);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out']);
  });

  it("rejects only the failing caller's promise", async () => {
    const { locks } = fakeLocks();
    const { section } = recordSections(webLocks(memoryStorage(), locks));
    const failing = section('k', 'first', true);
    const next = section('k', 'second');
    await expect(failing).rejects.toThrow('first failed');
    await expect(next).resolves.toBe('second');
  });

  it('falls back to an in-process lock when the Web Locks API is missing', async () => {
    // In Node 20 there is no navigator.locks, so the default is the fallback.
    const { events, section } = recordSections(webLocks(memoryStorage()));
    await Promise.all([section('k', 'first'), section('k', 'second')]);
    expect(events).toEqual(['first in', 'first out', 'second in', 'second out']);
  });

  it('keeps get, set and remove of the wrapped storage', async () => {
    const inner = memoryStorage();
    const storage = webLocks(inner, fakeLocks().locks);
    await storage.set('a', '1');
    expect(await inner.get('a')).toBe('1');
    expect(await storage.get('a')).toBe('1');
    await storage.remove('a');
    expect(await inner.get('a')).toBeNull();
  });
});
