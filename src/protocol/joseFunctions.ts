/**
 * The `jose` functions the library uses, in one module that is only ever
 * imported dynamically (`loadJose` in `jose.ts`): a bundler tree-shakes
 * `jose` down to these and, when it splits code, puts them in a chunk an
 * application loads the first time it verifies or signs a JWT.
 */
export { compactVerify, createLocalJWKSet, importJWK, SignJWT } from 'jose';
export type { JSONWebKeySet, JWK } from 'jose';
