import { describe, expect, it } from 'vitest';
import { discover, oauthMetadataUrl, openidMetadataUrl } from '../src/protocol/discovery.js';
import { jsonResponse, recordingFetch } from './protocol.fixtures.js';

const ISSUER = 'https://as.example';

function metadata(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    ...extra,
  };
}

describe('well-known locations', () => {
  it('inserts the RFC 8414 segment before the issuer path (§3.1)', () => {
    expect(oauthMetadataUrl('https://as.example')).toBe('https://as.example/.well-known/oauth-authorization-server');
    expect(oauthMetadataUrl('https://as.example/')).toBe('https://as.example/.well-known/oauth-authorization-server');
    expect(oauthMetadataUrl('https://as.example/tenant/1')).toBe('https://as.example/.well-known/oauth-authorization-server/tenant/1');
  });

  it('appends the OpenID segment to the issuer', () => {
    expect(openidMetadataUrl('https://as.example')).toBe('https://as.example/.well-known/openid-configuration');
    expect(openidMetadataUrl('https://as.example/tenant/1/')).toBe('https://as.example/tenant/1/.well-known/openid-configuration');
  });
});

describe('discover', () => {
  it('reads RFC 8414 metadata into a ProviderConfig', async () => {
    const { fetch, requests } = recordingFetch(() =>
      jsonResponse(
        metadata(ISSUER, {
          revocation_endpoint: `${ISSUER}/revoke`,
          introspection_endpoint: `${ISSUER}/introspect`,
          device_authorization_endpoint: `${ISSUER}/device`,
          userinfo_endpoint: `${ISSUER}/me`,
          end_session_endpoint: `${ISSUER}/logout`,
          authorization_response_iss_parameter_supported: true,
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
          grant_types_supported: ['authorization_code'],
          scopes_supported: ['openid'],
          unrelated: { kept: false },
        }),
      ),
    );
    const provider = await discover(ISSUER, { fetch }, { kind: 'oauth' });
    expect(requests.map((r) => [r.method, r.url])).toEqual([['GET', 'https://as.example/.well-known/oauth-authorization-server']]);
    expect(provider).toEqual({
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      tokenEndpoint: `${ISSUER}/token`,
      revocationEndpoint: `${ISSUER}/revoke`,
      introspectionEndpoint: `${ISSUER}/introspect`,
      deviceAuthorizationEndpoint: `${ISSUER}/device`,
      userinfoEndpoint: `${ISSUER}/me`,
      endSessionEndpoint: `${ISSUER}/logout`,
      authorizationResponseIssParameterSupported: true,
      codeChallengeMethodsSupported: ['S256'],
      tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'none'],
      grantTypesSupported: ['authorization_code'],
      scopesSupported: ['openid'],
    });
  });

  it('reads OpenID metadata when asked', async () => {
    const { fetch, requests } = recordingFetch(() => jsonResponse(metadata(`${ISSUER}/t`)));
    await discover(`${ISSUER}/t`, { fetch }, { kind: 'openid' });
    expect(requests.map((r) => r.url)).toEqual(['https://as.example/t/.well-known/openid-configuration']);
  });

  it('falls back from RFC 8414 to OpenID on 404 with kind auto', async () => {
    const issuer = `${ISSUER}/tenant`;
    const { fetch, requests } = recordingFetch((request) =>
      request.url.includes('openid-configuration') ? jsonResponse(metadata(issuer)) : new Response('nope', { status: 404 }),
    );
    const provider = await discover(issuer, { fetch });
    expect(provider.tokenEndpoint).toBe(`${issuer}/token`);
    expect(requests.map((r) => r.url)).toEqual([
      'https://as.example/.well-known/oauth-authorization-server/tenant',
      'https://as.example/tenant/.well-known/openid-configuration',
    ]);
  });

  it('falls back to OpenID when the RFC 8414 request fails at the network level (a browser\'s view of a 404 without CORS)', async () => {
    const requests: string[] = [];
    const fetch = async (input: string | URL | Request): Promise<Response> => {
      const url = String(input instanceof Request ? input.url : input);
      requests.push(url);
      if (url.includes('oauth-authorization-server')) throw new TypeError('Failed to fetch');
      return jsonResponse(metadata(ISSUER));
    };
    const provider = await discover(ISSUER, { fetch });
    expect(provider.issuer).toBe(ISSUER);
    expect(requests).toEqual([
      'https://as.example/.well-known/oauth-authorization-server',
      'https://as.example/.well-known/openid-configuration',
    ]);
  });

  it('does not fall back on a network failure when the kind is oauth', async () => {
    let calls = 0;
    const fetch = async (): Promise<Response> => {
      calls += 1;
      throw new TypeError('Failed to fetch');
    };
    await expect(discover(ISSUER, { fetch }, { kind: 'oauth' })).rejects.toMatchObject({ code: 'network_error' });
    expect(calls).toBe(1);
  });

  it('does not fall back on errors other than 404', async () => {
    const { fetch, requests } = recordingFetch(() => new Response('down', { status: 503 }));
    await expect(discover(ISSUER, { fetch })).rejects.toMatchObject({ code: 'invalid_response', status: 503, retryable: true });
    expect(requests).toHaveLength(1);
  });

  it('rejects a document for another issuer (RFC 8414 §3.3)', async () => {
    for (const other of ['https://evil.example', `${ISSUER}/`, 'https://AS.example']) {
      const { fetch } = recordingFetch(() => jsonResponse(metadata(other)));
      await expect(discover(ISSUER, { fetch })).rejects.toMatchObject({ code: 'issuer_mismatch' });
    }
  });

  it('rejects non-JSON and malformed documents as invalid_response', async () => {
    const html = recordingFetch(() => new Response('<html>', { headers: { 'content-type': 'text/html' } }));
    await expect(discover(ISSUER, { fetch: html.fetch })).rejects.toMatchObject({ code: 'invalid_response' });
    const noToken = recordingFetch(() => jsonResponse({ issuer: ISSUER }));
    await expect(discover(ISSUER, { fetch: noToken.fetch })).rejects.toMatchObject({ code: 'invalid_response' });
    const badUrl = recordingFetch(() => jsonResponse(metadata(ISSUER, { token_endpoint: 'not a url' })));
    await expect(discover(ISSUER, { fetch: badUrl.fetch })).rejects.toMatchObject({ code: 'invalid_response' });
    const badType = recordingFetch(() => jsonResponse(metadata(ISSUER, { code_challenge_methods_supported: 'S256' })));
    await expect(discover(ISSUER, { fetch: badType.fetch })).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('maps a failed fetch to network_error and an abort to aborted', async () => {
    const failing = async (): Promise<Response> => {
      throw new TypeError('fetch failed');
    };
    await expect(discover(ISSUER, { fetch: failing })).rejects.toMatchObject({ code: 'network_error' });
    const controller = new AbortController();
    controller.abort();
    const honouring = async (_input: unknown, init?: RequestInit): Promise<Response> => {
      init?.signal?.throwIfAborted();
      return jsonResponse(metadata(ISSUER));
    };
    await expect(discover(ISSUER, { fetch: honouring }, { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('refuses an insecure or malformed issuer with a TypeError', async () => {
    const { fetch, requests } = recordingFetch(() => jsonResponse(metadata(ISSUER)));
    await expect(discover('http://as.example', { fetch })).rejects.toThrow(TypeError);
    await expect(discover('https://as.example?x=1', { fetch })).rejects.toThrow(TypeError);
    await expect(discover('https://as.example#f', { fetch })).rejects.toThrow(TypeError);
    await expect(discover('as.example', { fetch })).rejects.toThrow(TypeError);
    expect(requests).toHaveLength(0);
  });

  it('allows a loopback issuer, and an insecure one only when allowed', async () => {
    const loopback = 'http://127.0.0.1:4000';
    const local = recordingFetch(() => jsonResponse(metadata(loopback)));
    expect((await discover(loopback, { fetch: local.fetch })).issuer).toBe(loopback);
    const insecure = 'http://as.internal';
    const remote = recordingFetch(() => jsonResponse(metadata(insecure)));
    const provider = await discover(insecure, { fetch: remote.fetch }, { allowInsecureRequests: true });
    expect(provider.allowInsecureRequests).toBe(true);
  });
});

describe('discovered endpoints', () => {
  it.each([
    ['token_endpoint', 'javascript:alert(1)'],
    ['token_endpoint', 'http://as.example/token'],
    ['userinfo_endpoint', 'ftp://as.example/me'],
    ['device_authorization_endpoint', 'data:text/plain,x'],
  ])('refuses a %s of %j as insecure_endpoint, rather than a TypeError at the first request', async (field, value) => {
    const { fetch } = recordingFetch(() => jsonResponse(metadata(ISSUER, { [field]: value })));
    await expect(discover(ISSUER, { fetch }, { kind: 'oauth' })).rejects.toMatchObject({ code: 'insecure_endpoint', retryable: false });
  });

  it('takes plain-http endpoints when the caller allows insecure requests', async () => {
    const { fetch } = recordingFetch(() => jsonResponse(metadata('http://as.example')));
    const provider = await discover('http://as.example', { fetch }, { kind: 'oauth', allowInsecureRequests: true });
    expect(provider.tokenEndpoint).toBe('http://as.example/token');
  });
});
