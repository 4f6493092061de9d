/**
 * A lock that serialises callers of the same key within one JavaScript realm:
 * a FIFO promise chain per key. Keys are independent, a failing critical
 * section releases the lock and rejects only its own caller, and a key that
 * falls idle is forgotten.
 *
 * Not re-entrant: a critical section that waits for the same key deadlocks.
 */
export interface ProcessLock {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** How many keys have a holder or waiters right now (idle keys cost nothing). */
  readonly activeKeys: number;
}

export function processLock(): ProcessLock {
  // The tail of each key's queue: settles once the last queued caller is done. Never rejects.
  const tails = new Map<string, Promise<void>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(() => fn());
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get activeKeys() {
      return tails.size;
    },
  };
}
