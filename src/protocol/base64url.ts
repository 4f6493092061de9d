/**
 * base64url without padding (RFC 4648 §5), as RFC 7636 §3 and RFC 7515 §2 use it.
 */

const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/** Encodes bytes as base64url without `=` padding. */
export function base64urlEncode(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so that large inputs do not overflow the argument list of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url text; throws `TypeError` on anything else. */
export function base64urlDecode(text: string): Uint8Array {
  if (!BASE64URL_TEXT.test(text) || text.length % 4 === 1) {
    throw new TypeError('base64urlDecode: not base64url text');
  }
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
