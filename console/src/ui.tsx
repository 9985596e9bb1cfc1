// Shared pieces of every page: the client context, a loader hook with loading/error states, times
// shown relative with the absolute one beside it, form fields that show the daemon's `detail`.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { describe, isUnreachable, type Kheish, needsSignIn } from './api.ts';

export interface AppContext {
  client: Kheish;
  /** Tells the shell the daemon did not answer (it shows the "not answering" panel). */
  reportDown(err: unknown): void;
  /** Tells the shell the token was refused (it shows the sign-in screen). */
  reportSignIn(): void;
}

export const Ctx = createContext<AppContext>(null as never);
export const useApp = () => useContext(Ctx);

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads on mount and when `deps` change; `every` ms, refreshes quietly (no spinner). */
export function useLoad<T>(load: (k: Kheish) => Promise<T>, deps: unknown[] = [], every = 0): Loaded<T> {
  const app = useApp();
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const gen = useRef(0);
  const run = useCallback(
    (quiet: boolean) => {
      const mine = ++gen.current;
      if (!quiet) setState((s) => ({ ...s, loading: true }));
      load(app.client).then(
        (data) => mine === gen.current && setState({ data, loading: false }),
        (error) => {
          if (mine !== gen.current) return;
          if (needsSignIn(error)) app.reportSignIn();
          else if (isUnreachable(error)) app.reportDown(error);
          setState((s) => ({ data: s.data, error, loading: false }));
        },
      );
    },
    [app, ...deps],
  );
  useEffect(() => {
    run(false);
    if (!every) return;
    const t = setInterval(() => run(true), every);
    return () => clearInterval(t);
  }, [run, every]);
  return { ...state, reload: () => run(false) } as Loaded<T>;
}

/** Renders loading, error or the content. */
export function Async<T>(props: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { state } = props;
  if (state.data === undefined && state.loading) return <Loading />;
  if (state.data === undefined) return <ErrorNote error={state.error} retry={state.reload} />;
  return (
    <>
      {state.error !== undefined && <ErrorNote error={state.error} retry={state.reload} />}
      {props.children(state.data)}
    </>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {props.label ?? 'Loading…'}
    </p>
  );
}

export function ErrorNote(props: { error: unknown; retry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <span>{describe(props.error)}</span>
      {props.retry && (
        <button type="button" class="link" onClick={props.retry}>
          Retry
        </button>
      )}
    </div>
  );
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function relative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(diff) >= size || unit === 'second') return rtf.format(Math.round(diff / size), unit);
  }
  return '';
}

/** "3 minutes ago", with the exact time as text beside it for screen readers and hover. */
export function Time(props: { ms: number | null | undefined }) {
  if (props.ms === null || props.ms === undefined) return <span class="muted">—</span>;
  const abs = new Date(props.ms);
  return (
    <time dateTime={abs.toISOString()} title={abs.toLocaleString()}>
      {relative(props.ms)} <span class="abs">({abs.toLocaleString()})</span>
    </time>
  );
}

export function Badge(props: { value: string }) {
  return (
    <span class={`badge badge-${props.value.replace(/[^a-z_]/g, '')}`}>
      {props.value.replaceAll('_', ' ')}
    </span>
  );
}

/** A labelled input with the daemon's complaint about it, tied together for assistive tech. */
export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${props.error ? ' has-error' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !props.error && (
        <small id={`${props.id}-hint`} class="muted">
          {props.hint}
        </small>
      )}
      {props.error && (
        <small id={`${props.id}-error`} class="field-error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** aria attributes an input inside <Field> takes. */
export const describedBy = (id: string, error?: string) => ({
  id,
  'aria-invalid': error ? true : undefined,
  'aria-describedby': error ? `${id}-error` : `${id}-hint`,
});

/** The <option>s of a session picker: a blank "Choose a session", then every session by id. */
export function SessionOptions(props: { sessions: { session_id: string }[] | undefined }) {
  return (
    <>
      <option value="">Choose a session</option>
      {(props.sessions ?? []).map((s) => (
        <option key={s.session_id} value={s.session_id}>
          {s.session_id}
        </option>
      ))}
    </>
  );
}

/** Under a form: the daemon's complaint about the form as a whole, and the note once it is done. */
export function FormOutcome(props: { error?: string; done?: string }) {
  return (
    <>
      {props.error && <ErrorNote error={new Error(props.error)} />}
      {props.done && (
        <p role="status" class="ok">
          {props.done}
        </p>
      )}
    </>
  );
}

/** The write-only value of a secret slot: a password input inside <Field id="secret-value">. */
export function SecretValueField(props: {
  value: string;
  error?: string;
  hint?: string;
  onInput: (value: string) => void;
}) {
  return (
    <Field id="secret-value" label="Value" error={props.error} hint={props.hint}>
      <input
        {...describedBy('secret-value', props.error)}
        type="password"
        autoComplete="off"
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </Field>
  );
}

/**
 * A text filter applied when committed (Enter or leaving the field), not at every keystroke. What
 * is typed lives in the field's own state: a list that refreshes meanwhile re-renders the page, and
 * a field bound straight to the applied value would put the old text back under the cursor.
 */
export function CommitInput(props: {
  value: string;
  onCommit: (value: string) => void;
  id?: string;
  size?: number;
  placeholder?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}) {
  const { value, onCommit, ...attributes } = props;
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <input
      {...attributes}
      value={draft}
      onInput={(e) => setDraft(e.currentTarget.value)}
      onChange={(e) => onCommit(e.currentTarget.value)}
    />
  );
}

export function Json(props: { value: unknown }) {
  // Wraps instead of scrolling: a scrolling block would need keyboard focus of its own.
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}

export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {props.title}
      </h1>
      <div class="actions">{props.children}</div>
    </header>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty muted">{props.children}</p>;
}

/** A list shaped `{items}` or a bare array, as the API returns one or the other. */
export function items<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  const v = value as { items?: T[]; data?: T[] } | undefined;
  return v?.items ?? v?.data ?? [];
}
