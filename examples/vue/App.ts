/**
 * The example's page as a Vue 3 component, written with render functions
 * (`h`) so it needs no template compiler. It reads the auth machine through
 * `@xstate/vue`'s `useSelector` on `auth.actor` — each value a ref that
 * changes only when its selector's answer does, including changes made in
 * another tab — and decides from the machine's tags, never its state
 * names. Commands go through the promise API (`login`, `logout`,
 * `handleCallback` once mounted on the redirect page); Refresh asks the
 * machine directly, as a UI may.
 */
import { useSelector } from '@xstate/vue';
import { computed, defineComponent, h, onMounted, ref, type PropType, type VNode } from 'vue';
import { selectUser, type BrowserAuth, type LoginOptions } from 'oauth-machines/browser';
import {
  expiresText,
  forgedCallbackUrl,
  isCallbackPage,
  machineErrorOf,
  redact,
  shownError,
  stateText,
  statusText,
  tagsText,
  tokensOf,
  type ShownError,
} from '../examplePage.js';

function field(label: string, id: string, content: string | VNode[]): VNode[] {
  return [h('dt', label), h('dd', { id, 'data-testid': id, class: id === 'tags' ? 'tags' : undefined }, content)];
}

export const App = defineComponent({
  name: 'OAuthMachinesVueExample',
  props: {
    /** The page's one `createBrowserAuth`, created before the app is mounted. */
    auth: { type: Object as PropType<BrowserAuth>, required: true },
    loginOptions: { type: Object as PropType<LoginOptions>, required: false, default: undefined },
  },
  setup(props) {
    const { auth } = props;
    const state = useSelector(auth.actor, stateText);
    const tags = useSelector(auth.actor, tagsText);
    const status = useSelector(auth.actor, statusText);
    const tokens = useSelector(auth.actor, tokensOf);
    const user = useSelector(auth.actor, selectUser);
    const machineError = useSelector(auth.actor, machineErrorOf);
    // The failure of the last command the page started (a rejected login, logout or callback).
    const commandError = ref<ShownError | undefined>(undefined);
    const shown = computed(() => commandError.value ?? (machineError.value === undefined ? undefined : shownError(machineError.value)));

    const report = (failure: unknown): void => {
      commandError.value = shownError(failure);
    };
    onMounted(() => {
      // The redirect page: redeem the code once; the helper cleans the address bar.
      if (isCallbackPage(location.href)) auth.handleCallback().catch(report);
    });
    const login = (): void => {
      commandError.value = undefined;
      auth.login(props.loginOptions).catch(report);
    };
    const logout = (): void => {
      commandError.value = undefined;
      auth.logout().catch(report);
    };
    const forge = (event: Event): void => {
      event.preventDefault();
      location.assign(forgedCallbackUrl(location.href));
    };

    return () => {
      const error = shown.value;
      return h('main', { 'data-renderer': 'vue' }, [
        h('h1', 'oauth-machines · Vue SPA'),
        h('p', [
          h('button', { id: 'login', type: 'button', onClick: login }, 'Login'),
          // getAccessToken() renews only when due; the button asks the machine to renew now.
          h('button', { id: 'refresh', type: 'button', onClick: () => auth.actor.send({ type: 'REFRESH' }) }, 'Refresh'),
          h('button', { id: 'logout', type: 'button', onClick: logout }, 'Logout'),
        ]),
        error === undefined ? null : h('p', { id: 'error', 'data-code': error.code, role: 'alert' }, error.text),
        h('dl', [
          ...field('status', 'status', status.value),
          ...field('user', 'user', user.value?.sub ?? '—'),
          ...field('state', 'state', state.value),
          ...field('tags', 'tags', tags.value === '' ? [] : tags.value.split(' ').map((tag) => h('span', { key: tag }, tag))),
          ...field('access token', 'token', redact(tokens.value?.accessToken)),
          ...field('expires', 'expires', expiresText(tokens.value)),
          ...field('refresh token', 'refresh-token', redact(tokens.value?.refreshToken)),
        ]),
        h('p', [
          h('a', { id: 'forge', href: '#', onClick: forge }, 'Try a forged callback'),
          ' (a code and state this tab never asked for)',
        ]),
      ]);
    };
  },
});
