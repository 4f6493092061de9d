import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/errors.js';
import {
  exchangeAuthorizationCode,
  fetchUserinfo,
  introspectToken,
  pollDeviceToken,
  refreshTokens,
  requestClientCredentials,
  requestDeviceAuthorization,
  requestPasswordToken,
  revokeToken,
  type OperationContext,
} from '../src/protocol/operations.js';
import type { ClientConfig, ProviderConfig } from '../src/protocol/types.js';
import { jsonResponse, NOW, recordingFetch, servicesWith, type RecordedRequest } from './protocol.fixtures.js';

const provider: ProviderConfig = {
  issuer: 'https://as.example',
  tokenEndpoint: 'https://as.example/token',
  revocationEndpoint: 'https://as.example/revoke',
  introspectionEndpoint: 'https://as.example/introspect',
  deviceAuthorizationEndpoint: 'https://as.example/device',
  userinfoEndpoint: 'https://as.example/userinfo',
  tokenInfoEndpoint: 'https://api.example/v1/oauth/token/info',
};
const client: ClientConfig = { clientId: 'app', clientSecret: 'secret', redirectUri: 'https://app.example/cb', scopes: ['read'] };
const verifier = 'v'.repeat(43);
const TOKENS = { access_token: 'at', token_type: 'Bearer', expires_in: 60, refresh_token: 'rt2' };

function context(respond: (request: RecordedRequest) => Response | Promise<Response>, extra: Partial<OperationContext> = {}) {
  const { fetch, requests } = recordingFetch(respond);
  return { ctx: { provider, client, services: servicesWith(fetch), ...extra }, requests };
}

const form = (request: RecordedRequest | undefined): Record<string, string> => Object.fromEntries(new URLSearchParams(request?.body));

describe('token operations', () => {
  it('exchangeAuthorizationCode posts the code and verifier and reads the tokens', async () => {
    const { ctx, requests } = context(() => jsonResponse(TOKENS));
    const tokens = await exchangeAuthorizationCode({ ...ctx, code: 'c1', codeVerifier: verifier });
    expect(tokens).toMatchObject({ accessToken: 'at', refreshToken: 'rt2', expiresAt: NOW + 60_000 });
    expect(requests[0]?.url).toBe('https://as.example/token');
    expect(form(requests[0])).toEqual({ grant_type: 'authorization_code', code: 'c1', code_verifier: verifier, redirect_uri: 'https://app.example/cb' });
    expect(requests[0]?.headers.get('authorization')).toMatch(/^Basic /);
  });

  it('refreshTokens keeps the old refresh token when the response has none (RFC 6749 §6)', async () => {
    const { ctx } = context(() => jsonResponse({ access_token: 'at3', token_type: 'Bearer' }));
    expect((await refreshTokens({ ...ctx, refreshToken: 'rt1' })).refreshToken).toBe('rt1');
  });

  it('refreshTokens takes a rotated refresh token', async () => {
    const { ctx, requests } = context(() => jsonResponse(TOKENS));
    expect((await refreshTokens({ ...ctx, refreshToken: 'rt1', scopes: ['read'] })).refreshToken).toBe('rt2');
    expect(form(requests[0])).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt1', scope: 'read' });
  });

  it('requestClientCredentials sends scopes and resource', async () => {
    const { ctx, requests } = context(() => jsonResponse(TOKENS));
    await requestClientCredentials({ ...ctx, scopes: ['a'], resource: 'https://api.example/' });
    expect(form(requests[0])).toEqual({ grant_type: 'client_credentials', scope: 'a', resource: 'https://api.example/' });
  });

  it('requestPasswordToken sends the resource owner credentials', async () => {
    const { ctx, requests } = context(() => jsonResponse(TOKENS));
    await requestPasswordToken({ ...ctx, username: 'u', password: 'p' });
    expect(form(requests[0])).toEqual({ grant_type: 'password', username: 'u', password: 'p', scope: 'read' });
  });

  it("surfaces the server's token error", async () => {
    const { ctx } = context(() => jsonResponse({ error: 'invalid_grant', error_description: 'expired' }, { status: 400 }));
    await expect(refreshTokens({ ...ctx, refreshToken: 'rt1' })).rejects.toMatchObject({ code: 'invalid_grant', status: 400, retryable: false });
  });
});

