/**
 * The data the protocol functions take and give: providers, clients, tokens.
 * Plain data except the few provider hooks, which are small pure functions.
 */
import type { EndpointName } from './endpoints.js';

export type GrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:device_code'
  | 'password'
  | 'implicit';

/** RFC 6749 §2.3, OpenID Connect Core §9, RFC 7523 §2.2 (`private_key_jwt`, `client_secret_jwt`). */
export type ClientAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt' | 'client_secret_jwt';

/**
 * A WebCrypto key as the library reads it: the browser's and Node's `CryptoKey` both fit, and
 * the library's types need no `dom` lib.
 */
export interface WebCryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/**
 * A JWK (RFC 7517 §4); as a private key, with its private member `d`. The members the library
 * reads; the others (`n`, `e`, `x`, `y`…) go to WebCrypto as they are. A `JsonWebKey` fits.
 */
export interface Jwk {
  kty?: string;
  d?: string;
  kid?: string;
  alg?: string;
  crv?: string;
}

/** A private signing key: a WebCrypto `CryptoKey` (best non-extractable) or a private JWK (RFC 7517, with `d`). */
export type PrivateKey = WebCryptoKey | Jwk;

export type PkceMethod = 'S256' | 'plain';

/**
 * The tokens of a session. `expiresAt` is absolute (epoch ms), computed from
 * `expires_in` and the clock service when the response arrived; absent means
 * the lifetime is unknown (no `expires_in`, `null`, or one below
 * `MIN_EXPIRES_IN_SECONDS`) and the token is used until the server refuses it.
 */
export type { TokenSet } from '../session/tokenSet.js';

/**
 * A provider's quirks, as data plus small pure functions (never
 * branches inside the machines).
 */
export interface ProviderQuirks {
  /** How token-endpoint requests are encoded. Default `form` (RFC 6749 §4.1.3); a JSON token endpoint server takes `json`. */
  tokenRequestEncoding?: 'form' | 'json';
  /** The PKCE method's name on the wire, when the provider does not use RFC 7636's (e.g. `{ S256: 'SHA-256' }`). */
  pkceMethodNames?: Partial<Record<PkceMethod, string>>;
  /**
   * Maps a non-standard token response body into RFC 6749 §5.1 fields before
   * validation (Poe: `api_key` / `api_key_expires_in`, `null` = never expires).
   * Must be pure; whatever it returns is validated like a standard body.
   */
  mapTokenResponse?: (body: Record<string, unknown>) => Record<string, unknown>;
  /**
   * A User-Agent format the provider requires, as a regular expression source
   * (Path of Exile: `^OAuth [^/\\s]+/\\S+ \\(contact: [^)]+\\)`). Where the runtime can set the
   * header (servers, Node, Deno, Bun, Workers), a request without a matching `client.userAgent`
   * fails with `OAuthError('configuration_error')` before anything is sent. In a browser the rule is
   * skipped and no `User-Agent` is set: the browser sends its own, whatever the page asks.
   */
  userAgentPattern?: string;
  /**
   * The client authentication methods the provider accepts (Path of Exile: only
   * `client_secret_post`). A client that does, or may, use another one fails
   * with `OAuthError('configuration_error')` before anything is sent. A public client (no secret)
   * is exempt: it does not authenticate (RFC 6749 §2.1) and sends `client_id` only.
   */
  clientAuthMethods?: ClientAuthMethod[];
  /**
   * Scopes that only some grants may request, as patterns with a trailing `*`
   * (Path of Exile: `{ 'service:*': ['client_credentials'] }`). A request for such a
   * scope through another grant fails with `OAuthError('configuration_error')` before anything is sent.
   */
  scopeGrants?: Record<string, GrantType[]>;
  /** Whether the provider requires PKCE even for confidential clients (Path of Exile, Poe). Informational; whether PKCE is sent is `pkce`'s. */
  pkceRequired?: boolean;
  /**
   * What the provider does with PKCE (RFC 7636). `'required'` and `'optional'` (the default is to
   * send it either way): the library always sends it. `'unsupported'`, an explicit opt-out for an
   * OAuth 2.0 server that refuses or mishandles `code_challenge`: no challenge is sent and no
   * verifier kept (the sentinel `nopkce`), so the code is bound to nothing but the client (see
   * docs/security.md). Never the default.
   */
  pkce?: 'required' | 'optional' | 'unsupported';
  /**
   * How the S256 challenge's digest is encoded. Default `'base64url'` (RFC 7636 §4.2, unpadded);
   * `'base64'` is padded standard base64 (`btoa(sha256(verifier))`), for a server that compares
   * against that.
   */
  pkceChallengeEncoding?: 'base64url' | 'base64';
  /**
   * The provider grants no scope outside `scopesSupported` (Poe: `apikey:create` only): any other
   * fails with `OAuthError('configuration_error')` before any navigation or request. Off by default,
   * since RFC 8414 §2 lets a server list only some of its scopes.
   */
  onlyListedScopes?: boolean;
  /**
   * Maps an error answer that has no RFC 6749 §5.2 body (an empty 400, a bare 401) to the error it
   * stands for, or `undefined` to apply the library's rule (see `docs/providers.md`, "Answers
   * without an error body"). Must be pure. `endpoint` is where the request went; `clientAuthenticated`
   * whether the client sent credentials with it.
   */
  mapErrorResponse?: (answer: ErrorAnswer) => { error: string; error_description?: string } | undefined;
  /**
   * Parameters added to every authorization request (Google: `access_type=offline`
   * and `prompt=consent` for a refresh token; Auth0: `audience`). A call's own
   * extra parameters take precedence over these; a name the library sets itself
   * (`state`, `scope`, `code_challenge`…) is refused with a `TypeError`.
   */
  authorizationParams?: Record<string, string>;
  /**
   * Parameters added to every token-endpoint request (Auth0: `audience`). A name
   * the library sets itself (`grant_type`, `client_id`, `scope`, `code`…) is
   * refused with a `TypeError`.
   */
  tokenParams?: Record<string, string>;
  /**
   * The separator of the `scope` parameter in requests the library builds.
   * Default `' '` (RFC 6749 §3.3); Slack takes `','`, and then a scope that
   * itself contains a comma is refused.
   */
  scopeDelimiter?: ' ' | ',';
  /**
   * The issuer an ID token must name, from the configured (or discovered)
   * `issuer` and the token's claims, for a provider whose ID tokens name
   * another issuer than its own: Microsoft Entra ID's `common` authority has
   * the template `…/{tenantid}/v2.0` and each ID token its user's tenant
   * (`tid`). Must be pure; throwing refuses the ID token (`invalid_id_token`).
   */
  idTokenIssuer?: (issuer: string, claims: Record<string, unknown>) => string;
  /**
   * Whether a discovery document naming `documentIssuer` is the one asked for
   * at `requested`, when they differ (RFC 8414 §3.3 wants them equal; Entra's
   * `common` document names the `{tenantid}` template). The document's issuer
   * is then the provider's.
   */
  acceptsDiscoveredIssuer?: (documentIssuer: string, requested: string) => boolean;
  /**
   * Read a token response sent as `application/x-www-form-urlencoded` (GitHub
   * answers so when a request lacks `Accept: application/json`, which the
   * library always sends), or labelled JSON but form-encoded, as if it were
   * the same fields in JSON.
   */
  formEncodedTokenResponses?: boolean;
  /**
   * Fields of the token response that a server keeps to itself: the
   * code-exchange handler never hands them to the browser (Slack's
   * `incoming_webhook`, whose `url` posts to a channel). The TokenSet's `raw`
   * keeps them, and the inspector redacts their strings like every token's.
   */
  serverOnlyFields?: string[];
}

