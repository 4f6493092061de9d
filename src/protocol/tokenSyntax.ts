/**
 * The characters each token of a token response may hold: what the library
 * stores, and later puts in a header, must be something a header can carry.
 */

/**
 * An access token: 1*( %x21-7E ). RFC 6750 §2.1 sends it in the
 * `Authorization` header (as a b64token; real providers issue wider
 * alphabets), RFC 6749 Appendix A.12 allows VSCHAR; a space, a control
 * character or a non-ASCII one cannot be carried in a header value
 * unambiguously, so it is refused, not sent.
 */
export const ACCESS_TOKEN = /^[\x21-\x7E]+$/;

/** A token type: an RFC 9110 §5.6.2 token, since it names the `Authorization` scheme (RFC 6749 §7.1). */
export const TOKEN_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A refresh token: 1*VSCHAR (%x20-7E), RFC 6749 Appendix A.17. */
export const REFRESH_TOKEN = /^[\x20-\x7E]+$/;

/**
 * An ID token: the characters of the JWS compact serialization (RFC 7515
 * §7.1), base64url and the dots between its parts. Its structure is the ID
 * token check's business (`decodeJwtPayload`).
 */
export const JWS_COMPACT = /^[A-Za-z0-9_.-]+$/;

/** Whether `value` can be sent as a bearer access token (see {@link ACCESS_TOKEN}). */
export function isAccessTokenSyntax(value: string): boolean {
  return ACCESS_TOKEN.test(value);
}
