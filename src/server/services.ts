/**
 * Services for Node servers: node:crypto, a keep-alive `node:http` fetch,
 * memory storage and the system clock.
 */
import { memoryStorage } from '../services/memoryStorage.js';
import { systemClock } from '../services/clock.js';
import type { Services } from '../services/types.js';
import { nodeCrypto, sharedKeepAliveFetch } from './nodeServices.js';

/**
 * Builds the {@link Services} a Node server uses: `nodeCrypto()`, the
 * process's shared `keepAliveFetch()` (`node:http`/`node:https` with one
 * keep-alive agent per protocol, 30 s deadline per response),
 * `memoryStorage()` and the system clock; whatever
 * `partial` gives replaces the default (e.g. a test server's `fetch`, a
 * manual clock, Redis storage). Defaults are only built when not given.
 */
export function nodeServices(partial: Partial<Services> = {}): Services {
  const services: Services = {
    fetch: partial.fetch ?? sharedKeepAliveFetch(),
    crypto: partial.crypto ?? nodeCrypto(),
    storage: partial.storage ?? memoryStorage(),
    clock: partial.clock ?? systemClock,
  };
  if (partial.navigate) services.navigate = partial.navigate;
  return services;
}
