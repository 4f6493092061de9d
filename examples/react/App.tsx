/**
 * The vanilla example's page as React components. The UI reads the auth
 * machine through `@xstate/react`'s `useSelector` on `auth.actor` — state
 * name, tags, tokens, the machine's error — so it re-renders on exactly the
 * changes it shows, including those made in another tab. Commands go through
 * the promise API (`login`, `logout`, `handleCallback`) or, for
 * Refresh, straight to the actor as an event.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useSelector } from '@xstate/react';
import { isOAuthError, type BrowserAuth, type LoginOptions, type TokenSet } from '../../src/browser/index.js';

type AuthSnapshot = ReturnType<BrowserAuth['actor']['getSnapshot']>;

/** An error as the page shows it: the typed code, and a sentence. */
interface ShownError {
  code: string;
  text: string;
}

function shownError(error: unknown): ShownError {
  if (isOAuthError(error)) return { code: error.code, text: `${error.code}${error.description ? `: ${error.description}` : ''}` };
  if (error instanceof Error) return { code: 'unexpected', text: `${error.name}: ${error.message}` };
  return { code: 'unexpected', text: String(error) };
}

/** Tokens never go on screen or into a log whole: enough to tell two apart, not enough to use one. */
function redact(token: string | undefined): string {
  if (token === undefined) return '—';
  return token.length <= 8 ? '•'.repeat(token.length) : `${token.slice(0, 4)}…${token.slice(-2)} (${token.length} chars)`;
}

function isCallback(): boolean {
  const params = new URLSearchParams(location.search);
  return params.has('state') && (params.has('code') || params.has('error'));
}

const selectState = (snapshot: AuthSnapshot): string =>
  typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
// A string, so the default === comparison re-renders only when the set of tags really changed.
const selectTags = (snapshot: AuthSnapshot): string => [...snapshot.tags].sort().join(' ');
const selectTokens = (snapshot: AuthSnapshot): TokenSet | undefined => (snapshot.hasTag('signedIn') ? snapshot.context.tokens : undefined);
const selectMachineError = (snapshot: AuthSnapshot): ShownError | undefined => {
  const error = snapshot.hasTag('error') ? snapshot.context.error : undefined;
  return error === undefined ? undefined : { code: error.code, text: `${error.code}${error.description ? `: ${error.description}` : ''}` };
};

function Field(props: { label: string; id: string; children: ReactNode }): ReactNode {
  return (
    <>
      <dt>{props.label}</dt>
      <dd id={props.id} data-testid={props.id} className={props.id === 'tags' ? 'tags' : undefined}>
        {props.children}
      </dd>
    </>
  );
}

function Tokens(props: { tokens: TokenSet | undefined }): ReactNode {
  const { tokens } = props;
  const expires = tokens === undefined ? '—' : tokens.expiresAt === undefined ? 'never' : new Date(tokens.expiresAt).toISOString();
  return (
    <>
      <Field label="access token" id="token">{redact(tokens?.accessToken)}</Field>
      <Field label="expires" id="expires">{expires}</Field>
      <Field label="refresh token" id="refresh-token">{redact(tokens?.refreshToken)}</Field>
    </>
  );
}

/** The whole page for one `BrowserAuth` (created once, outside React: it outlives any render). */
export function App(props: { auth: BrowserAuth; loginOptions?: LoginOptions }): ReactNode {
  const { auth, loginOptions } = props;
  const state = useSelector(auth.actor, selectState);
  const tags = useSelector(auth.actor, selectTags);
  const tokens = useSelector(auth.actor, selectTokens);
  const machineError = useSelector(auth.actor, selectMachineError);
  const [error, setError] = useState<ShownError | undefined>(undefined);

  useEffect(() => {
    if (!isCallback()) return;
    // StrictMode runs this effect twice: both calls share one code exchange (handleCallback dedupes the URL).
    let current = true;
    auth.handleCallback().catch((failure: unknown) => {
      if (current) setError(shownError(failure));
    });
    return () => {
      current = false;
    };
  }, [auth]);

  const shown = error ?? machineError;
  const login = (): void => {
    setError(undefined);
    auth.login(loginOptions).catch((failure: unknown) => setError(shownError(failure)));
  };
  const logout = (): void => {
    setError(undefined);
    auth.logout().catch((failure: unknown) => setError(shownError(failure)));
  };
  const forge = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    const forged = new URL(location.href);
    forged.search = '?code=forged-code&state=forged-state';
    location.assign(forged.href);
  };

  return (
    <main data-renderer="react">
      <h1>oauth-machines · React SPA</h1>
      <p>
        <button id="login" data-testid="login" type="button" onClick={login}>
          Login
        </button>
        {/* The promise API refreshes only when needed; the button asks the machine directly, as a UI may. */}
        <button id="refresh" data-testid="refresh" type="button" onClick={() => auth.actor.send({ type: 'REFRESH' })}>
          Refresh
        </button>
        <button id="logout" data-testid="logout" type="button" onClick={logout}>
          Logout
        </button>
      </p>
      {shown === undefined ? null : (
        <p id="error" data-testid="error" data-code={shown.code} role="alert">
          {shown.text}
        </p>
      )}
      <dl>
        <Field label="state" id="state">{state}</Field>
        <Field label="tags" id="tags">
          {tags === '' ? null : tags.split(' ').map((tag) => <span key={tag}>{tag}</span>)}
        </Field>
        <Tokens tokens={tokens} />
      </dl>
      <p>
        <a id="forge" data-testid="forge" href="#" onClick={forge}>
          Try a forged callback
        </a>{' '}
        (a code and state this tab never asked for)
      </p>
    </main>
  );
}
