/**
 * `authorizedFetch`: the bearer token on requests to a resource server (the
 * test server's userinfo endpoint plays one), one renewal and one retry when
 * the server refuses the token (RFC 6750 §3.1), never a loop.
 */
import { describe, expect, it } from 'vitest';
import { createWorld, signIn, tokenRequests, type World } from './client.fixtures.js';

const INVALID_TOKEN = { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"' }, body: '' };

async function signedIn(): Promise<{ world: World; client: ReturnType<World['client']>; resource: string }> {
  const world = await createWorld();
  const client = world.client('authorization_code');
  await signIn(world, client);
  const resource = world.provider.userinfoEndpoint;
  if (resource === undefined) throw new Error('the test server has no userinfo endpoint');
  return { world, client, resource };
}

const bearerOf = (world: World) =>
  world.server.log.filter((entry) => entry.endpoint === 'userinfo').map((entry) => entry.headers['authorization'] ?? 'none');

describe('authorizedFetch', () => {
  it('sends the access token as a bearer token, and the resource server answers', async () => {
    const { world, client, resource } = await signedIn();
    const response = await client.authorizedFetch(resource);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: expect.any(String) });
    expect(bearerOf(world)).toEqual([expect.stringMatching(/^Bearer /)]);
    client.stop();
  });

  it('on 401 invalid_token renews once and sends the request once more, with the new token', async () => {
    const { world, client, resource } = await signedIn();
    const before = (await client.getTokens())?.accessToken;
    world.server.fail('userinfo', INVALID_TOKEN);
    const response = await client.authorizedFetch(resource, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(response.status).toBe(200);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    expect((await client.getTokens())?.accessToken).not.toBe(before);
    expect(world.server.log.filter((entry) => entry.endpoint === 'userinfo').map((entry) => entry.status)).toEqual([401, 200]);
    client.stop();
  });

  it('never loops: a server that keeps refusing gets two requests and one renewal, and its 401 is the answer', async () => {
    const { world, client, resource } = await signedIn();
    world.server.fail('userinfo', INVALID_TOKEN, { times: 100 });
    const response = await client.authorizedFetch(resource);
    expect(response.status).toBe(401);
    expect(world.server.log.filter((entry) => entry.endpoint === 'userinfo')).toHaveLength(2);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });

  it('does not renew for a 401 that is not about the token, nor for a 403', async () => {
    const { world, client, resource } = await signedIn();
    world.server.fail('userinfo', { status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' }, body: '' });
    expect((await client.authorizedFetch(resource)).status).toBe(401);
    world.server.fail('userinfo', { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' }, body: '' });
    expect((await client.authorizedFetch(resource)).status).toBe(403);
    expect(tokenRequests(world, 'refresh_token')).toBe(0);
    client.stop();
  });

  it('callers refused the same token share one renewal', async () => {
    const { world, client, resource } = await signedIn();
    world.server.fail('userinfo', INVALID_TOKEN, { times: 3 });
    const responses = await Promise.all([1, 2, 3].map(() => client.authorizedFetch(resource)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(tokenRequests(world, 'refresh_token')).toBe(1);
    client.stop();
  });

  it('replays a Request whose body is a stream, from a copy kept before the first send', async () => {
    const { world, client, resource } = await signedIn();
    world.server.fail('userinfo', INVALID_TOKEN);
    const request = new Request(resource, { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const response = await client.authorizedFetch(request);
    expect(response.status).toBe(200);
    client.stop();
  });

  it('rejects with login_required without a session, and refuses a request that carries its own Authorization', async () => {
    const world = await createWorld();
    const client = world.client('authorization_code');
    const resource = world.provider.userinfoEndpoint ?? '';
    await expect(client.authorizedFetch(resource)).rejects.toMatchObject({ code: 'login_required' });
    await signIn(world, client);
    await expect(client.authorizedFetch(resource, { headers: { Authorization: 'Basic eDp5' } })).rejects.toThrow(TypeError);
    expect(world.server.log.filter((entry) => entry.endpoint === 'userinfo')).toHaveLength(0);
    client.stop();
  });

  it('rejects with the renewal\'s typed error when the session cannot be renewed', async () => {
    const { world, client, resource } = await signedIn();
    world.server.fail('userinfo', INVALID_TOKEN);
    world.server.fail('token', { oauthError: 'invalid_grant', status: 400 });
    await expect(client.authorizedFetch(resource)).rejects.toMatchObject({ code: 'invalid_grant' });
    client.stop();
  });
});