/** An error answer as `ProviderQuirks.mapErrorResponse` sees it. */
export interface ErrorAnswer {
  endpoint: EndpointName | (string & {});
  status: number;
  /** The media type, without parameters, lower-cased; `undefined` without a `Content-Type`. */
  contentType: string | undefined;
  /** The body as text (empty for none). */
  body: string;
  clientAuthenticated: boolean;
}


/**
 * Where a provider's endpoints are and what it supports: filled by discovery,
 * written by hand, or taken from a profile in `oauth-machines/providers`.
 */
export interface ProviderConfig {
  /**
   * The issuer identifier (RFC 8414 §2); checked against `iss` in callbacks
   * (RFC 9207) and in ID tokens; a template such as Microsoft Entra ID's
   * `…/{tenantid}/v2.0` with `quirks.idTokenIssuer`.
   */
  issuer?: string;
  /** Base URL that relative endpoints are resolved against (SkyMavis SSO: `server` + `/oauth2/token`). */
  baseUrl?: string;
  authorizationEndpoint?: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  introspectionEndpoint?: string;
  userinfoEndpoint?: string;
  /** A non-standard `GET` endpoint describing the bearer token (e.g. `/v1/oauth/token/info`). */
  tokenInfoEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  endSessionEndpoint?: string;
  /** RFC 9126 §5: where authorization requests are pushed before the user is sent with a `request_uri`. */
  pushedAuthorizationRequestEndpoint?: string;
  /**
   * RFC 9126 §5: the server accepts authorization requests only through its pushed authorization
   * request endpoint, so every login pushes its request, whatever `options.pushedAuthorizationRequests` says.
   */
  requirePushedAuthorizationRequests?: boolean;
  /**
   * RFC 9449 §5.1: the JWS algorithms the server accepts in DPoP proofs. A DPoP-bound session signs with
   * one of them (ES256 when listed), and refuses a configured algorithm outside them (`configuration_error`).
   */
  dpopSigningAlgValuesSupported?: string[];
  /** RFC 9207: the server sends `iss` in authorization responses, so a callback without it is rejected. */
  authorizationResponseIssParameterSupported?: boolean;
  codeChallengeMethodsSupported?: string[];
  tokenEndpointAuthMethodsSupported?: string[];
  grantTypesSupported?: string[];
  scopesSupported?: string[];
  /**
   * The provider's JWK Set (OIDC Discovery §3 `jwks_uri`). When known, every ID token's signature is
   * verified against it (`verifyIdTokenSignature`); without it the token endpoint's TLS stands in for
   * the signature (OIDC Core §3.1.3.7 item 6).
   */
  jwksUri?: string;
  /** OIDC Discovery §3: the algorithms the provider signs ID tokens with; others are refused. */
  idTokenSigningAlgValuesSupported?: string[];
  /**
   * RFC 8414 §2: the algorithms the token endpoint accepts JWT client assertions signed with
   * (`private_key_jwt`, `client_secret_jwt`); an assertion signed otherwise is a `configuration_error`
   * before anything is sent.
   */
  tokenEndpointAuthSigningAlgValuesSupported?: string[];
  /** OIDC Discovery §3 `request_parameter_supported`: `false` refuses request objects (`configuration_error`). */
  requestParameterSupported?: boolean;
  /** RFC 9101 §10.5 `require_signed_request_object`: every authorization request is sent as a signed request object. */
  requireSignedRequestObject?: boolean;
  /** `request_object_signing_alg_values_supported`: a request object signed otherwise is a `configuration_error` before anything is sent. */
  requestObjectSigningAlgValuesSupported?: string[];
  /** Allow `http:` endpoints that are not loopback. Off by default (RFC 9700 §2.6: TLS everywhere). */
  allowInsecureRequests?: boolean;
  quirks?: ProviderQuirks;
}

