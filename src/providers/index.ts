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
