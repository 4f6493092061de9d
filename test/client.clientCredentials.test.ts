import { describe, expect, it, vi } from 'vitest';
import { createWorld, SERVICE_SECRET, tokenRequests } from './client.fixtures.js';

describe('createOAuthClient — client credentials', () => {
  it('login() resolves with the tokens of a client-credentials request', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    const tokens = await client.login();
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.scope).toEqual(['read']);
    expect(tokenRequests(world, 'client_credentials')).toBe(1);
    client.stop();
  });

  it('getAccessToken() logs in on demand, once for any number of concurrent callers', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    const tokens = await Promise.all(Array.from({ length: 500 }, () => client.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests(world, 'client_credentials')).toBe(1);
    client.stop();
  });

  it('getAccessToken() serves a token within the refresh skew while it gets a new one, then serves the new one', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    const first = await client.getAccessToken();
    world.clock.advance(3_600_000 - 5_000); // inside the skew, still valid
    expect(await client.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(client.actor.getSnapshot().hasTag('busy')).toBe(false));
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
    expect(tokenRequests(world, 'client_credentials')).toBe(2);
    client.stop();
  });

  it('a resource option is sent with every token request, the renewals included (RFC 8707)', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials', { client: { resource: 'https://api.example/' } });
    await client.getAccessToken();
    world.clock.advance(3_600_000 - 5_000);
    await client.getAccessToken(); // starts the renewal in the background
    await vi.waitFor(() => expect(client.actor.getSnapshot().hasTag('busy')).toBe(false));
    const resources = world.server.tokenRequests('client_credentials').map((request) => request.params['resource']);
    expect(resources).toEqual(['https://api.example/', 'https://api.example/']);
    client.stop();
  });

  it('refuses a resource that is not an absolute URI without fragment, or on another grant', async () => {
    const world = await createWorld();
    expect(() => world.client('client_credentials', { client: { resource: '/relative' } })).toThrow(TypeError);
    expect(() => world.client('client_credentials', { client: { resource: 'https://api.example/#part' } })).toThrow(TypeError);
    expect(() => world.client('device_code', { client: { resource: 'https://api.example/' } })).toThrow(/client_credentials grant only/);
  });

  it('a wrong secret rejects with invalid_client, and the next demand tries again', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials', { client: { clientSecret: 'wrong-secret-wrong-secret' } });
    await expect(client.getAccessToken()).rejects.toMatchObject({ name: 'OAuthError', code: 'invalid_client' });
    await expect(client.login()).rejects.toMatchObject({ code: 'invalid_client' });
    expect(tokenRequests(world, 'client_credentials')).toBe(2);
    client.stop();
  });

  it('logout() ends the session; the next getAccessToken() asks for a new token', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    const first = await client.getAccessToken();
    await client.logout();
    expect(await client.getTokens()).toBeUndefined();
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
    client.stop();
  });
});

describe('createOAuthClient — client credentials: one rule per check', () => {
  it('refuses a resource with an empty fragment, as the protocol does (RFC 8707 §2)', async () => {
    const world = await createWorld();
    expect(() => world.client('client_credentials', { client: { resource: 'https://api.example/#' } })).toThrow(TypeError);
    const { tokenRequest } = await import('../src/protocol/tokenRequest.js');
    expect(() =>
      tokenRequest.clientCredentials(world.provider, { clientId: 'service', clientSecret: SERVICE_SECRET }, { resource: 'https://api.example/#' }),
    ).toThrow(TypeError);
  });

  it('refresh() renews now, once for many callers reporting the same refused token', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    const refused = await client.getAccessToken();
    const renewals = await Promise.all(Array.from({ length: 20 }, () => client.refresh({ accessToken: refused })));
    expect(tokenRequests(world, 'client_credentials')).toBe(2);
    expect(new Set(renewals.map((tokens) => tokens?.accessToken)).size).toBe(1);
    expect(await client.getAccessToken()).not.toBe(refused);
    // A report of the old token once renewed asks for nothing.
    await client.refresh({ accessToken: refused });
    expect(tokenRequests(world, 'client_credentials')).toBe(2);
    client.stop();
  });
});

describe('createOAuthClient — client credentials: refresh({ tokenParams })', () => {
  it('sends the renewal\'s extra parameters with the new client-credentials request, and only with that one', async () => {
    const world = await createWorld();
    const client = world.client('client_credentials');
    await client.login();
    await client.refresh({ tokenParams: { audience: 'https://api.example' } });
    await client.refresh();
    const requests = world.server.log.filter((entry) => entry.endpoint === 'token' && entry.grantType === 'client_credentials');
    expect(requests.map((entry) => entry.params['audience'])).toEqual([undefined, 'https://api.example', undefined]);
    client.stop();
  });
});

