/**
 * GitHub (OAuth apps and GitHub Apps acting for a user).
 *
 * Source: GitHub Docs, "Authorizing OAuth apps"
 * (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps)
 * and "Refreshing user access tokens"
 * (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { spaceSeparatedScope } from './commaScopes.js';
import { baseUrl } from './profileUrls.js';

export interface GitHubOptions {
  /** GitHub Enterprise Server's `https://HOSTNAME` (or a test server). Default `https://github.com`. */
  baseUrl?: string;
}

/**
 * Maps GitHub's token response to RFC 6749 §5.1: `scope` comes
 * comma-separated (`repo,gist`) and becomes space-separated. Everything else
 * (`token_type: 'bearer'`, `refresh_token_expires_in`) is left as sent; an
 * error body is returned unchanged. Pure.
 */
export function mapGitHubTokenResponse(body: Record<string, unknown>): Record<string, unknown> {
  if (!('scope' in body) || 'error' in body) return body;
  return { ...body, scope: spaceSeparatedScope(body['scope']) };
}

/**
 * GitHub:
 * - the token endpoint answers `application/x-www-form-urlencoded` unless the
 *   request says `Accept: application/json`; the library always says so, and
 *   reads a form-encoded answer all the same (`formEncodedTokenResponses`);
 * - token-endpoint errors (`bad_verification_code`, the device flow's
 *   `authorization_pending` and `slow_down`) come with HTTP 200; the library
 *   reads an error body whatever the status;
 * - `client_id` and `client_secret` go in the body (`client_secret_post`);
 * - the device flow (RFC 8628) at `/login/device/code`, polled at the same token endpoint;
 * - access tokens of OAuth apps do not expire and come without a refresh
 *   token; a GitHub App with expiring user tokens gets `expires_in` (8 hours)
 *   and a refresh token that is replaced on every use;
 * - granted scopes come comma-separated (see {@link mapGitHubTokenResponse});
 * - no discovery document, no RFC 7009 revocation (GitHub revokes through
 *   its REST API, `DELETE /applications/{client_id}/token`, with Basic auth of the app).
 *
 * @example
 * const provider = github();                                        // github.com
 * const enterprise = github({ baseUrl: 'https://github.example.com' }); // GitHub Enterprise Server
 */
export function github(options: GitHubOptions = {}): ProviderConfig {
  const base = baseUrl(options.baseUrl ?? 'https://github.com', 'github: baseUrl');
  return {
    authorizationEndpoint: `${base}/login/oauth/authorize`,
    tokenEndpoint: `${base}/login/oauth/access_token`,
    deviceAuthorizationEndpoint: `${base}/login/device/code`,
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    tokenEndpointAuthMethodsSupported: ['client_secret_post'],
    quirks: {
      clientAuthMethods: ['client_secret_post'],
      formEncodedTokenResponses: true,
      mapTokenResponse: mapGitHubTokenResponse,
    },
  };
}
