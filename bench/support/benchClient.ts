/** The client the token server of `bench/nodeExchange.ts` registers, shared by the server and the benchmark. */
export const BENCH_CLIENT = {
  clientId: 'bench-web',
  redirectUri: 'http://127.0.0.1:5173/callback',
  scope: 'offline_access',
  /** Seconds an access token lives. */
  accessTokenTtl: 3600,
} as const;
