/**
 * Authorization server metadata: RFC 8414 and OpenID Connect Discovery 1.0.
 */
import * as v from 'valibot';
import type { FetchLike, TimeSource } from '../services/types.js';
import { isSecureUrl } from './endpoints.js';
import { OAuthError } from '../errors.js';
import { readErrorResponse, readJsonBody } from './errorResponse.js';
import { sendRequest } from './providerRequest.js';
import type { ProviderConfig } from './types.js';

/** Which well-known document to read; `auto` tries RFC 8414 first, then OpenID on a 404 or a network failure. */
export type DiscoveryKind = 'auto' | 'oauth' | 'openid';

export interface DiscoveryOptions {
  kind?: DiscoveryKind;
  signal?: AbortSignal;
  /** Allow an `http:` issuer that is not loopback, and carry the permission into the returned config. */
  allowInsecureRequests?: boolean;
  /** Accept a document naming another issuer than `issuer` (`ProviderQuirks.acceptsDiscoveredIssuer`); its issuer is returned. */
  acceptIssuer?: (documentIssuer: string, requested: string) => boolean;
}

// RFC 6749 §3.1 / §3.2: an endpoint URI is absolute and has no fragment.
const Url = v.pipe(
  v.string(),
  v.check((value) => URL.canParse(value) && new URL(value).hash === '' && !value.includes('#'), 'not an absolute URL without a fragment'),
);
const Strings = v.array(v.string());

// RFC 8414 §2 / OIDC Discovery §3; only the fields the library uses are checked, the rest is ignored.
const MetadataSchema = v.looseObject({
  issuer: v.string(),
  authorization_endpoint: v.exactOptional(Url),
  token_endpoint: Url,
  revocation_endpoint: v.exactOptional(Url),
  introspection_endpoint: v.exactOptional(Url),
  userinfo_endpoint: v.exactOptional(Url),
  device_authorization_endpoint: v.exactOptional(Url),
  end_session_endpoint: v.exactOptional(Url),
  pushed_authorization_request_endpoint: v.exactOptional(Url),
  require_pushed_authorization_requests: v.exactOptional(v.boolean()),
  dpop_signing_alg_values_supported: v.exactOptional(Strings),
  authorization_response_iss_parameter_supported: v.exactOptional(v.boolean()),
  code_challenge_methods_supported: v.exactOptional(Strings),
  token_endpoint_auth_methods_supported: v.exactOptional(Strings),
  grant_types_supported: v.exactOptional(Strings),
  scopes_supported: v.exactOptional(Strings),
  jwks_uri: v.exactOptional(Url),
  id_token_signing_alg_values_supported: v.exactOptional(Strings),
  token_endpoint_auth_signing_alg_values_supported: v.exactOptional(Strings),
  request_parameter_supported: v.exactOptional(v.boolean()),
  require_signed_request_object: v.exactOptional(v.boolean()),
  request_object_signing_alg_values_supported: v.exactOptional(Strings),
});

/** RFC 8414 §2: an issuer is an absolute `https:` URL (`http:` on loopback or by opt-in) without query or fragment; else a `TypeError`. */
export function checkIssuer(issuer: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`issuer must be an absolute URL: ${issuer}`);
  }
  // RFC 8414 §2: an https URL with no query or fragment.
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw new TypeError(`issuer must not have a query or fragment: ${issuer}`);
  }
  if (!isSecureUrl(url, allowInsecure)) throw new TypeError(`issuer must be an https URL (http only on loopback or with allowInsecureRequests): ${issuer}`);
  return url;
}

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
export function oauthMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/** OIDC Discovery §4.1: the well-known segment is appended to the issuer. */
export function openidMetadataUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

function fetchMetadata(fetch: FetchLike, url: string, signal: AbortSignal | undefined): Promise<Response> {
  // A redirected metadata document would name endpoints the issuer never vouched for: not followed.
  return sendRequest(fetch, { url, init: { method: 'GET', headers: { Accept: 'application/json' }, redirect: 'manual' } }, signal);
}

/** `code_challenge_methods_supported` → `codeChallengeMethodsSupported`. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type MetadataField = keyof typeof MetadataSchema.entries;

/** The `ProviderConfig` name of a metadata field (typed: a schema field without a `ProviderConfig` counterpart does not compile). */
const camelCase = <F extends MetadataField>(field: F): CamelCase<F> =>
  field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()) as CamelCase<F>;

