/**
 * The authorization code machine checks the ID token of the token response
 * (OIDC Core §3.1.3.7) against the in-memory test authorization server, whose
 * ID tokens carry `iss`, `sub`, `aud`, `nonce`, `iat` and `exp`. A fetch
 * wrapper rewrites the claims of the `id_token` in token responses to play a
 * server (or a man in the middle) that answers with the wrong one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Actor } from 'xstate';
import { authorizationCodeMachine } from '../machines/authorizationCode.js';
import type { Services } from '../src/services/types.js';
import { createHarness, settled, stateOf, storedSession, type Harness, type HarnessOptions } from './machines.fixtures.js';

type AuthActor = Actor<typeof authorizationCodeMachine>;
type Claims = Record<string, unknown>;
/** Rewrites the claims in place; `'drop'` removes the `id_token` from the response. */
type Tamper = ((claims: Claims) => void) | 'drop' | { replaceWith: string };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function decodePart(part: string): Claims {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Claims;
}

function claimsOf(idToken: string | undefined): Claims {
  const payload = idToken?.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return decodePart(payload);
}

/** A harness whose token responses pass through `tamper` while it is set. */
function tamperingHarness(options: HarnessOptions = {}) {
  const h = createHarness(options);
  const control: { tamper: Tamper | undefined; tampered: number } = { tamper: undefined, tampered: 0 };
  const fetch: Services['fetch'] = async (url, init) => {
    const response = await h.server.fetch(url, init);
    const tamper = control.tamper;
    if (tamper === undefined || String(url) !== h.provider.tokenEndpoint || !response.ok) return response;
    const body = (await response.json()) as Claims;
    if (tamper === 'drop') delete body.id_token;
    else if (typeof tamper === 'object') body.id_token = tamper.replaceWith;
    else if (typeof body.id_token === 'string') {
      const [header = '', payload = '', signature = ''] = body.id_token.split('.');
      const claims = decodePart(payload);
      tamper(claims);
      body.id_token = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    }
    control.tampered += 1;
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };
  const services: Services = { ...h.services, fetch };
  return { h, control, services };
}

async function startIdle(h: Harness, services: Services): Promise<AuthActor> {
  const actor = h.start(authorizationCodeMachine, { services });
  await settled(actor);
  return actor;
}

/** LOGIN, the server's redirect back, CALLBACK; resolves once the machine settles. */
async function loginFlow(h: Harness, actor: AuthActor): Promise<string> {
  actor.send({ type: 'LOGIN' });
  await settled(actor);
  expect(stateOf(actor)).toBe('awaitingCallback');
  const url = actor.getSnapshot().context.authorizationUrl;
  if (url === undefined) throw new Error('no authorization URL');
  const callback = await h.server.authorize(url);
  actor.send({ type: 'CALLBACK', url: callback });
  await settled(actor);
  return url;
}

async function expectRefusedLogin(h: Harness, actor: AuthActor, code: string): Promise<void> {
  await loginFlow(h, actor);
  const { context } = actor.getSnapshot();
  expect(stateOf(actor)).toBe('error');
  expect(context.error).toMatchObject({ code, retryable: false });
  expect(context.tokens).toBeUndefined();
  expect(context.staleTokens).toBeUndefined();
  expect(context.exchange).toBeUndefined();
  // The server did issue tokens: the refusal is the client's.
  expect(h.server.tokenRequests('authorization_code')).toHaveLength(1);
  const stored = await storedSession(h.storage);
  expect(stored?.tokens).toBeUndefined();
  expect(h.actorErrors).toEqual([]);
}

describe('the code exchange checks the ID token', () => {
  it('accepts a normal openid login: the ID token carries the nonce that was sent', async () => {
    const { h, services } = tamperingHarness();
    const actor = await startIdle(h, services);
    const authorizationUrl = await loginFlow(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    const { tokens } = actor.getSnapshot().context;
    const claims = claimsOf(tokens?.idToken);
    expect(claims).toMatchObject({ iss: h.server.issuer, aud: 'app', sub: expect.any(String) });
    expect(claims.nonce).toBe(new URL(authorizationUrl).searchParams.get('nonce'));
    expect((await storedSession(h.storage))?.tokens).toMatchObject({ idToken: tokens?.idToken });
  });

  it('ends in error with nonce_mismatch, keeping no tokens, when the nonce is not the one sent', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = (claims) => {
      claims.nonce = 'a-nonce-from-another-login';
    };
    await expectRefusedLogin(h, await startIdle(h, services), 'nonce_mismatch');
    expect(control.tampered).toBe(1);
  });

  it('ends in error with nonce_mismatch when the ID token has no nonce although one was sent', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = (claims) => {
      delete claims.nonce;
    };
    await expectRefusedLogin(h, await startIdle(h, services), 'nonce_mismatch');
  });

  it('ends in error with invalid_id_token when the ID token is for another client', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = (claims) => {
      claims.aud = 'another-client';
    };
    await expectRefusedLogin(h, await startIdle(h, services), 'invalid_id_token');
  });

  it('ends in error with invalid_id_token when the ID token comes from another issuer', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = (claims) => {
      claims.iss = 'https://evil.example';
    };
    await expectRefusedLogin(h, await startIdle(h, services), 'invalid_id_token');
  });

  it('ends in error with invalid_id_token when the ID token has expired', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = (claims) => {
      claims.exp = Math.floor(h.server.clock.now() / 1000) - 3600;
    };
    await expectRefusedLogin(h, await startIdle(h, services), 'invalid_id_token');
  });

  it('ends in error with invalid_response when the id_token is not a JWT', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = { replaceWith: 'opaque-not-a-jwt' };
    await expectRefusedLogin(h, await startIdle(h, services), 'invalid_response');
  });

  it('accepts an openid response without an id_token (some servers omit it)', async () => {
    const { h, control, services } = tamperingHarness();
    control.tamper = 'drop';
    const actor = await startIdle(h, services);
    await loginFlow(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(actor.getSnapshot().context.tokens?.idToken).toBeUndefined();
    expect(control.tampered).toBe(1);
  });

  it('checks an id_token even when openid was not requested: one that is not a JWT ends in invalid_response', async () => {
    const { h, control, services } = tamperingHarness({ client: { scopes: ['offline_access'] } });
    control.tamper = { replaceWith: 'opaque-not-a-jwt' };
    await expectRefusedLogin(h, await startIdle(h, services), 'invalid_response');
  });

  it('does not compare iss when the provider config has no issuer', async () => {
    const { h, control, services } = tamperingHarness({
      provider: { authorizationResponseIssParameterSupported: false },
    });
    delete h.provider.issuer;
    control.tamper = (claims) => {
      claims.iss = 'https://somewhere-else.example';
    };
    const actor = await startIdle(h, services);
    await loginFlow(h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    expect(claimsOf(actor.getSnapshot().context.tokens?.idToken).iss).toBe('https://somewhere-else.example');
  });
});

