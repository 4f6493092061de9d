/**
 * The Svelte single-page app: one `createBrowserAuth` for the page, created
 * before Svelte mounts (it owns the actor, its renewal timer and the
 * callback's one code exchange), then the page. The actor exists at once:
 * the page shows `loading` until the stored session was read.
 */
import { mount } from 'svelte';
import { createBrowserAuth, isOAuthError } from 'oauth-machines/browser';
import { authOptionsFrom, loadConfig, loginOptionsFrom } from '../exampleConfig.js';
import App from './App.svelte';
import { createSession, SESSION } from './session.js';

const target = document.getElementById('root');
if (!target) throw new Error('#root is missing from index.html');

async function main(root: HTMLElement): Promise<void> {
  const config = await loadConfig();
  const auth = createBrowserAuth(authOptionsFrom(config));
  root.replaceChildren();
  mount(App, { target: root, context: new Map([[SESSION, createSession(auth, loginOptionsFrom(config))]]) });
}

main(target).catch((error: unknown) => {
  // Nothing to render without a configuration: say why, with the typed code when there is one.
  const shown = document.createElement('p');
  shown.id = 'error';
  shown.dataset['code'] = isOAuthError(error) ? error.code : 'unexpected';
  shown.setAttribute('role', 'alert');
  shown.textContent = String(error);
  target.replaceChildren(shown);
});
