/**
 * The token server of `bench/nodeExchange.ts`, in a process of its own so
 * that the benchmark's `process.cpuUsage()` counts the clients only: the test
 * authorization server of `oauth-machines/testing` on loopback
 * (`createTestAuthorizationServer(...).listen()`). Prints one JSON line,
 * `{ url, issuer }`, once it listens; exits when its stdin closes.
 */
import { createTestAuthorizationServer } from '../../src/testing/index.js';
import { BENCH_CLIENT } from './benchClient.js';

const server = createTestAuthorizationServer({
  clients: [
    {
      clientId: BENCH_CLIENT.clientId,
      authMethod: 'none',
      redirectUris: [BENCH_CLIENT.redirectUri],
      grants: ['authorization_code', 'refresh_token'],
      scopes: [BENCH_CLIENT.scope],
    },
  ],
  accessTokenTtl: BENCH_CLIENT.accessTokenTtl,
});
const listening = await server.listen();
process.stdout.write(`${JSON.stringify({ url: listening.url, issuer: listening.issuer })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void listening.close().finally(() => process.exit(0));
});
