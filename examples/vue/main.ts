/**
 * The Vue single-page app: one `createBrowserAuth` for the page, created
 * before Vue mounts (it owns the actor, its renewal timer and the callback's
 * one code exchange), then the page. The actor exists at once: the page shows
 * `loading` until the stored session was read.
 */
import { createApp, h } from 'vue';
import { createBrowserAuth, isOAuthError } from 'oauth-machines/browser';
import { authOptionsFrom, loadConfig, loginOptionsFrom } from '../exampleConfig.js';
import { App } from './App.js';

async function main(): Promise<void> {
  const config = await loadConfig();
  const auth = createBrowserAuth(authOptionsFrom(config));
  createApp(App, { auth, loginOptions: loginOptionsFrom(config) }).mount('#root');
}

main().catch((error: unknown) => {
  // Nothing to render without a configuration: say why, with the typed code when there is one.
  const code = isOAuthError(error) ? error.code : 'unexpected';
  createApp({ render: () => h('p', { id: 'error', 'data-code': code, role: 'alert' }, String(error)) }).mount('#root');
});
