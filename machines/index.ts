/**
 * The grant machines: plain XState v5 machines whose I/O goes through the
 * services in their input. The legacy password and implicit grants are in
 * `oauth-machines/legacy`.
 */
export { authorizationCodeMachine, judgeCallback, type CallbackVerdict, type PreparedAuthorization } from './authorizationCode.js';
export { clientCredentialsMachine } from './clientCredentials.js';
export { deviceCodeMachine } from './deviceCode.js';
export { accessTokenIsValid, renewalDueAt, tokensAreFresh, type RenewalRule } from '../src/session/freshness.js';
export { expiryTimerFiresAt, type LifecycleChildren } from './lifecycle.js';
export type { LogoutOutcome, NewSession } from './lifecycleActors.js';
export type { LogoutResult, NotRevoked, RevocableToken } from './types.js';
export { parseSessionBlob, readSession, type PersistedState, type SessionBlob } from './persistence.js';
export { persistSnapshot, restoreActor, STABLE_STATES, type PersistedGrantSnapshot, type StableStateValue } from './snapshots.js';
export {
  DEFAULT_GRANT_OPTIONS,
  resolveGrantOptions,
  type CallbackEvent,
  type DeferredEvent,
  type DeviceAuthorizationState,
  type GrantContext,
  type GrantEvent,
  type GrantInput,
  type GrantKind,
  type GrantOptions,
  type GrantTag,
  type LoginEvent,
  type LoginRequest,
  type PendingAuthorization,
  type ResolvedGrantOptions,
  type SessionChangedEvent,
} from './types.js';
