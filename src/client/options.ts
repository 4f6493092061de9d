/**
 * The options of `createOAuthClient` — `{ grant, provider, client, services,
 * options }`, plus the façade-only `inspect` — checked up front: a
 * misconfigured client fails at construction with a `TypeError` that says
 * what to fix, never later inside a redirect.
 */
import * as v from 'valibot';
import type { GrantOptions } from '../../machines/types.js';
import type { Services } from '../services/types.js';
import {
  ClientSchema,
  OptionsSchema,
  ProviderSchema,
  ServicesSchema,
  checkClientAuth,
  checkGrantOptions,
  checkProviderForGrant,
  configError,
  needsDiscovery,
  parseConfig,
  type AnyClientConfig,
  type ClientConfigFor,
  type OAuthGrant,
  type ProviderOption,
} from './config.js';
import type { InspectOption } from './core.js';

export type { OAuthGrant, ProviderOption } from './config.js';

/** Options of {@link createOAuthClient}: the one configuration shape, with the grant it drives. */
export interface OAuthClientOptions<G extends OAuthGrant = OAuthGrant> {
  grant: G;
  /** Where the provider is: a `ProviderConfig`, or `{ issuer }` for discovery. */
  provider: ProviderOption;
  /** What the application registered: `clientId`, `redirectUri` (code grant), `clientSecret` (confidential), `scopes`, … */
  client: ClientConfigFor<G>;
  /**
   * Any subset of the services; the defaults fill the rest (storage:
   * `sessionStorage` in a browser, so a login survives its redirect; memory elsewhere).
   */
  services?: Partial<Services>;
  /** Machine options: storage key, refresh skew, callback time to live, retries, restore. */
  options?: GrantOptions;
  /** Façade only: any XState inspection observer, passed to `createActor` (the inspector, `createFlowRecorder()`). */
  inspect?: InspectOption;
}

const GRANTS = ['authorization_code', 'client_credentials', 'device_code'] as const;

const OAuthClientOptionsSchema = v.strictObject({
  grant: v.picklist(GRANTS, (issue) => `unknown grant ${JSON.stringify(issue.input)}; expected one of ${GRANTS.join(', ')}`),
  provider: ProviderSchema,
  client: ClientSchema,
  services: v.optional(ServicesSchema),
  options: v.optional(OptionsSchema),
  inspect: v.optional(v.union([v.function(), v.object({})], 'inspect must be an observer or a function')),
});

const ENTRY = 'createOAuthClient';

/** Checks the options; throws a `TypeError` naming the first problem (an unknown key with the known one it is close to). */
export function validateClientOptions(options: OAuthClientOptions): void {
  parseConfig(ENTRY, OAuthClientOptionsSchema, options);
  const { grant, provider, options: grantOptions } = options;
  const client = options.client as AnyClientConfig;
  checkClientAuth(
    ENTRY,
    client,
    // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
    grant === 'client_credentials' ? 'the client_credentials grant needs a clientSecret in client (confidential clients only, RFC 6749 §4.4)' : undefined,
  );
  if (grant === 'authorization_code' && client.redirectUri === undefined) configError(ENTRY, 'the authorization_code grant needs a redirectUri in client');
  if (client.resource !== undefined && grant !== 'client_credentials') {
    configError(ENTRY, 'client.resource is supported by the client_credentials grant only');
  }
  checkGrantOptions(ENTRY, grantOptions);
  if (!needsDiscovery(provider)) checkProviderForGrant(provider, grant, (message) => configError(ENTRY, message));
}