describe('device authorization (RFC 8628)', () => {
  it('requests a device code and reads the response with a default interval of 5 s', async () => {
    const { ctx, requests } = context(() =>
      jsonResponse({ device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: 'https://as.example/activate', expires_in: 600 }),
    );
    expect(await requestDeviceAuthorization(ctx)).toEqual({
      deviceCode: 'dc',
      userCode: 'ABCD-EFGH',
      verificationUri: 'https://as.example/activate',
      expiresAt: NOW + 600_000,
      interval: 5,
    });
    expect(requests[0]?.url).toBe('https://as.example/device');
    expect(form(requests[0])).toEqual({ scope: 'read' });
  });

  it('keeps verification_uri_complete and the interval the server sets', async () => {
    const { ctx } = context(() =>
      jsonResponse({
        device_code: 'dc',
        user_code: 'U',
        verification_uri: 'https://as.example/activate',
        verification_uri_complete: 'https://as.example/activate?user_code=U',
        expires_in: '600',
        interval: 2,
      }),
    );
    expect(await requestDeviceAuthorization({ ...ctx, scopes: [] })).toMatchObject({
      verificationUriComplete: 'https://as.example/activate?user_code=U',
      interval: 2,
    });
  });

  it('rejects a device authorization response without its required fields', async () => {
    for (const body of [{ user_code: 'U', verification_uri: 'https://x', expires_in: 1 }, { device_code: 'd', user_code: 'U', expires_in: 1 }, { device_code: 'd', user_code: 'U', verification_uri: 'https://x' }]) {
      const { ctx } = context(() => jsonResponse(body));
      await expect(requestDeviceAuthorization(ctx)).rejects.toMatchObject({ code: 'invalid_response' });
    }
  });

  it.each(['authorization_pending', 'slow_down', 'expired_token', 'access_denied'])('pollDeviceToken throws %s', async (code) => {
    const { ctx, requests } = context(() => jsonResponse({ error: code }, { status: 400 }));
    await expect(pollDeviceToken({ ...ctx, deviceCode: 'dc' })).rejects.toMatchObject({ code, retryable: false });
    expect(form(requests[0])).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'dc' });
  });

  it('pollDeviceToken returns the tokens once the user has approved', async () => {
    const { ctx } = context(() => jsonResponse(TOKENS));
    expect((await pollDeviceToken({ ...ctx, deviceCode: 'dc' })).accessToken).toBe('at');
  });
});

describe('revocation (RFC 7009)', () => {
  it('treats 200 with any body as success', async () => {
    for (const response of [new Response('whatever', { status: 200 }), new Response(null, { status: 200 }), jsonResponse({})]) {
      const { ctx, requests } = context(() => response);
      await expect(revokeToken({ ...ctx, token: 'rt', tokenTypeHint: 'refresh_token' })).resolves.toBeUndefined();
      expect(requests[0]?.url).toBe('https://as.example/revoke');
      expect(form(requests[0])).toEqual({ token: 'rt', token_type_hint: 'refresh_token' });
    }
  });

  it('reports 503 as retryable and unsupported_token_type as not', async () => {
    const down = context(() => new Response(null, { status: 503 }));
    await expect(revokeToken({ ...down.ctx, token: 't' })).rejects.toMatchObject({ status: 503, retryable: true });
    const unsupported = context(() => jsonResponse({ error: 'unsupported_token_type' }, { status: 400 }));
    await expect(revokeToken({ ...unsupported.ctx, token: 't' })).rejects.toMatchObject({ code: 'unsupported_token_type', retryable: false });
  });
});

describe('introspection (RFC 7662)', () => {
  it('reads active and the registered fields, keeping extras', async () => {
    const body = { active: true, scope: 'a b', client_id: 'app', exp: 1, aud: ['x'], custom: { y: 1 } };
    const { ctx, requests } = context(() => jsonResponse(body));
    expect(await introspectToken({ ...ctx, token: 'at' })).toEqual(body);
    expect(form(requests[0])).toEqual({ token: 'at' });
  });

  it('requires a boolean active and well-typed registered fields', async () => {
    for (const body of [{}, { active: 'true' }, { active: true, exp: '1' }, { active: true, aud: 3 }]) {
      const { ctx } = context(() => jsonResponse(body));
      await expect(introspectToken({ ...ctx, token: 'at' })).rejects.toMatchObject({ code: 'invalid_response' });
    }
  });
});

