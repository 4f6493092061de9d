/**
 * With `storage: 'local'`, two tabs whose refreshes overlap spend the
 * refresh token once: the tab that waited for the refresh lock adopts the
 * tokens the other tab stored. This test pinned a bug of src/browser, now
 * fixed.
 *
 * The tab that waited for the refresh lock re-reads the session as soon as
 * the lock is granted (machines/lifecycle.ts `renewOnce`). In Chromium its
 * localStorage may not show the previous holder's write yet: each renderer
 * process keeps its own copy of localStorage, updated asynchronously after
 * another process writes, and a Web Lock's release and grant travel on
 * another channel. (A bare Chromium experiment — one page writes
 * localStorage inside a lock, the page waiting for that lock reads on grant —
 * reads the old value in 25–45 % of tries.) Reading the old session, the
 * waiting tab refreshed with the rotated refresh token, oidc-provider
 * answered invalid_grant and, by RFC 9700 §4.14.2 reuse detection, revoked
 * the whole grant. src/browser/tabStorage.ts now posts every write on the
 * tabs' BroadcastChannel, flushes the channel before releasing the lock and
 * on the grant, and reads the newer (by `savedAt`) of the localStorage copy
 * and the write the channel brought.
 *
 * Same vanilla example, provider and overlap as browser.e2e.tabs.test.ts (both
 * run expectOverlappingRefreshesAdopted of test/support/spaScenario.ts);
 * many rounds, because one round misses only some of the time.
 */
import { it } from 'vitest';
import { describeBrowser } from './support/browser.js';
import { expectOverlappingRefreshesAdopted, useSpaScenario } from './support/spaScenario.js';

/** A round missed roughly one time in ten to twenty with the bug: 60 rounds make a miss all but certain should it come back. */
const ROUNDS = 60;
/** Once the bug is fixed every round runs (a few hundred ms each on a loaded machine): more than the default 20 s. */
const ROUNDS_TIMEOUT_MS = 40_000;

describeBrowser('the vanilla SPA in Chromium against oidc-provider: overlapping refreshes of two tabs on localStorage', () => {
  // Every test starts in one tab, signed out everywhere: no app storage, no provider session cookie.
  // The example's login sends no prompt=consent, which oidc-provider needs before it grants offline_access.
  const spa = useSpaScenario({
    app: 'spa-vanilla',
    tmpPrefix: 'oauth-machines-tabs-local-',
    refreshTokensForPublicClient: true,
    signOutBeforeEach: true,
  });

  it(
    'with localStorage, a tab told to refresh while the other tab is refreshing waits and adopts its tokens: one refresh request, round after round',
    () => expectOverlappingRefreshesAdopted(spa, { storage: 'local', rounds: ROUNDS }),
    ROUNDS_TIMEOUT_MS,
  );
});
