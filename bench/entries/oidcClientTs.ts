/**
 * Baseline: the same single-page app with oidc-client-ts's `UserManager` —
 * discovery, redirect login, the callback, a token for an API call
 * (renewed with the refresh token when expired), logout.
 */
import { UserManager } from 'oidc-client-ts';

const users = new UserManager({
  authority: 'https://id.example',
  client_id: 'spa',
  redirect_uri: `${location.origin}/callback`,
  scope: 'openid offline_access',
});

document.querySelector('#login')?.addEventListener('click', () => void users.signinRedirect());
document.querySelector('#logout')?.addEventListener('click', () => void users.removeUser());
users.events.addUserLoaded(() => {
  document.body.dataset['signedIn'] = 'true';
});
if (location.pathname === '/callback') await users.signinRedirectCallback();
let user = await users.getUser();
if (user?.expired) user = await users.signinSilent();
const response = await fetch('/api/me', { headers: { Authorization: `Bearer ${user?.access_token ?? ''}` } });
console.log(await response.json());
