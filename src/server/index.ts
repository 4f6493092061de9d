/**
 * `oauth-machines/server`: confidential-client helpers for Node, Deno, Bun and
 * Workers — a client-credentials token cache and a code-exchange handler that
 * keeps a browser app's client secret on the server.
 */
export {
  createClientCredentialsCache,
  type ClientCredentialsCache,
  type ClientCredentialsCacheOptions,
  type TokenRequest,
} from './tokenCache.js';
export {
  createCodeExchangeHandler,
  type CodeExchangeClientConfig,
  type CodeExchangeHandlerOptions,
  type FetchHandler,
} from './codeExchangeHandler.js';
export { nodeServices } from './services.js';
export { keepAliveFetch, nodeCrypto } from './nodeServices.js';
