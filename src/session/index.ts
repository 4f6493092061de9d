/**
 * The rules about a session, each in one place: its tokens' shape, when they
 * are renewed, how long a failure holds renewal back, the persisted blob, and
 * whether a stored session is newer than ours. Machines, clients, the server
 * token cache and the browser's tab sync all import them from here.
 */
export { TokenSetSchema, type TokenSet } from './tokenSet.js';
export { accessTokenIsValid, renewalDueAt, tokensAreFresh, type RenewalRule } from './freshness.js';
export { MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, backoffDelay, renewalBackoff } from './backoff.js';
export {
  CountSchema,
  DeviceAuthorizationSchema,
  GrantKindSchema,
  PendingAuthorizationSchema,
  parseSessionBlob,
  serializeSessionBlob,
  sessionBlobHeader,
  type DeviceAuthorization,
  type GrantKind,
  type PendingAuthorization,
  type PersistedState,
  type SessionBlob,
} from './blob.js';
export { isNewerSession, type SessionStamp } from './newer.js';
