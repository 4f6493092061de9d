/**
 * The framework examples' configuration (React, Vue, Svelte), read from
 * `./config.json` next to the page so one build serves any authorization
 * server (the same file as the vanilla example's, plus `extraParams` for the
 * login), for example:
 * `{ "issuer": "http://127.0.0.1:9000", "clientId": "spa", "scopes": ["openid", "offline_access"] }`
 * Without `tokenEndpoint` the provider is discovered from `issuer`.
 */
import type { BrowserAuthOptions, LoginOptions } from 'oauth-machines/browser';

export interface ExampleConfig {
  issuer: string;
  clientId: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  redirectUri?: string;
  scopes?: string[];
  storage?: 'session' | 'local' | 'memory';
  /** Sent with every login, e.g. `{ "prompt": "consent" }` (oidc-provider grants offline_access only with it). */
  extraParams?: Record<string, string>;
}

export async function loadConfig(): Promise<ExampleConfig> {
  const response = await fetch(new URL('./config.json', location.href));
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return (await response.json()) as ExampleConfig;
}

export function authOptionsFrom(config: ExampleConfig): BrowserAuthOptions {
  const provider =
    config.tokenEndpoint === undefined
      ? { issuer: config.issuer }
      : {
          issuer: config.issuer,
          tokenEndpoint: config.tokenEndpoint,
          ...(config.authorizationEndpoint === undefined ? {} : { authorizationEndpoint: config.authorizationEndpoint }),
          ...(config.revocationEndpoint === undefined ? {} : { revocationEndpoint: config.revocationEndpoint }),
        };
  return {
    provider,
    client: {
      clientId: config.clientId,
      // Sent exactly as registered (RFC 9700 §4.1.3): by default this very page.
      redirectUri: config.redirectUri ?? `${location.origin}${location.pathname}`,
      scopes: config.scopes ?? ['openid', 'offline_access'],
    },
    services: { storage: config.storage ?? 'session' },
  };
}

export function loginOptionsFrom(config: ExampleConfig): LoginOptions {
  return config.extraParams === undefined ? {} : { extraParams: config.extraParams };
}
