/**
 * Baseline: the same single-page app written with oauth4webapi's functions —
 * discovery, PKCE and state kept in sessionStorage, the redirect, the
 * callback's validation and code exchange, a refresh when expired, logout.
 */
import * as oauth from 'oauth4webapi';

const issuer = new URL('https://id.example');
const client: oauth.Client = { client_id: 'spa' };
const redirectUri = `${location.origin}/callback`;
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer));

async function login(): Promise<void> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem('pending', JSON.stringify({ verifier, state }));
  const url = new URL(as.authorization_endpoint ?? '');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid offline_access');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  location.assign(url.href);
}

function store(tokens: oauth.TokenEndpointResponse): void {
  const expiresAt = Date.now() + (tokens.expires_in ?? 0) * 1000;
  sessionStorage.setItem('tokens', JSON.stringify({ ...tokens, expiresAt }));
  document.body.dataset['signedIn'] = 'true';
}

async function accessToken(): Promise<string> {
  const held = JSON.parse(sessionStorage.getItem('tokens') ?? 'null') as (oauth.TokenEndpointResponse & { expiresAt: number }) | null;
  if (held === null) throw new Error('login required');
  if (Date.now() < held.expiresAt || held.refresh_token === undefined) return held.access_token;
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), held.refresh_token);
  const renewed = await oauth.processRefreshTokenResponse(as, client, response);
  store(renewed);
  return renewed.access_token;
}

document.querySelector('#login')?.addEventListener('click', () => void login());
document.querySelector('#logout')?.addEventListener('click', () => sessionStorage.removeItem('tokens'));
if (location.pathname === '/callback') {
  const pending = JSON.parse(sessionStorage.getItem('pending') ?? '{}') as { verifier: string; state: string };
  sessionStorage.removeItem('pending');
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), pending.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, pending.verifier);
  store(await oauth.processAuthorizationCodeResponse(as, client, response));
  history.replaceState(null, '', '/');
}
const response = await fetch('/api/me', { headers: { Authorization: `Bearer ${await accessToken()}` } });
console.log(await response.json());