/** What the application registered with the provider. */
export interface ClientConfig {
  clientId: string;
  /** Confidential clients only; never in a browser entry. */
  clientSecret?: string;
  /**
   * Default: `client_secret_basic` with a secret (or the first secret method the provider accepts), `none`
   * without. `private_key_jwt` signs a single-use assertion with `privateKey`, `client_secret_jwt`
   * with an HMAC keyed by `clientSecret` (RFC 7523 §2.2).
   */
  authMethod?: ClientAuthMethod;
  /** `private_key_jwt`'s signing key (RFC 7523): a `CryptoKey` (best non-extractable) or a private JWK. */
  privateKey?: PrivateKey;
  /** The `kid` of `privateKey`, named in each assertion's header; default the JWK's own `kid`. */
  keyId?: string;
  /**
   * The JWS algorithm assertions are signed with; default the JWK's `alg`, else what the key is
   * (RSA → `RS256`, RSA-PSS → `PS256`, P-256 → `ES256`, Ed25519 → `EdDSA`), `HS256` for `client_secret_jwt`.
   */
  signingAlg?: string;
  /**
   * Send every authorization request as a signed request object (JAR, RFC 9101), signed like
   * the client's assertions (`privateKey`, else an HMAC of `clientSecret`). On whenever the provider
   * requires it (`requireSignedRequestObject`).
   */
  requestObject?: boolean;
  /** Sent exactly as registered (RFC 9700 §4.1.3). */
  redirectUri?: string;
  scopes?: string[];
  /** PKCE method; `plain` only by explicit opt-in (RFC 9700 §2.1.1). Default `S256`. */
  pkceMethod?: PkceMethod;
  /** Sent as the `User-Agent` header of every request to the provider (servers; browsers do not let it be set). */
  userAgent?: string;
  /**
   * The algorithm the client registered for its ID tokens (OIDC Registration
   * `id_token_signed_response_alg`): a token signed otherwise is refused, and a provider whose
   * `idTokenSigningAlgValuesSupported` does not list it is a `configuration_error` before anything is sent.
   */
  idTokenSigningAlg?: string;
}

/** A fully built HTTP request: the URL and a `RequestInit` with string headers and body. */
export interface HttpRequest {
  url: string;
  init: {
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body?: string;
    /**
     * Never follow: a redirected POST repeats its body at the new location
     * (RFC 9110 §15.4.8), credentials, code and verifier included, and the
     * answer would come from a server the provider config never named.
     */
    redirect: 'manual';
  };
  /**
   * A JWT client assertion (RFC 7523) still to be signed into the body, for the audience named:
   * `signClientAssertion` adds it (the operations do, before every send); `sendRequest` refuses a
   * request that still has this field.
   */
  clientAssertion?: { audience: string };
}
