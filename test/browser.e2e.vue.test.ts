/**
 * The Vue example (examples/vue: Vue 3 with render functions, `@xstate/vue`'s
 * `useSelector` on `auth.actor`), built by its own build script, in real
 * Chromium against oidc-provider 8 on 127.0.0.1: the suite every framework
 * example passes — login on the provider's pages with one code exchange,
 * refresh, logout, a forged callback's typed error — each shown by Vue
 * re-rendering from the actor.
 */
import { describeBrowser } from './support/browser.js';
import { useFrameworkExample } from './support/exampleSuite.js';

describeBrowser('the Vue example in Chromium against oidc-provider', () => {
  useFrameworkExample({ app: 'vue', renderer: 'vue', name: 'vue' });
});
