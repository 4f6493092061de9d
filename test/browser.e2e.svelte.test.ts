/**
 * The Svelte example (examples/svelte: Svelte 5, `@xstate/svelte`'s
 * `useSelector` stores on `auth.actor`, compiled by esbuild-svelte), built
 * by its own build script, in real Chromium against oidc-provider 8 on
 * 127.0.0.1: the suite every framework example passes — login on the
 * provider's pages with one code exchange, refresh, logout, a forged
 * callback's typed error — each shown by Svelte from the actor's stores.
 */
import { describeBrowser } from './support/browser.js';
import { useFrameworkExample } from './support/exampleSuite.js';

describeBrowser('the Svelte example in Chromium against oidc-provider', () => {
  useFrameworkExample({ app: 'svelte', renderer: 'svelte', name: 'svelte' });
});