/** The checked fields of the metadata under their `ProviderConfig` names (the schema's entries are the one list of them). */
function toProviderConfig(metadata: v.InferOutput<typeof MetadataSchema>, allowInsecure: boolean): ProviderConfig {
  const config: { [K in keyof ProviderConfig]?: unknown } = {};
  for (const field of Object.keys(MetadataSchema.entries) as MetadataField[]) {
    const value = metadata[field];
    if (value !== undefined) config[camelCase(field)] = value;
  }
  if (allowInsecure) config.allowInsecureRequests = true;
  return config as ProviderConfig;
}

/**
 * Reads the issuer's metadata into a `ProviderConfig`. `kind: 'auto'`
 * (default) reads RFC 8414's document and falls back to OpenID's on a 404 or
 * a network failure (a browser's view of a 404 without CORS headers). The
 * document's `issuer` must equal `issuer` exactly (RFC 8414 §3.3, OIDC
 * Discovery §4.3), else `OAuthError('issuer_mismatch')`; a malformed or
 * non-JSON document is `invalid_response`; a redirect is not followed but
 * refused as `unexpected_redirect`; an endpoint that is not `https:` (`http:`
 * only on loopback or with `allowInsecureRequests`) is `insecure_endpoint`; a failed fetch is `network_error`,
 * `timeout` or `aborted`. An error status is the server's `OAuthError`, its
 * `Retry-After` measured against `services.clock` (default the system clock).
 */
export async function discover(
  issuer: string,
  services: { fetch: FetchLike; clock?: TimeSource },
  options: DiscoveryOptions = {},
): Promise<ProviderConfig> {
  const kind = options.kind ?? 'auto';
  if (kind !== 'auto' && kind !== 'oauth' && kind !== 'openid') throw new TypeError(`unknown discovery kind: ${String(kind)}`);
  const allowInsecure = options.allowInsecureRequests === true;
  checkIssuer(issuer, allowInsecure);

  let response: Response;
  if (kind === 'auto') {
    // RFC 8414 §3 first. A server without that document answers 404 — but a
    // browser sees a 404 without CORS headers (oidc-provider's, for one) as a
    // network failure, so either falls back to the OpenID document.
    const oauth = await fetchMetadata(services.fetch, oauthMetadataUrl(issuer), options.signal).catch(
      (error: unknown) => {
        if (error instanceof OAuthError && error.code === 'network_error') return undefined;
        throw error;
      },
    );
    if (oauth === undefined || oauth.status === 404) {
      await oauth?.body?.cancel().catch(() => undefined);
      response = await fetchMetadata(services.fetch, openidMetadataUrl(issuer), options.signal);
    } else {
      response = oauth;
    }
  } else {
    response = await fetchMetadata(
      services.fetch,
      kind === 'openid' ? openidMetadataUrl(issuer) : oauthMetadataUrl(issuer),
      options.signal,
    );
  }
  if (!response.ok) throw await readErrorResponse(response, services.clock);
  const body = await readJsonBody(response);
  const result = v.safeParse(MetadataSchema, body);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join('.') ?? 'document';
    throw new OAuthError('invalid_response', {
      description: `the metadata document has an invalid ${where}: ${issue.message}`,
      status: response.status,
      cause: body,
    });
  }
  if (result.output.issuer !== issuer && options.acceptIssuer?.(result.output.issuer, issuer) !== true) {
    throw new OAuthError('issuer_mismatch', {
      description: `the metadata is for issuer ${result.output.issuer}, not ${issuer}`,
      retryable: false,
      cause: body,
    });
  }
  // The library will send credentials to these: the same TLS rule as for a configured endpoint, checked
  // now as the server's fault rather than as a TypeError at the first request.
  for (const field of Object.keys(MetadataSchema.entries) as MetadataField[]) {
    const value = result.output[field];
    // Every `…_endpoint` field of the schema and `jwks_uri`: the URLs the library sends requests (or the user) to.
    if ((field.endsWith('_endpoint') || field === 'jwks_uri') && typeof value === 'string' && !isSecureUrl(new URL(value), allowInsecure)) {
      throw new OAuthError('insecure_endpoint', {
        description: `the metadata's ${field} is not an https URL (http only on loopback or with allowInsecureRequests)`,
        status: response.status,
        retryable: false,
        cause: body,
      });
    }
  }
  return toProviderConfig(result.output, allowInsecure);
}
