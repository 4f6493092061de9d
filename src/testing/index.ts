/**
 * `oauth-machines/testing`: a strict test authorization server, in memory
 * (`server.fetch`) or over loopback HTTP (`server.listen()`).
 */
export { createTestAuthorizationServer, type TestAuthorizationServer } from './authorizationServer.js';
export type {
  AuthorizationDecision,
  IssuedToken,
  ListeningServer,
  TestAuthorizationServerOptions,
  TestClient,
  TestClientAuthMethod,
  TestClock,
  TestClockSource,
  TestEndpoint,
  TestFault,
  TestFetch,
  TestGrantType,
  TestLogEntry,
  TestServerQuirks,
  TestUser,
} from './types.js';
