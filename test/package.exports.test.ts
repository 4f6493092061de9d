/**
 * The published shape: every entry of package.json "exports" resolves from
 * the built dist/ (npm test builds first) and offers its documented API; the
 * curated entries offer nothing more. (That no browser-facing entry reaches a
 * Node built-in is checked by the browser bundle tests.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
};

/** Imports by a computed specifier: the type check runs before dist/ is built, so it must not resolve these. */
const load = (specifier: string): Promise<Record<string, unknown>> => import(specifier) as Promise<Record<string, unknown>>;

/** Each entry's documented runtime API (types are checked by the type check, not here). */
const EXPECTED: Record<string, string[]> = {
  'oauth-machines': [
    'authorizationCodeMachine',
    'clientCredentialsMachine',
    'deviceCodeMachine',
    'persistSnapshot',
    'restoreActor',
    'createOAuthClient',
    'selectUser',
    'OAuthError',
    'isOAuthError',
    'defaultServices',
    'fetchWithTimeout',
    'webCrypto',
    'memoryStorage',
    'memoryDpopKeyStore',
    'indexedDbDpopKeyStore',
    'dpop',
    'DPOP_ALGORITHMS',
    'webStorage',
    'webLocks',
    'systemClock',
    'manualClock',
    'xstateClock',
    'discover',
  ],
  'oauth-machines/protocol': [
    'OAuthError',
    'isOAuthError',
    'isRetryable',
    'base64urlDecode',
    'base64urlEncode',
    'createNonce',
    'createState',
    'randomToken',
    'createCodeChallenge',
    'createCodeVerifier',
    'createPkce',
    'nopkce',
    'pkceMethodWireName',
    'runtimeSetsUserAgent',
    'usesRequestObject',
    'resolveEndpoint',
    'authorizationRequestParams',
    'buildAuthorizationUrl',
    'buildPushedAuthorizationUrl',
    'buildEndSessionUrl',
    'checkCallback',
    'parseCallback',
    'applyClientAuth',
    'basicCredentials',
    'resolveClientAuthMethod',
    'clientAssertionAudience',
    'CLIENT_ASSERTION_TYPE',
    'createClientAssertion',
    'signClientAssertion',
    'signAuthorizationRequest',
    'DEVICE_CODE_GRANT_TYPE',
    'tokenRequest',
    'MIN_EXPIRES_IN_SECONDS',
    'parseTokenResponseBody',
    'readTokenResponse',
    'readErrorResponse',
    'readJsonBody',
    'parseWwwAuthenticate',
    'parseRetryAfter',
    'discover',
    'deviceAuthorizationRequest',
    'readDeviceAuthorizationResponse',
    'pushedAuthorizationRequest',
    'pushesAuthorizationRequests',
    'readPushedAuthorizationResponse',
    'readRevocationResponse',
    'DPOP_ALGORITHMS',
    'checkDpopTokenType',
    'chooseDpopAlgorithm',
    'createDpopProof',
    'createDpopSession',
    'dpop',
    'dpopKeyThumbprint',
    'dpopNonceOf',
    'dpopTargetUri',
    'generateDpopKey',
    'publicJwk',
    'revocationRequest',
    'introspectionRequest',
    'readIntrospectionResponse',
    'readUserinfoResponse',
    'userinfoRequest',
    'readTokenInfoResponse',
    'tokenInfoRequest',
    'checkIdTokenClaims',
    'decodeJwtPayload',
    'allowedIdTokenAlgorithms',
    'verifyIdTokenSignature',
    'fetchJwks',
    'exchangeAuthorizationCode',
    'fetchTokenInfo',
    'fetchUserinfo',
    'introspectToken',
    'pollDeviceToken',
    'pushAuthorizationRequest',
    'refreshTokens',
    'requestClientCredentials',
    'requestDeviceAuthorization',
    'requestPasswordToken',
    'revokeToken',
  ],
  'oauth-machines/browser': ['createBrowserAuth', 'selectUser', 'selectAuthStatus', 'OAuthError', 'isOAuthError'],
  'oauth-machines/react': ['AuthProvider', 'isAuthorizationCallback', 'useAuth', 'useAccessToken', 'useAuthSelector', 'RequireAuth', 'withAuthenticationRequired', 'selectAccessToken', 'selectAuthError', 'selectAuthStatus'],
  'oauth-machines/server': ['createClientCredentialsCache', 'createCodeExchangeHandler', 'nodeServices'],
  'oauth-machines/redis': ['redisStorage'],
  'oauth-machines/testing': ['createTestAuthorizationServer'],
  'oauth-machines/inspect': [
    'createFlowRecorder',
    'toMermaid',
    'createRedactor',
    'redact',
    'redactString',
    'createInspectorSanitizers',
    'inspectorSanitizers',
    'redactedInspect',
  ],
  'oauth-machines/providers': [
    'pathOfExile',
    'poe',
    'skyMavis',
    'jsonTokenEndpoint',
    'generic',
    'github',
    'google',
    'entraId',
    'auth0',
    'keycloak',
    'okta',
    'discord',
    'slack',
    'spotify',
  ],
  'oauth-machines/legacy': ['passwordMachine', 'implicitMachine'],
};

/** The entries whose runtime names are curated: exactly the list above, nothing more. */
const EXACT = ['oauth-machines', 'oauth-machines/protocol', 'oauth-machines/inspect'];

describe('package exports', () => {
  it('lists exactly the documented entries', () => {
    const entries = Object.keys(pkg.exports).filter((key) => key !== './package.json');
    expect(entries.map((key) => (key === '.' ? 'oauth-machines' : `oauth-machines/${key.slice(2)}`)).sort()).toEqual(
      Object.keys(EXPECTED).sort(),
    );
  });

  it.each(Object.entries(EXPECTED))('%s resolves from dist/ and offers its API', async (specifier, names) => {
    const module = await load(specifier);
    for (const name of names) expect(module[name], `${specifier} exports ${name}`).toBeDefined();
  });

  it('gives each subpath the same types under TypeScript\'s node10 resolution (typesVersions)', () => {
    const fromExports = Object.fromEntries(
      Object.entries(pkg.exports)
        .filter(([key, target]) => key !== '.' && typeof target === 'object' && target !== null && 'types' in target)
        .map(([key, target]) => [key.slice(2), [(target as { types: string }).types]]),
    );
    expect(pkg.typesVersions?.['*']).toEqual(fromExports);
  });

  it.each(EXACT)('%s offers exactly its documented runtime names', async (specifier) => {
    const module = await load(specifier);
    expect(Object.keys(module).sort()).toEqual([...(EXPECTED[specifier] ?? [])].sort());
  });

  it('keeps the legacy grants and the protocol functions off the main entry', async () => {
    const main = await load('oauth-machines');
    expect(main.passwordMachine).toBeUndefined();
    expect(main.implicitMachine).toBeUndefined();
    expect(main.buildAuthorizationUrl).toBeUndefined();
    expect(main.readTokenResponse).toBeUndefined();
  });

  it('shares one OAuthError class between the entries that offer it', async () => {
    const [main, protocol, browser] = await Promise.all([
      load('oauth-machines'),
      load('oauth-machines/protocol'),
      load('oauth-machines/browser'),
    ]);
    expect(protocol.OAuthError).toBe(main.OAuthError);
    expect(browser.OAuthError).toBe(main.OAuthError);
  });
});
