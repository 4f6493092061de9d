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
import { buildAuthorizationUrl } from '../src/protocol/authorizationUrl.js';
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
 * Creates state, PKCE and (for `openid`) a nonce, builds the authorization
 * URL, stores the pending authorization, then navigates. The record is
 * stored before navigating: navigation may unload the page.
 */
export async function prepareAuthorization(input: PrepareInput, signal: AbortSignal): Promise<PreparedAuthorization> {
  const { provider, client, services, options } = runtimeOf(input);
  const redirectUri = client.redirectUri;
  // RFC 9700 §4.1.3: the redirect URI is sent, and later compared, exactly as registered.
  if (redirectUri === undefined || redirectUri === '') throw new TypeError('client.redirectUri is required for a redirect grant');
  const scopes = input.login?.scopes ?? client.scopes ?? [];
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
  const blob: SessionBlob = { version: 1, machine: input.grant, state: 'awaitingCallback', pending, savedAt: now };
  await writeSession(services.storage, pendingLoginKey(options.storageKey), blob);
  if (signal.aborted) {
    // Cancelled while storing: leave no pending authorization behind — this one only, never what another
    // tab or process stored meanwhile.
    await removeOwnPending(input, state).catch(() => undefined);
    throw new OAuthError('aborted', { description: 'the login was cancelled', retryable: false });
  }
  await services.navigate?.(authorizationUrl);
  return { pending, authorizationUrl };
}


async function removeOwnPending(input: PrepareInput, state: string): Promise<void> {
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
export type RedirectGrantChildren = LifecycleChildren & { prepareAuthorization: 'prepare authorization request' };
