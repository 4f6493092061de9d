/**
 * The React single-page app: one `createBrowserAuth` for the page, created
 * before React renders and outside it (it owns the actor, its renewal timer
 * and the callback's one code exchange), then the page in StrictMode under
 * `oauth-machines/react`'s `AuthProvider`, which redeems the callback when
 * the page is the redirect back from the provider. The actor exists at once:
 * the page shows `loading` until the stored session was read.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserAuth, isOAuthError } from 'oauth-machines/browser';
import { AuthProvider } from 'oauth-machines/react';
import { App } from './App.js';
import { authOptionsFrom, loadConfig, loginOptionsFrom } from '../exampleConfig.js';

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
const root = createRoot(container);

async function main(): Promise<void> {
  const config = await loadConfig();
  const auth = createBrowserAuth(authOptionsFrom(config));
  root.render(
    <StrictMode>
      <AuthProvider auth={auth}>
        <App loginOptions={loginOptionsFrom(config)} />
      </AuthProvider>
    </StrictMode>,
  );
}

main().catch((error: unknown) => {
  // Nothing to render without a configuration: say why, with the typed code when there is one.
  const code = isOAuthError(error) ? error.code : 'unexpected';
  root.render(
    <p id="error" data-testid="error" data-code={code} role="alert">
      {String(error)}
    </p>,
  );
});
