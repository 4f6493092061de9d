/**
 * A single-page app's whole use of the library for the authorization code
 * grant: `createBrowserAuth` from the browser entry — discovery, login,
 * the callback, a token for an API call (refreshed when due), logout.
 * Bundled by `bench/bundleSize.ts` and by the size budget test.
 */
import { createBrowserAuth } from '../../src/browser/index.js';

const auth = createBrowserAuth({
  provider: { issuer: 'https://id.example' },
  client: { clientId: 'spa', redirectUri: `${location.origin}/callback`, scopes: ['openid', 'offline_access'] },
});

document.querySelector('#login')?.addEventListener('click', () => void auth.login());
document.querySelector('#logout')?.addEventListener('click', () => void auth.logout());
auth.onTokenChange((tokens) => {
  document.body.dataset['signedIn'] = String(tokens !== undefined);
});
if (location.pathname === '/callback') await auth.handleCallback();
const response = await fetch('/api/me', { headers: { Authorization: `Bearer ${await auth.getAccessToken()}` } });
console.log(await response.json());
