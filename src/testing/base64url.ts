/**
 * base64url without padding (RFC 4648 §5), written for the test server alone
 * so that it never shares an encoder with the client it checks.
 */

export function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function textToBase64url(text: string): string {
  return toBase64url(new TextEncoder().encode(text));
}

/** Random opaque value: `bytes` random bytes, base64url, with a readable prefix. */
export function randomValue(prefix: string, bytes = 24): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return `${prefix}${toBase64url(buffer)}`;
}
