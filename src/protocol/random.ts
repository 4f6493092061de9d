import type { CryptoService } from '../services/types.js';
import { base64urlEncode } from './base64url.js';

/** 128 bits: the least entropy RFC 6749 §10.10 and RFC 9700 §2.1 accept for `state` and `nonce`. */
const MIN_BYTES = 16;

/** Random bytes from `crypto`, checked: a crypto service that returns fewer bytes would silently weaken every token. */
export function randomBytesChecked(crypto: CryptoService, count: number): Uint8Array {
  const bytes = crypto.randomBytes(count);
  // Checked by tag, not instanceof: a Uint8Array from another realm (an iframe, a VM context) is fine.
  const isBytes = Object.prototype.toString.call(bytes) === '[object Uint8Array]';
  if (!isBytes || bytes.length !== count) {
    throw new TypeError(`crypto.randomBytes(${count}) returned ${isBytes ? bytes.length : 'no'} bytes`);
  }
  return bytes;
}

/** A base64url token of `bytes` random bytes (at least 16, that is 128 bits). */
export function randomToken(crypto: CryptoService, bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_BYTES) {
    throw new TypeError(`randomToken: bytes must be an integer of at least ${MIN_BYTES}, got ${bytes}`);
  }
  return base64urlEncode(randomBytesChecked(crypto, bytes));
}

/** A fresh `state` for an authorization request (256 bits, base64url). */
export function createState(crypto: CryptoService): string {
  return randomToken(crypto, 32);
}

/** A fresh OpenID Connect `nonce` (256 bits, base64url). */
export function createNonce(crypto: CryptoService): string {
  return randomToken(crypto, 32);
}
