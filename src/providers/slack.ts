/**
 * Slack (installing an app with OAuth v2).
 *
 * Source: Slack Developer Docs, "Installing with OAuth"
 * (https://docs.slack.dev/authentication/installing-with-oauth), the
 * `oauth.v2.access` method (https://docs.slack.dev/reference/methods/oauth.v2.access)
 * and "Using token rotation" (https://docs.slack.dev/authentication/using-token-rotation).
 */
import type { ProviderConfig } from '../protocol/types.js';
import { spaceSeparatedScope } from './commaScopes.js';
import { baseUrl } from './profileUrls.js';

/** Which of Slack's tokens the session holds: the app's bot token, or the installing user's token. */
export type SlackToken = 'bot' | 'user';

export interface SlackOptions {
  /** The session's token. Default `'bot'`: the scopes of `client.scopes` are bot scopes. */
  token?: SlackToken;
  /** User scopes, sent as `user_scope` (the user token's; with `token: 'user'` this is what the session asks for). */
  userScopes?: string[];
  /** Serve every endpoint from this origin (a test server). Default `https://slack.com`. */
  baseUrl?: string;
}

/** The Slack fields that describe one token, at the top (the bot's) or in `authed_user` (the user's). */
const TOKEN_FIELDS = ['access_token', 'token_type', 'scope', 'expires_in', 'refresh_token'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Maps Slack's `oauth.v2.access` answer into RFC 6749 §5.1 fields for one of
 * its tokens. Slack answers the bot token at the top (`token_type: 'bot'`)
 * and the user token nested in `authed_user` (`token_type: 'user'`), each
 * with its own `scope` (comma-separated), and with token rotation its own
 * `refresh_token` and `expires_in`. The mapped body carries the chosen
 * token's fields at the top, `token_type: 'Bearer'` (Slack's Web API takes
 * both as bearer tokens) and space-separated scopes; the other token stays
 * where Slack put it, in the TokenSet's `raw`. A refresh answer (one token,
 * at the top) and an error body (`ok: false`) are mapped as they are. Pure.
 */
export function slackTokenMapping(token: SlackToken): (body: Record<string, unknown>) => Record<string, unknown> {
  return (body) => {
    if ('error' in body) return body;
    const user = body['authed_user'];
    const mapped: Record<string, unknown> = { ...body };
    if (token === 'user' && isRecord(user) && typeof user['access_token'] === 'string') {
      for (const field of TOKEN_FIELDS) {
        if (field in user) mapped[field] = user[field];
        else delete mapped[field];
      }
    }
    if (typeof mapped['access_token'] === 'string') mapped['token_type'] = 'Bearer';
    if ('scope' in mapped) mapped['scope'] = spaceSeparatedScope(mapped['scope']);
    return mapped;
  };
}

/**
 * Slack:
 * - authorization at `https://slack.com/oauth/v2/authorize` with bot scopes in
 *   `scope` and user scopes in `user_scope`, both comma-separated
 *   (`scopeDelimiter: ','`); tokens from `https://slack.com/api/oauth.v2.access`;
 * - one answer holds two tokens: the bot token at the top and the user token
 *   in `authed_user` (see {@link slackTokenMapping}; choose the session's with
 *   {@link SlackOptions.token}); the token mapping and the inspector's and
 *   code-exchange handler's redaction cover the nested one too, and the
 *   handler keeps `incoming_webhook` (its `url` posts to a channel) on the server;
 * - errors come with HTTP 200 as `{ ok: false, error }`, read as the OAuth error;
 * - tokens do not expire unless the app turned on token rotation: then each
 *   token has its own `refresh_token` and `expires_in` (12 hours);
 * - client authentication with HTTP Basic (Slack prefers it to body parameters);
 * - no discovery, no RFC 7009 revocation (Slack revokes with `auth.revoke`).
 *
 * @example
 * const bot = slack({ userScopes: ['search:read'] });     // session: the bot token
 * const user = slack({ token: 'user', userScopes: ['search:read'] }); // session: the user token
 */
export function slack(options: SlackOptions = {}): ProviderConfig {
  const base = baseUrl(options.baseUrl ?? 'https://slack.com', 'slack: baseUrl');
  const token = options.token ?? 'bot';
  if (token !== 'bot' && token !== 'user') throw new TypeError(`slack: token must be 'bot' or 'user', got ${JSON.stringify(token)}`);
  const userScopes = options.userScopes ?? [];
  for (const scope of userScopes) {
    if (typeof scope !== 'string' || !/^[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]+$/.test(scope)) throw new TypeError(`slack: invalid user scope ${JSON.stringify(scope)}`);
  }
  return {
    authorizationEndpoint: `${base}/oauth/v2/authorize`,
    tokenEndpoint: `${base}/api/oauth.v2.access`,
    grantTypesSupported: ['authorization_code', 'refresh_token'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post'],
    quirks: {
      scopeDelimiter: ',',
      // The webhook URL of the `incoming-webhook` scope posts to a channel: a credential of the server's.
      serverOnlyFields: ['incoming_webhook'],
      mapTokenResponse: slackTokenMapping(token),
      ...(userScopes.length > 0 ? { authorizationParams: { user_scope: userScopes.join(',') } } : {}),
    },
  };
}
