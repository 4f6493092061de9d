/**
 * The single-page app of `spaCodeGrant.ts` with the provider's endpoints
 * written out (no discovery) and no `openid` scope (no ID token asked for):
 * what an app that needs neither bundles. Bundled by `bench/bundleSize.ts`
 * and by the size budget test.
 */
import { createBrowserAuth } from '../../src/browser/index.js';

const auth = createBrowserAuth({
  provider: {
    issuer: 'https://id.example',
    authorizationEndpoint: 'https://id.example/authorize',
    tokenEndpoint: 'https://id.example/token',
    revocationEndpoint: 'https://id.example/revoke',
  },
  client: { clientId: 'spa', redirectUri: `${location.origin}/callback`, scopes: ['offline_access'] },
});

document.querySelector('#login')?.addEventListener('click', () => void auth.login());
document.querySelector('#logout')?.addEventListener('click', () => void auth.logout());
auth.onTokenChange((tokens) => {
  document.body.dataset['signedIn'] = String(tokens !== undefined);
});
if (location.pathname === '/callback') await auth.handleCallback();
const response = await fetch('/api/me', { headers: { Authorization: `Bearer ${await auth.getAccessToken()}` } });
console.log(await response.json());
