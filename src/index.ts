/**
 * oauth-machines: an OAuth 2.1 client in which every grant is an XState v5
 * statechart. This entry is what an application needs: the grant machines,
 * the promise client, the error type, the services and the configuration
 * types. The protocol's builders and checkers are in `oauth-machines/protocol`;
 * the browser, server, redis, testing, inspect, providers and legacy entries
 * are separate imports too.
 */

// The grant machines (plain XState v5 machines) and the types of their input, options, context, events and tags.
export { authorizationCodeMachine, clientCredentialsMachine, deviceCodeMachine } from '../machines/index.js';
export type {
  CallbackEvent,
  GrantContext,
  GrantEvent,
  GrantInput,
  GrantOptions,
  GrantTag,
  LoginEvent,
  PendingAuthorization,
  SessionChangedEvent,
} from '../machines/index.js';

// Persisting a machine's snapshot yourself, and starting an actor from it again.
export { persistSnapshot, restoreActor, type PersistedGrantSnapshot } from '../machines/index.js';

// The promise client over one grant machine.
export {
  createOAuthClient,
  type AuthorizationCodeClientConfig,
  type ClientConfigFor,
  type ClientCredentialsClientConfig,
  type ConfidentialClientCredentials,
  type DeviceCodeClientConfig,
  type PrivateKeyJwtClientCredentials,
  type PublicClientCredentials,
  type RefreshOptions,
  type DeviceLogin,
  type GrantActor,
  type GrantSnapshot,
  type LoginOptions,
  type LoginResult,
  type LogoutOptions,
  type LogoutResult,
  type NotRevoked,
  type RevocableToken,
  type OAuthClient,
  type OAuthClientOptions,
  type OAuthGrant,
  type ProviderOption,
  selectUser,
  type UserClaims,
} from './client.js';

// The one error type of the library, and its codes.
export {
  OAuthError,
  isOAuthError,
  type LibraryErrorCode,
  type OAuthErrorCode,
  type OAuthErrorJSON,
  type OAuthErrorOptions,
  type ServerErrorCode,
} from './errors.js';

// The services a machine runs on: their interfaces and the implementations that ship.
export {
  defaultServices,
  fetchWithTimeout,
  indexedDbDpopKeyStore,
  manualClock,
  memoryDpopKeyStore,
  memoryStorage,
  systemClock,
  webCrypto,
  webLocks,
  webStorage,
  xstateClock,
  type Clock,
  type CryptoService,
  type DpopKeyStore,
  type FetchLike,
  type FetchWithTimeoutOptions,
  type IndexedDbDpopKeyStoreOptions,
  type LockManagerLike,
  type ManualClock,
  type Services,
  type StorageService,
  type StoredDpopKey,
  type TimeSource,
  type DpopService,
  type DpopSession,
  type WebStorageLike,
  type WebStorageOptions,
  type WebStorageService,
} from './services/index.js';

// The configuration a machine or client is given, and the tokens it yields.
export type {
  ClientAuthMethod,
  ClientConfig,
  ErrorAnswer,
  GrantType,
  Jwk,
  PkceMethod,
  PrivateKey,
  ProviderConfig,
  ProviderQuirks,
  TokenSet,
  WebCryptoKey,
} from './protocol/types.js';
export type { TokenInfo } from './protocol/tokenInfo.js';

// Discovery (RFC 8414 / OpenID Connect): a ProviderConfig from an issuer.
export { discover, type DiscoveryKind, type DiscoveryOptions } from './protocol/discovery.js';
// DPoP (RFC 9449): `services: { dpop: dpop() }` binds a grant's tokens to a key pair; only an app that imports it bundles it.
export { dpop, DPOP_ALGORITHMS, type DpopAlgorithm, type DpopOptions } from './protocol/dpop.js';
