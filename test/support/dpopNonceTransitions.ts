/**
 * The transitions a DPoP-bound session takes when a server asks for its
 * nonce (RFC 9449 §8): the same code, or the same renewal, sent once more.
 * Left out of the path replays of test/machines.paths.test.ts, whose test
 * server does not do DPoP, and taken in test/machines.dpop.test.ts, which
 * checks that it takes every one of them.
 */
export const RENEWAL_NONCE_TRANSITION =
  'requesting --xstate.error.actor.renewTokens [the renewal may be sent again with the DPoP nonce]--> requesting';
export const CLIENT_CREDENTIALS_NONCE_TRANSITION =
  'exchanging --xstate.error.actor.requestTokens [the request may be sent again with the DPoP nonce]--> exchanging';
export const EXCHANGE_NONCE_TRANSITION =
  'sending --xstate.error.actor.exchangeCode [the code may be sent again with the DPoP nonce]--> sending';
