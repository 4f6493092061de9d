import { OAuthError } from '../errors.js';

/** Whether a storage failure is a full store (Chrome/Safari: `QuotaExceededError`, legacy code 22; Firefox: `NS_ERROR_DOM_QUOTA_REACHED`, 1014). */
export function isQuotaExceeded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22 || code === 1014;
}

/**
 * A storage service's failure as an `OAuthError`: `storage_quota_exceeded` for a full
 * store, `storage_error` for anything else; one that is already an `OAuthError` is kept.
 */
export function storageFailure(error: unknown, description?: string): OAuthError {
  if (error instanceof OAuthError) return error;
  return new OAuthError(isQuotaExceeded(error) ? 'storage_quota_exceeded' : 'storage_error', {
    description: description ?? (error instanceof Error ? error.message : String(error)),
    retryable: false,
    cause: error,
  });
}
