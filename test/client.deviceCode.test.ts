import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, tokenRequests } from './client.fixtures.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

/** Lets pending promise jobs and one macrotask run, so an unhandled rejection would be reported. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describe('createOAuthClient — device authorization (RFC 8628)', () => {
  it('login() resolves with the user code, then tokens resolves once the user approved', async () => {
    const world = await createWorld();
    const client = world.client('device_code');
    const login = await client.login();
    expect(login.userCode).toMatch(/\S/);
    expect(login.verificationUri).toMatch(/^https?:\/\//);
    expect(login.interval).toBe(1);
    expect(login.expiresAt).toBeGreaterThan(world.clock.now());
    world.server.approveDevice(login.userCode);
    world.clock.advance(1_000); // one poll interval, on the clock service
    const tokens = await login.tokens;
    expect(tokens.accessToken).toBeTruthy();
    expect(await client.getAccessToken()).toBe(tokens.accessToken);
    expect(tokenRequests(world, DEVICE_GRANT)).toBeGreaterThanOrEqual(1);
    client.stop();
  });

  it('tokens rejects with access_denied when the user denies', async () => {
    const world = await createWorld();
    const client = world.client('device_code');
    const login = await client.login();
    world.server.denyDevice(login.userCode);
    world.clock.advance(1_000); // one poll interval, on the clock service
    await expect(login.tokens).rejects.toMatchObject({ name: 'OAuthError', code: 'access_denied' });
    client.stop();
  });

  it('an ignored tokens promise that rejects is never an unhandled rejection', async () => {
    const world = await createWorld();
    const client = world.client('device_code');
    const login = await client.login();
    world.server.denyDevice(login.userCode);
    world.clock.advance(1_000); // one poll interval, on the clock service
    // Nobody looks at login.tokens; wait until the machine has seen the denial.
    await new Promise<void>((resolve) => {
      const unsubscribe = client.subscribe((snapshot) => {
        if (snapshot.value === 'error') {
          unsubscribe();
          resolve();
        }
      });
    });
    await settle();
    expect(unhandled).toEqual([]);
    client.stop();
  });

  it('tokens rejects with expired_token once the device code has expired', async () => {
    const world = await createWorld({ deviceCodeTtl: 2 });
    const client = world.client('device_code');
    const login = await client.login();
    world.clock.advance(3_000);
    await expect(login.tokens).rejects.toMatchObject({ code: 'expired_token' });
    client.stop();
  });

  it('logout() during the user step cancels it: tokens rejects with aborted', async () => {
    const world = await createWorld();
    const client = world.client('device_code');
    const login = await client.login();
    await client.logout();
    await expect(login.tokens).rejects.toMatchObject({ code: 'aborted' });
    expect(await client.getTokens()).toBeUndefined();
    client.stop();
  });
});
