/**
 * The vanilla example's page as React components on `oauth-machines/react`:
 * `useAuth()` for the status, the user, the typed error and the commands,
 * `useAccessToken()` and `useAuthSelector()` for what the page shows of the
 * machine (its state and tags, the tokens redacted). Each component
 * re-renders on exactly what it reads, including changes made in another
 * tab. On `/protected` a `RequireAuth` guard sends a signed-out visitor to
 * the provider's login.
 */
import type { ReactNode } from 'react';
import type { LoginOptions } from 'oauth-machines/browser';
import { RequireAuth, useAccessToken, useAuth, useAuthSelector } from 'oauth-machines/react';
import { expiresText, forgedCallbackUrl, redact, stateText, tagsText, tokensOf } from '../examplePage.js';

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

function Machine(): ReactNode {
  // For the developer reading the page: the machine's state, as the vanilla example shows it. The UI's own
  // decisions read useAuth().status, which comes from the tags. (Strings: each re-renders only when it changes.)
  const state = useAuthSelector(stateText);
  const tags = useAuthSelector(tagsText);
  return (
    <>
      <Field label="state" id="state">{state}</Field>
      <Field label="tags" id="tags">
        {tags === '' ? null : tags.split(' ').map((tag) => <span key={tag}>{tag}</span>)}
      </Field>
    </>
  );
}

function Tokens(): ReactNode {
  const accessToken = useAccessToken();
  const tokens = useAuthSelector(tokensOf);
  return (
    <>
      <Field label="access token" id="token">{redact(accessToken)}</Field>
      <Field label="expires" id="expires">{expiresText(tokens)}</Field>
      <Field label="refresh token" id="refresh-token">{redact(tokens?.refreshToken)}</Field>
    </>
  );
}

/** Shown only to a signed-in user: the guard logs a visitor in first. */
function Profile(): ReactNode {
  const { user } = useAuth();
  return (
    <p id="profile" data-testid="profile">
      Protected page for <strong>{user?.sub ?? 'a user without an ID token'}</strong>
    </p>
  );
}

/** The whole page. Commands go through `useAuth()`; Refresh asks the machine directly, as a UI may. */
export function App(props: { loginOptions?: LoginOptions }): ReactNode {
  const { status, user, error, login, logout, auth } = useAuth();
  const forge = (event: { preventDefault(): void }): void => {
    event.preventDefault();
    location.assign(forgedCallbackUrl(location.href));
  };

  return (
    <main data-renderer="react">
      <h1>oauth-machines · React SPA</h1>
      <p>
        <button id="login" data-testid="login" type="button" onClick={() => void login(props.loginOptions)}>
          Login
        </button>
        {/* getAccessToken() renews only when due; the button asks the machine to renew now. */}
        <button id="refresh" data-testid="refresh" type="button" onClick={() => auth.actor.send({ type: 'REFRESH' })}>
          Refresh
        </button>
        <button id="logout" data-testid="logout" type="button" onClick={() => void logout()}>
          Logout
        </button>
      </p>
      {error === undefined ? null : (
        <p id="error" data-testid="error" data-code={error.code} role="alert">
          {error.code}
          {error.description ? `: ${error.description}` : ''}
        </p>
      )}
      {location.pathname === '/protected' ? (
        <RequireAuth fallback={<p id="guard">Signing in…</p>} loginOptions={props.loginOptions}>
          <Profile />
        </RequireAuth>
      ) : null}
      <dl>
        <Field label="status" id="status">{status}</Field>
        <Field label="user" id="user">{user?.sub ?? '—'}</Field>
        <Machine />
        <Tokens />
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