describe('a refresh checks the ID token it returns (OIDC Core §12.2)', () => {
  async function signedIn() {
    const harness = tamperingHarness();
    const actor = await startIdle(harness.h, harness.services);
    await loginFlow(harness.h, actor);
    expect(stateOf(actor)).toBe('authenticated');
    return { ...harness, actor };
  }

  async function refresh(actor: AuthActor): Promise<void> {
    actor.send({ type: 'REFRESH' });
    await settled(actor);
  }

  it('accepts the refreshed ID token of the same user, which has no nonce to match', async () => {
    const { h, actor } = await signedIn();
    const before = actor.getSnapshot().context.tokens;
    await refresh(actor);
    expect(stateOf(actor)).toBe('authenticated');
    const after = actor.getSnapshot().context.tokens;
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(claimsOf(after?.idToken).sub).toBe(claimsOf(before?.idToken).sub);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
  });

  it.each([
    ['another audience', (claims: Claims) => void (claims.aud = 'another-client')],
    ['another issuer', (claims: Claims) => void (claims.iss = 'https://evil.example')],
    ['an expired one', (claims: Claims) => void (claims.exp = 1)],
  ])('refuses a refreshed ID token with %s: invalid_id_token, the refused tokens are neither kept nor stored', async (_, tamper) => {
    const { h, control, actor } = await signedIn();
    const before = actor.getSnapshot().context.tokens;
    control.tamper = tamper;
    await refresh(actor);
    expect(control.tampered).toBe(1);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    const { context } = actor.getSnapshot();
    expect(context.error).toMatchObject({ code: 'invalid_id_token', retryable: false });
    // The lifecycle's rule for a failed refresh: the still-valid access token keeps being served.
    expect(stateOf(actor)).toBe('authenticated');
    expect(context.tokens).toEqual(before);
    const stored = await storedSession(h.storage);
    expect((stored?.tokens as { accessToken?: string } | undefined)?.accessToken).toBe(before?.accessToken);
    expect(h.actorErrors).toEqual([]);
  });

  it('ends the session when the refreshed ID token names another subject: error invalid_id_token, tokens gone from context and storage', async () => {
    const { h, control, actor } = await signedIn();
    expect(await storedSession(h.storage)).not.toBeNull();
    control.tamper = (claims) => void (claims.sub = 'someone-else');
    await refresh(actor);
    expect(control.tampered).toBe(1);
    const { context } = actor.getSnapshot();
    expect(stateOf(actor)).toBe('error');
    expect(context.error).toMatchObject({ code: 'invalid_id_token', retryable: false });
    expect(context.error?.description).toMatch(/another subject/);
    expect(context.tokens).toBeUndefined();
    expect(context.staleTokens).toBeUndefined();
    expect(await storedSession(h.storage)).toBeNull();
    // Nothing is left to renew: RETRY starts a new login instead of spending a refresh token.
    actor.send({ type: 'RETRY' });
    await settled(actor);
    expect(stateOf(actor)).toBe('awaitingCallback');
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(h.actorErrors).toEqual([]);
  });

  it('keeps the session when the refreshed ID token names another issuer: only another subject ends it', async () => {
    const { h, control, actor } = await signedIn();
    const before = actor.getSnapshot().context.tokens;
    control.tamper = (claims) => void (claims.iss = 'https://another-issuer.example');
    await refresh(actor);
    const { context } = actor.getSnapshot();
    expect(context.error).toMatchObject({ code: 'invalid_id_token', retryable: false });
    expect(stateOf(actor)).toBe('authenticated');
    expect(context.tokens).toEqual(before);
    expect(await storedSession(h.storage)).not.toBeNull();
  });
});
