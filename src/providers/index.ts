export {
  pathOfExile,
  pathOfExileUserAgent,
  PATH_OF_EXILE_USER_AGENT_PATTERN,
  poe,
  mapPoeTokenResponse,
  skyMavis,
  jsonTokenEndpoint,
  generic,
  type SkyMavisOptions,
  type JsonTokenEndpointOptions,
  type GenericProviderOptions,
} from './profiles.js';
export { github, mapGitHubTokenResponse, type GitHubOptions } from './github.js';
export { google, type GoogleOptions } from './google.js';
export {
  entraId,
  entraIdTokenIssuer,
  isEntraIssuerTemplate,
  ENTRA_MULTI_TENANT_QUIRKS,
  ENTRA_TENANT_PLACEHOLDER,
  type EntraIdOptions,
} from './entraId.js';
export { auth0, type Auth0Options } from './auth0.js';
export { keycloak, type KeycloakOptions } from './keycloak.js';
export { okta, type OktaOptions } from './okta.js';
export { discord, type DiscordOptions } from './discord.js';
export { slack, slackTokenMapping, type SlackOptions, type SlackToken } from './slack.js';
export { spotify, type SpotifyOptions } from './spotify.js';
