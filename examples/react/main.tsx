/**
 * The React single-page app: one `createBrowserAuth` for the page, created
 * before React renders (its actor must exist for `useSelector`, and with
 * discovery it exists once `ready` resolved), then the page in StrictMode.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserAuth, isOAuthError } from '../../src/browser/index.js';
import { App } from './App.js';
import { authOptionsFrom, loadConfig, loginOptionsFrom } from './config.js';

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');
const root = createRoot(container);

async function main(): Promise<void> {
  const config = await loadConfig();
  const auth = createBrowserAuth(authOptionsFrom(config));
  await auth.ready;
  root.render(
    <StrictMode>
      <App auth={auth} loginOptions={loginOptionsFrom(config)} />
    </StrictMode>,
  );
}

main().catch((error: unknown) => {
  // Nothing to render without a configuration or a provider: say why, with the typed code when there is one.
  const code = isOAuthError(error) ? error.code : 'unexpected';
  root.render(
    <p id="error" data-testid="error" data-code={code} role="alert">
      {String(error)}
    </p>,
  );
});
