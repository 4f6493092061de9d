/**
 * Signed authorization requests: JWT-Secured Authorization Request (JAR,
 * RFC 9101), signed with the key of the client's JWT authentication
 * (`client.privateKey`, else an HMAC of `client.clientSecret`). The machines
 * load this module (and with it `jose`) with a dynamic `import()` only when
 * a request is signed (`usesRequestObject` in `providerRules.ts`).
 */
import type { CryptoService, TimeSource } from '../services/types.js';
import { base64urlEncode } from './base64url.js';
import { clientAssertionAlgorithm } from './clientAssertion.js';
import { signWithClientKey } from './clientKeySigning.js';
import { clientAssertionAudience } from './clientAuth.js';
import { resolveEndpoint } from './endpoints.js';
import { configurationError } from './providerRules.js';
import type { ClientConfig, ProviderConfig } from './types.js';

/** How long a request object is valid, in seconds: the time to reach the authorization endpoint. */
export const REQUEST_OBJECT_LIFETIME_SECONDS = 300;

/** Parameters that stay in the query beside `request` (RFC 9101 §5; OIDC Core §6.1 wants `response_type` and `scope` there too). */
const QUERY_PARAMS = ['client_id', 'response_type', 'scope'] as const;

/**
 * Refuses, with `OAuthError('configuration_error')` and before anything is
 * sent, a request object the provider cannot take: it says it does not
 * support the `request` parameter, the client has no key to sign with, or
 * the algorithm is not in `requestObjectSigningAlgValuesSupported`.
 */
export function assertRequestObjectSupported(provider: ProviderConfig, client: ClientConfig): void {
  if (provider.requestParameterSupported === false) {
    throw configurationError(
      provider.requireSignedRequestObject === true
        ? 'the provider requires signed request objects but does not support the request parameter'
        : 'the provider does not support request objects (request_parameter_supported is false)',
    );
  }
  let alg: string;
  try {
    alg = clientAssertionAlgorithm(client);
  } catch (thrown) {
    throw configurationError('a signed request object needs client.privateKey or client.clientSecret to sign with', thrown);
  }
  const supported = provider.requestObjectSigningAlgValuesSupported;
  if (supported !== undefined && !supported.includes(alg)) {
    throw configurationError(`the provider does not accept request objects signed with ${alg} (it accepts ${supported.join(', ')})`);
  }
}

/**
 * Turns a built authorization URL into its signed form (RFC 9101 §4–5): every
 * parameter goes into a JWT (`typ: oauth-authz-req+jwt`) with `iss` the
 * client id, `aud` the issuer, `iat`/`nbf` now, `exp`
 * {@link REQUEST_OBJECT_LIFETIME_SECONDS} later and a single-use `jti`; the
 * URL keeps `client_id`, `response_type`, `scope` and the new `request`.
 */
export async function signAuthorizationRequest(
  context: { provider: ProviderConfig; client: ClientConfig; services: { crypto: CryptoService; clock: TimeSource } },
  authorizationUrl: string,
): Promise<string> {
  assertRequestObjectSupported(context.provider, context.client);
  const url = new URL(authorizationUrl);
  // RFC 6749 §3.1: the endpoint's own query stays in the URL; everything the request adds goes into the object.
  const own = new URL(resolveEndpoint(context.provider, 'authorization')).searchParams;
  const claims: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) if (own.get(name) !== value) claims[name] = value;
  const now = Math.floor(context.services.clock.now() / 1000);
  Object.assign(claims, {
    iss: context.client.clientId,
    aud: clientAssertionAudience(context.provider),
    iat: now,
    nbf: now,
    exp: now + REQUEST_OBJECT_LIFETIME_SECONDS,
    jti: base64urlEncode(context.services.crypto.randomBytes(32)),
  });
  const request = await signWithClientKey(context.client, claims, 'oauth-authz-req+jwt');
  const kept = QUERY_PARAMS.flatMap((name) => {
    const value = url.searchParams.get(name);
    return value === null ? [] : [[name, value] as const];
  });
  url.search = own.toString();
  for (const [name, value] of kept) url.searchParams.append(name, value);
  url.searchParams.append('request', request);
  return url.href;
}