describe('userinfo and token info', () => {
  it('GETs the userinfo endpoint with the bearer token', async () => {
    const { ctx, requests } = context(() => jsonResponse({ sub: 'u1' }));
    expect(await fetchUserinfo({ ...ctx, accessToken: 'at' })).toEqual({ sub: 'u1' });
    expect(requests[0]).toMatchObject({ method: 'GET', url: 'https://as.example/userinfo', body: '' });
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer at');
  });

  it('GETs the token-info endpoint when asked (tokenInfoEndpoint, as in the generic() profile)', async () => {
    const { ctx, requests } = context(() => jsonResponse({ client_id: 'app', scopes: ['tasks:read'] }));
    await fetchUserinfo({ ...ctx, accessToken: 'at', endpoint: provider.tokenInfoEndpoint ?? '' });
    expect(requests[0]?.url).toBe('https://api.example/v1/oauth/token/info');
  });

  it('reads the error of a 401 from WWW-Authenticate', async () => {
    const { ctx } = context(() => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }));
    await expect(fetchUserinfo({ ...ctx, accessToken: 'at' })).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('rejects a body that is not a JSON object', async () => {
    const { ctx } = context(() => jsonResponse(['a']));
    await expect(fetchUserinfo({ ...ctx, accessToken: 'at' })).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it.each(['a t', 'at\r\nX-Evil: 1', 'at\u0000', 'tökén'])(
    'refuses an access token that cannot go in a header (%j) as invalid_request, sending nothing',
    async (accessToken) => {
      const { ctx, requests } = context(() => jsonResponse({ sub: 'u1' }));
      const error = await fetchUserinfo({ ...ctx, accessToken }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ code: 'invalid_request', retryable: false });
      expect(requests).toHaveLength(0);
    },
  );

  it('sends opaque tokens with a wider alphabet than b64token unchanged', async () => {
    const { ctx, requests } = context(() => jsonResponse({ sub: 'u1' }));
    await fetchUserinfo({ ...ctx, accessToken: 'tenant|abc:def' });
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer tenant|abc:def');
  });
});

describe('transport failures', () => {
  it('passes the signal to fetch', async () => {
    const controller = new AbortController();
    const { ctx, requests } = context(() => jsonResponse(TOKENS), { signal: controller.signal });
    await requestClientCredentials(ctx);
    expect(requests[0]?.signal).toBe(controller.signal);
  });

  it('maps a fetch that throws to network_error', async () => {
    const { ctx } = context(() => {
      throw new TypeError('fetch failed');
    });
    const error = await refreshTokens({ ...ctx, refreshToken: 'rt' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'network_error', retryable: true });
  });

  it('maps a timeout to timeout', async () => {
    const { ctx } = context(() => {
      throw new DOMException('The operation timed out', 'TimeoutError');
    });
    await expect(exchangeAuthorizationCode({ ...ctx, code: 'c', codeVerifier: verifier })).rejects.toMatchObject({ code: 'timeout', retryable: true });
  });

  it('maps an aborted signal to aborted, and a timed-out signal to timeout', async () => {
    const honour = (request: RecordedRequest): Response => {
      request.signal?.throwIfAborted();
      return jsonResponse(TOKENS);
    };
    const controller = new AbortController();
    controller.abort('user left');
    const aborted = context(honour, { signal: controller.signal });
    await expect(revokeToken({ ...aborted.ctx, token: 't' })).rejects.toMatchObject({ code: 'aborted', retryable: false });

    const timedOut = new AbortController();
    timedOut.abort(new DOMException('timed out', 'TimeoutError'));
    const late = context(honour, { signal: timedOut.signal });
    await expect(introspectToken({ ...late.ctx, token: 't' })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('throws TypeError for bad arguments without sending anything', async () => {
    const { ctx, requests } = context(() => jsonResponse(TOKENS));
    await expect(exchangeAuthorizationCode({ ...ctx, code: 'c', codeVerifier: 'short' })).rejects.toThrow(TypeError);
    await expect(revokeToken({ ...ctx, provider: { tokenEndpoint: 'https://as.example/token' }, token: 't' })).rejects.toThrow(TypeError);
    expect(requests).toHaveLength(0);
  });
});
