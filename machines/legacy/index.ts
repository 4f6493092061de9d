/**
 * `oauth-machines/legacy`: the password and implicit grants.
 *
 * OAuth 2.1 removed both (draft-ietf-oauth-v2-1 §10; RFC 9700 §2.4 says the
 * password grant MUST NOT be used, §2.1.2 that the implicit grant SHOULD
 * NOT). They are here, off the main entry, for providers that still need
 * them (SkyMavis SSO lists both); new code should use the authorization code
 * grant with PKCE, or the device grant.
 */
export { passwordMachine, type PasswordInput } from './password.js';
export { implicitMachine, judgeImplicitCallback, type ImplicitVerdict } from './implicit.js';
