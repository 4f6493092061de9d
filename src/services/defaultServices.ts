import { systemClock } from './clock.js';
import { fetchWithTimeout } from './fetchWithTimeout.js';
import { memoryStorage } from './memoryStorage.js';
import type { Services } from './types.js';
import { webCrypto } from './webCrypto.js';

/**
 * The services with every gap filled: `fetchWithTimeout(globalThis.fetch)`,
 * `webCrypto()`, `memoryStorage()`, `systemClock`, and `navigate` when given
 * or when the runtime has a `location` to assign; `dpop` when given. A default is only built for
 * a port not given, so a runtime without WebCrypto works with a crypto passed in.
 */
export function defaultServices(partial: Partial<Services> = {}): Services {
  const services: Services = {
    fetch: partial.fetch ?? fetchWithTimeout(globalFetch()),
    crypto: partial.crypto ?? webCrypto(),
    storage: partial.storage ?? memoryStorage(),
    clock: partial.clock ?? systemClock,
  };
  const navigate = partial.navigate ?? locationNavigate();
  if (navigate) services.navigate = navigate;
  // No default: without it, tokens are bearer tokens and no DPoP code is bundled.
  if (partial.dpop !== undefined) services.dpop = partial.dpop;
  return services;
}

function globalFetch(): typeof fetch {
  if (typeof globalThis.fetch !== 'function') {
    throw new TypeError('defaultServices: this runtime has no global fetch; pass services.fetch');
  }
  // Bound: some runtimes throw "Illegal invocation" when fetch is called detached from globalThis.
  return globalThis.fetch.bind(globalThis);
}

function locationNavigate(): ((url: string) => void) | undefined {
  const location = (globalThis as { location?: { assign(url: string): void } }).location;
  if (!location || typeof location.assign !== 'function') return undefined;
  return (url) => location.assign(url);
}
