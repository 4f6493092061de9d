/**
 * The one way a server's error becomes an `OAuthError`: from an error
 * response's body or `WWW-Authenticate` header, a 2xx token response that
 * carries an error, or the `error` of an authorization response.
 */
import { OAuthError, type OAuthErrorOptions } from '../errors.js';

// RFC 6749 Appendix A.7, A.8 (§4.1.2.1, §5.2; RFC 6750 §3 the same): error and error_description are
// 1*NQSCHAR = %x20-21 / %x23-5B / %x5D-7E. Nothing else reaches a code, a message or a log line.
const NQSCHAR = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
// RFC 6749 Appendix A.9: error_uri is a URI-reference, in %x21 / %x23-5B / %x5D-7E.
const URI_CHARS = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The error fields as the server sent them: anything, unchecked. */
export interface ServerErrorFields {
  error: unknown;
  error_description?: unknown;
  error_uri?: unknown;
}

/** What the response around the error adds: status, headers, and the raw input as `cause`. */
export type ServerErrorContext = Pick<OAuthErrorOptions, 'status' | 'wwwAuthenticate' | 'retryAfterMs' | 'retryable' | 'cause'>;

/** Whether `value` is an error code RFC 6749 allows (1*NQSCHAR). */
function isServerErrorCode(value: unknown): value is string {
  return typeof value === 'string' && NQSCHAR.test(value);
}

/**
 * The `OAuthError` for a server's error. A code outside RFC 6749's charset is
 * not believed: the error is `invalid_response`, the raw value only in
 * `context.cause` (never in the code, description or message, which end up in
 * logs and UIs). A description or URI outside its charset is dropped.
 */
export function serverError(fields: ServerErrorFields, context: ServerErrorContext = {}): OAuthError {
  const { error, error_description: description, error_uri: uri } = fields;
  if (!isServerErrorCode(error)) {
    return new OAuthError('invalid_response', {
      ...context,
      description: "the server's error code is not an RFC 6749 error code (1*NQSCHAR)",
      cause: context.cause ?? fields,
    });
  }
  return new OAuthError(error, {
    ...context,
    description: typeof description === 'string' && NQSCHAR.test(description) ? description : undefined,
    uri: typeof uri === 'string' && URI_CHARS.test(uri) ? uri : undefined,
  });
}
