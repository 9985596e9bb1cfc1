// The shell: sign-in when the daemon asks for a token, the "runtime is not answering" panel when it
// does not answer, navigation, theme, and the first-launch choice between the wizard and the chat.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  describe,
  forgetToken,
  isUnreachable,
  makeClient,
  needsSignIn,
  saveToken,
  storedToken,
} from './api.ts';
import { PAGES } from './pages/index.ts';
import { go, href, useRoute } from './router.ts';
import { type AppContext, Ctx, describedBy, Field, items, Loading, useApp } from './ui.tsx';

type Phase = 'checking' | 'sign-in' | 'down' | 'ready';
type Theme = 'system' | 'light' | 'dark';

export function App() {
  const [token, setToken] = useState(storedToken);
  const client = useMemo(() => makeClient(token), [token]);
  const [phase, setPhase] = useState<Phase>('checking');
  const [down, setDown] = useState(false);
  const [problem, setProblem] = useState<unknown>();
  const check = async () => {
    try {
      await client.runtime.status();
      setDown(false);
      setPhase('ready');
    } catch (err) {
      setProblem(err);
      if (needsSignIn(err)) setPhase('sign-in');
      else setPhase(isUnreachable(err) ? 'down' : 'ready');
    }
  };
  useEffect(() => {
    check();
  }, [client]);
  // While the daemon is down, look again every 2 s: the panel goes away by itself.
  useEffect(() => {
    if (phase !== 'down' && !down) return;
    const t = setInterval(
      () =>
        client.runtime.health().then(
          (p) => {
            if (p.ok) check();
          },
          () => undefined,
        ),
      2000,
    );
    return () => clearInterval(t);
  });
  const ctx: AppContext = useMemo(
    () => ({ client, reportDown: () => setDown(true), reportSignIn: () => setPhase('sign-in') }),
    [client],
  );
  if (phase === 'checking') return <Loading label="Connecting to the runtime…" />;
  if (phase === 'sign-in')
    return (
      <SignIn
        refused={token !== undefined}
        onToken={(t, remember) => {
          saveToken(t, remember);
          setToken(t);
          setPhase('checking');
        }}
      />
    );
  if (phase === 'down') return <DownPanel error={problem} retry={check} />;
  return (
    <Ctx.Provider value={ctx}>
      <Shell
        down={down}
        retry={check}
        signOut={
          token
            ? () => {
                forgetToken();
                setToken(undefined);
              }
            : undefined
        }
      />
    </Ctx.Provider>
  );
}

function DownPanel(props: { error: unknown; retry(): void }) {
  return (
    <main class="down-panel">
      <h1>The runtime is not answering</h1>
      <p role="alert">{describe(props.error)}. The console checks again every 2 seconds.</p>
      <button type="button" class="primary" onClick={props.retry}>
        Retry
      </button>
    </main>
  );
}

function SignIn(props: { refused: boolean; onToken(token: string, remember: boolean): void }) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState(props.refused ? 'the daemon did not accept that token' : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return setError('enter the token');
    try {
      await makeClient(token.trim()).runtime.status();
      props.onToken(token.trim(), remember);
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <main class="sign-in">
      <form class="card form" onSubmit={submit}>
        <h1>Sign in to Kheish Air</h1>
        <p class="muted">
          This daemon has control-plane auth on. Paste its admin token (or the read-only one to look without
          changing anything).
        </p>
        <Field id="token" label="Bearer token" error={error}>
          <input
            {...describedBy('token', error)}
            type="password"
            autoComplete="current-password"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </Field>
        <label class="option">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />{' '}
          Remember on this computer
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem('kheish-air.theme') as Theme) ?? 'system',
  );
  useEffect(() => {
    localStorage.setItem('kheish-air.theme', theme);
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
  return [theme, setTheme];
}

function Shell(props: { down: boolean; retry(): void; signOut?: () => void }) {
  const route = useRoute();
  // Re-renders the page every 30 s so relative times ("2 minutes ago") stay true.
  const [, setClock] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setClock(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const [theme, setTheme] = useTheme();
  const main = useRef<HTMLElement>(null);
  useFirstLaunch(route.page);
  const page = PAGES.find((p) => p.id === route.page);
  // Moves focus to the new page's heading so keyboard and screen-reader users land on it.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('#page-title')?.focus();
  }, [route.page]);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href('chat')}>
          Kheish Air
        </a>
        <div class="topbar-actions">
          <label>
            <span class="sr-only">Theme</span>
            <select
              value={theme}
              onChange={(e) => setTheme(e.currentTarget.value as Theme)}
              aria-label="Theme"
            >
              <option value="system">System theme</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          {props.signOut && (
            <button type="button" onClick={props.signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <nav class="sidebar" aria-label="Main">
        <ul>
          {PAGES.filter((p) => !p.hidden).map((p) => (
            <li key={p.id}>
              <a href={href(p.id)} aria-current={p.id === route.page ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        {props.down && (
          <div class="down-banner" role="alert">
            <strong>The runtime is not answering.</strong> Views show what they last loaded.{' '}
            <button type="button" onClick={props.retry}>
              Retry
            </button>
          </div>
        )}
        {page ? <page.component key={page.id} args={route.args} /> : <Loading />}
      </main>
    </div>
  );
}

/** With no page in the address: the wizard on a daemon without routes or sessions, else the chat. */
function useFirstLaunch(page: string) {
  const ctx = useApp();
  useEffect(() => {
    if (page) return;
    Promise.all([ctx.client.runtime.routes(), ctx.client.sessions.list({ limit: 1 })]).then(
      ([routes, sessions]) => {
        const first = items<{ session_id: string }>(sessions)[0]?.session_id;
        if (routes.length === 0 || !first) go('setup');
        else go('chat', first);
      },
      (err) => (isUnreachable(err) ? ctx.reportDown(err) : go('chat')),
    );
  }, [page, ctx]);
}
