/**
 * Services for Node servers: node:crypto, a keep-alive fetch, memory storage
 * and the system clock.
 */
import { memoryStorage } from '../services/memoryStorage.js';
import { systemClock } from '../services/clock.js';
import type { Services } from '../services/types.js';
import { keepAliveFetch, nodeCrypto } from './nodeServices.js';

/**
 * Builds the {@link Services} a Node server uses: `nodeCrypto()`,
 * `keepAliveFetch()`, `memoryStorage()` and the system clock; whatever
 * `partial` gives replaces the default (e.g. a test server's `fetch`, a
 * manual clock, Redis storage). Defaults are only built when not given.
 */
export function nodeServices(partial: Partial<Services> = {}): Services {
  const services: Services = {
    fetch: partial.fetch ?? keepAliveFetch(),
    crypto: partial.crypto ?? nodeCrypto(),
    storage: partial.storage ?? memoryStorage(),
    clock: partial.clock ?? systemClock,
  };
  if (partial.navigate) services.navigate = partial.navigate;
  return services;
}
