/**
 * What the two redirect grants (authorization code, legacy implicit) share by
 * name: the actor that prepares, stores and opens the authorization request,
 * and the guards and actions their `redirecting` and `awaitingCallback`
 * states name. The grants differ in the `response_type`, in how a callback is
 * judged ({@link CallbackJudge}) and in what `exchanging` does; each machine
 * spreads `redirectGrantImplementations(itsJudge)` into its `setup()` and
 * writes those states in its own chart.
 */
import { assign, fromPromise } from 'xstate';
import { OAuthError } from '../src/errors.js';
import { authorizationRequestParams, buildAuthorizationUrl, buildPushedAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
import { pushAuthorizationRequest } from '../src/protocol/operations.js';
import { pushesAuthorizationRequests } from '../src/protocol/pushedAuthorization.js';
import { usesRequestObject } from '../src/protocol/providerRules.js';
import { parseCallback } from '../src/protocol/callback.js';
import { createPkce, nopkce } from '../src/protocol/pkce.js';
import { assertCodeExchangeParams } from '../src/protocol/tokenRequest.js';
import { createNonce, createState } from '../src/protocol/random.js';
import type { LifecycleChildren } from './lifecycle.js';
import { pendingLoginKey, readSession, removeSession, writeSession, type SessionBlob } from './persistence.js';
import { runtimeOf, type GrantContext, type GrantEvent, type GrantKind, type LoginRequest, type PendingAuthorization, type WithRuntime } from './types.js';

export interface PrepareInput extends WithRuntime {
  grant: GrantKind;
  login: LoginRequest | undefined;
  /** `code` here; the legacy implicit grant asks for `token`. */
  responseType: 'code' | 'token';
}

/** A prepared authorization request. */
export interface PreparedAuthorization {
  pending: PendingAuthorization;
  authorizationUrl: string;
}

/**
 * An authorization request made but not yet sent: its pending authorization, its parameters, the URL
 * that carries them, and whether it is pushed first (RFC 9126). Data only: it sits in context while
 * `redirecting`.
 */
export interface AuthorizationRequest {
  pending: PendingAuthorization;
  /** The authorization request's parameters, in order (RFC 6749 §4.1.1). */
  params: [string, string][];
  /** The authorization endpoint with `params` in its query. */
  authorizationUrl: string;
  /** Pushed to the server before the user agent is sent (RFC 9126), which then gets only the `request_uri`. */
  push: boolean;
  /** What the server answered to the push (RFC 9126 §2.2), once pushed. */
  pushed?: { requestUri: string; expiresAt: number };
  /** Pushes sent for this request: an expired `request_uri` is pushed again once. */
  pushes?: number;
}

/**
 * Creates state, PKCE and (for `openid`) a nonce and the authorization request's parameters, and
 * decides whether the request is pushed (RFC 9126: always when the provider requires it, else with
 * `options.pushedAuthorizationRequests`). Sends nothing and stores nothing.
 */
export async function createAuthorizationRequest(input: PrepareInput): Promise<AuthorizationRequest> {
  const { provider, client, services, options } = runtimeOf(input);
  const redirectUri = client.redirectUri;
  // RFC 9700 §4.1.3: the redirect URI is sent, and later compared, exactly as registered.
  if (redirectUri === undefined || redirectUri === '') throw new TypeError('client.redirectUri is required for a redirect grant');
  const scopes = input.login?.scopes ?? client.scopes ?? [];
  // The implicit grant's request goes in the URL: RFC 9126 pushes code requests only here.
  const push = input.responseType === 'code' && pushesAuthorizationRequests(provider, options.pushedAuthorizationRequests);
  const state = createState(services.crypto);
  // OIDC Core §3.1.2.1: a nonce binds the ID token to this request.
  const nonce = scopes.includes('openid') ? createNonce(services.crypto) : undefined;
  // The implicit grant has no code to bind, so no PKCE (RFC 7636 §1 covers the code flow only); a provider whose
  // profile says it does not do PKCE gets none either (an explicit opt-out, `quirks.pkce: 'unsupported'`).
  const withPkce = input.responseType === 'code' && provider.quirks?.pkce !== 'unsupported';
  const pkce = withPkce
    ? await createPkce(services.crypto, { method: client.pkceMethod ?? 'S256', encoding: provider.quirks?.pkceChallengeEncoding ?? 'base64url' })
    : undefined;
  // Refused here, before the user leaves: the exchange would refuse them after the consent.
  if (input.login?.tokenParams !== undefined) assertCodeExchangeParams(input.login.tokenParams);
  const urlOptions: Parameters<typeof buildAuthorizationUrl>[2] = {
    state,
    codeChallenge: pkce?.challenge ?? nopkce,
    codeChallengeMethod: pkce?.method ?? 'S256',
    scopes,
    redirectUri,
    responseType: input.responseType,
  };
  if (nonce !== undefined) urlOptions.nonce = nonce;
  if (input.login?.extraParams !== undefined) urlOptions.extraParams = input.login.extraParams;
  // RFC 9449 §10: a new login gets a new key pair, and the code is bound to its thumbprint.
  const dpop = runtimeOf(input).dpop;
  if (dpop !== undefined && input.responseType === 'code') urlOptions.dpopJkt = await dpop.renew(provider.dpopSigningAlgValuesSupported, services.crypto);
  const params = authorizationRequestParams(provider, client, urlOptions);
  const builtUrl = buildAuthorizationUrl(provider, client, urlOptions);
  // RFC 9101: the same request, signed, when the client asks or the provider requires it.
  // The signing code and `jose` load only then (a chunk of their own in a split bundle).
  const authorizationUrl = usesRequestObject(provider, client)
    ? await (await import('../src/protocol/requestObject.js')).signAuthorizationRequest({ provider, client, services }, builtUrl)
    : builtUrl;
  const now = services.clock.now();
  const pending: PendingAuthorization = {
    state,
    // The implicit grant redeems no code; a code flow without PKCE keeps the "no verifier" sentinel.
    codeVerifier: pkce?.verifier ?? (input.responseType === 'code' ? null : ''),
    redirectUri,
    scopes,
    createdAt: now,
    expiresAt: now + options.callbackTtlMs,
  };
  if (nonce !== undefined) pending.nonce = nonce;
  if (provider.issuer !== undefined) pending.issuer = provider.issuer;
  if (input.login?.appState !== undefined) pending.appState = input.login.appState;
  if (input.login?.returnTo !== undefined) pending.returnTo = input.login.returnTo;
  if (input.login?.tokenParams !== undefined) pending.tokenParams = { ...input.login.tokenParams };
  return { pending, params, authorizationUrl, push };
}

/** What `push authorization request` takes: the request and the grant. */
export interface PushInput extends WithRuntime {
  request: AuthorizationRequest;
}

/** RFC 9126 §2: pushes the request's parameters; resolves with the `request_uri` and its end. */
export async function pushAuthorizationRequestOf(input: PushInput, signal: AbortSignal): Promise<{ requestUri: string; expiresAt: number }> {
  const { provider, client, services } = runtimeOf(input);
  return pushAuthorizationRequest({ provider, client, services, signal, params: input.request.params });
}

/** What `open authorization request` takes: the grant and the request, pushed or not. */
export interface OpenInput extends WithRuntime {
  grant: GrantKind;
  request: AuthorizationRequest;
}

/**
 * Stores the pending authorization, then navigates: to the authorization URL, or, for a pushed
 * request, to the authorization endpoint with its `request_uri` (RFC 9126 §4). The record is stored
 * before navigating: navigation may unload the page. A `request_uri` that expired meanwhile is not
 * sent (`request_uri_expired`): the server would refuse it after the user left.
 */
export async function openAuthorizationRequest(input: OpenInput, signal: AbortSignal): Promise<PreparedAuthorization> {
  const { provider, client, services, options } = runtimeOf(input);
  const { pending, pushed } = input.request;
  if (input.request.push && pushed === undefined) throw new TypeError('a pushed authorization request is opened before it was pushed');
  const authorizationUrl = pushed === undefined ? input.request.authorizationUrl : buildPushedAuthorizationUrl(provider, client, pushed.requestUri);
  const now = services.clock.now();
  const blob: SessionBlob = { version: 1, machine: input.grant, state: 'awaitingCallback', pending, savedAt: now };
  await writeSession(services.storage, pendingLoginKey(options.storageKey), blob);
  if (signal.aborted) {
    // Cancelled while storing: leave no pending authorization behind — this one only, never what another
    // tab or process stored meanwhile.
    await removeOwnPending(input, pending.state).catch(() => undefined);
    throw new OAuthError('aborted', { description: 'the login was cancelled', retryable: false });
  }
  // RFC 9126 §2.2: the request_uri is good until `expires_in` from the push; checked after the write, just before it is used.
  if (pushed !== undefined && services.clock.now() >= pushed.expiresAt) {
    throw new OAuthError('request_uri_expired', { description: 'the pushed authorization request expired before the user agent was sent', retryable: false });
  }
  await services.navigate?.(authorizationUrl);
  return { pending, authorizationUrl };
}

/**
 * Creates the authorization request, stores the pending authorization, then navigates, in one step:
 * the legacy implicit grant's `redirecting` (its request is never pushed). The code grant makes the
 * same steps states of its chart (creating, pushing, opening).
 */
export async function prepareAuthorization(input: PrepareInput, signal: AbortSignal): Promise<PreparedAuthorization> {
  const request = await createAuthorizationRequest(input);
  if (request.push) throw new TypeError('prepareAuthorization does not push authorization requests; the authorization code machine does');
  return openAuthorizationRequest({ ...input, request }, signal);
}


async function removeOwnPending(input: WithRuntime & { grant: GrantKind }, state: string): Promise<void> {
  const { services, options } = runtimeOf(input);
  const key = pendingLoginKey(options.storageKey);
  const stored = await readSession(services.storage, key, input.grant);
  if (stored?.state === 'awaitingCallback' && stored.pending?.state === state) await removeSession(services.storage, key);
}

/** How a grant judges a callback URL against the pending authorization; pure, so a guard and an action can both ask. */
export type CallbackJudge = (context: GrantContext, url: string) => { accepted: true } | { accepted: false; error: OAuthError };

type Args = { context: GrantContext; event: GrantEvent };

/**
 * Whether a callback is not this login's: it does not carry the pending authorization's `state`
 * (RFC 6749 §10.12), or cannot even be read. Anyone can send the user such a link, so it must not
 * end the login it does not answer (the genuine callback may still come).
 */
function callbackIsForeign(judge: CallbackJudge, context: GrantContext, url: string): boolean {
  if (context.pending === undefined) return false;
  try {
    parseCallback(url);
  } catch {
    return true;
  }
  const verdict = judge(context, url);
  return !verdict.accepted && verdict.error.code === 'state_mismatch';
}

/** The actor, guards and actions the redirect states name, for a grant's `setup()`, judging callbacks with `judge`. */
export function redirectGrantImplementations(judge: CallbackJudge) {
  return {
    actors: {
      'prepare authorization request': fromPromise<PreparedAuthorization, PrepareInput>(({ input, signal }) =>
        prepareAuthorization(input, signal),
      ),
      'create authorization request': fromPromise<AuthorizationRequest, PrepareInput>(({ input }) => createAuthorizationRequest(input)),
      'push authorization request': fromPromise<{ requestUri: string; expiresAt: number }, PushInput>(({ input, signal }) =>
        pushAuthorizationRequestOf(input, signal),
      ),
      'open authorization request': fromPromise<PreparedAuthorization, OpenInput>(({ input, signal }) => openAuthorizationRequest(input, signal)),
    },
    guards: {
      'the callback answers the pending authorization': ({ context, event }: Args) =>
        event.type === 'CALLBACK' && judge(context, event.url).accepted,
      'the callback is for another authorization': ({ context, event }: Args) =>
        event.type === 'CALLBACK' && callbackIsForeign(judge, context, event.url),
    },
    actions: {
      // Kept beside the stored session (see `pendingLoginKey`): tokens set aside by a failed renewal stay stored.
      'remember pending authorization': assign<GrantContext, GrantEvent, PreparedAuthorization, GrantEvent, never>((_, params) => ({
        pending: params.pending,
        authorizationUrl: params.authorizationUrl,
      })),
      'forget pending authorization': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>({ pending: undefined }),
      // A forged (or foreign) callback is refused and the pending authorization stays: only its own callback,
      // or its time to live, ends it.
      'refuse the foreign callback': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context, event }) => {
        const verdict = event.type === 'CALLBACK' ? judge(context, event.url) : undefined;
        const error =
          verdict === undefined || verdict.accepted
            ? new OAuthError('invalid_callback', { description: 'not a callback', retryable: false })
            : verdict.error;
        return { error: error.toJSON() };
      }),
      // A pending authorization accepts one callback: its own, refused (an error, a wrong issuer, too late), ends it too.
      'refuse the callback': assign<GrantContext, GrantEvent, undefined, GrantEvent, never>(({ context, event }) => {
        const verdict = event.type === 'CALLBACK' ? judge(context, event.url) : undefined;
        const error =
          verdict === undefined || verdict.accepted
            ? new OAuthError('invalid_callback', { description: 'not a callback', retryable: false })
            : verdict.error;
        return { pending: undefined, error: error.toJSON() };
      }),
    },
  };
}

/** The invoke ids of a redirect grant's shared actors; its `children` type extends these with its exchange. */
export type RedirectGrantChildren = LifecycleChildren & {
  prepareAuthorization: 'prepare authorization request';
  createAuthorization: 'create authorization request';
  pushAuthorization: 'push authorization request';
  openAuthorization: 'open authorization request';
};
