// Chat on one session: the whole conversation replayed from the durable log (cursor 0), then live.
// Reconnects carry Last-Event-ID (the SDK's watch), so a daemon restart loses and repeats nothing.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PendingQuestionView, SessionSummary } from '../../../src/sdk/index.ts';
import { DaemonProblemError, describe, isUnreachable, type Kheish } from '../api.ts';
import { applyFrame, type ChatRun, type ChatState, emptyChat, isActive, type Step } from '../chat-model.ts';
import { go, href } from '../router.ts';
import {
  Async,
  Badge,
  describedBy,
  Empty,
  ErrorNote,
  Field,
  items,
  Json,
  Loading,
  PageHeader,
  Time,
  useApp,
  useLoad,
} from '../ui.tsx';
import { ApprovalButtons, QuestionForm } from './human-loop.tsx';

export function ChatPage(props: { args: string[] }) {
  const sessionId = props.args[0];
  return (
    <div class="chat-layout">
      <SessionList current={sessionId} />
      {sessionId ? (
        <Conversation key={sessionId} sessionId={sessionId} />
      ) : (
        <section>
          <PageHeader title="Chat" />
          <Empty>Pick a session or start a new one.</Empty>
        </section>
      )}
    </div>
  );
}

function SessionList(props: { current?: string }) {
  const state = useLoad((k) => k.sessions.list({ limit: 100 }), [], 5000);
  return (
    <nav class="session-list" aria-label="Sessions">
      <h2>Sessions</h2>
      <NewSession onCreated={(id) => go('chat', id)} />
      <Async state={state}>
        {(list) => (
          <ul>
            {items<SessionSummary>(list).map((s) => (
              <li key={s.session_id}>
                <a
                  href={href('chat', s.session_id)}
                  aria-current={s.session_id === props.current ? 'page' : undefined}
                >
                  {s.session_id}
                </a>{' '}
                <Badge value={String((s as any).status ?? (s as any).snapshot?.status ?? 'idle')} />
              </li>
            ))}
          </ul>
        )}
      </Async>
    </nav>
  );
}

function NewSession(props: { onCreated(id: string): void }) {
  const { client } = useApp();
  const [id, setId] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const wanted = id.trim();
      // Creating an existing id returns that session (the API is idempotent): say so instead.
      if (wanted && (await exists(client, wanted))) {
        setError(`a session named "${wanted}" already exists: pick it in the list or choose another id`);
        return;
      }
      const s = await client.sessions.create(wanted ? { session_id: wanted } : {});
      setId('');
      props.onCreated(s.session_id);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <Field id="new-session-id" label="New session id (optional)" error={error}>
        <input
          {...describedBy('new-session-id', error)}
          value={id}
          onInput={(e) => setId(e.currentTarget.value)}
        />
      </Field>
      <button type="submit" disabled={busy}>
        Start session
      </button>
    </form>
  );
}

async function exists(client: Kheish, sessionId: string): Promise<boolean> {
  try {
    await client.sessions.get(sessionId);
    return true;
  } catch (err) {
    if (err instanceof DaemonProblemError && err.status === 404) return false;
    // An id the daemon refuses outright: creating it reports why, next to the field.
    if (err instanceof DaemonProblemError && err.status === 400) return false;
    throw err;
  }
}

type Link = 'connecting' | 'live' | 'reconnecting' | 'down';

function Conversation(props: { sessionId: string }) {
  const { client } = useApp();
  const [chat, setChat] = useState<ChatState>(emptyChat);
  const [link, setLink] = useState<Link>('connecting');
  const [fatal, setFatal] = useState<unknown>();
  useEffect(() => {
    const stop = new AbortController();
    let state = emptyChat();
    let cursor = '0';
    (async () => {
      // The SDK reconnects (with Last-Event-ID) a few times; past that this loop keeps trying,
      // from the last id seen, until the page leaves the session.
      while (!stop.signal.aborted) {
        try {
          setLink('connecting');
          const frames = client.sessions.watch(props.sessionId, {
            cursor,
            signal: stop.signal,
            maxRetries: 20,
            onReconnect: () => setLink('reconnecting'),
          });
          for await (const frame of frames) {
            setLink('live');
            if (frame.id !== undefined) cursor = frame.id;
            const next = applyFrame(state, frame);
            if (next !== state) {
              state = next;
              setChat(next);
            }
          }
        } catch (err) {
          if (stop.signal.aborted) return;
          if (!isUnreachable(err)) return setFatal(err);
          setLink('down');
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })();
    return () => stop.abort();
  }, [client, props.sessionId]);
  const active = chat.runs.find((r) => isActive(r.status));
  return (
    <section class="conversation" aria-labelledby="page-title">
      <PageHeader title={`Chat · ${props.sessionId}`}>
        <span class={`link-state link-${link}`} role="status">
          {link === 'live' ? 'live' : link === 'down' ? 'runtime not answering — retrying' : `${link}…`}
        </span>
      </PageHeader>
      {fatal !== undefined && <ErrorNote error={fatal} />}
      <ol class="timeline" aria-live="polite" aria-label="Conversation">
        {chat.runs.map((r) => (
          <RunEntry key={r.runId} run={r} />
        ))}
      </ol>
      {link === 'connecting' && chat.runs.length === 0 && <Loading />}
      {chat.pendingQuestions > 0 && <Questions sessionId={props.sessionId} />}
      <Composer sessionId={props.sessionId} active={active} />
    </section>
  );
}

function RunEntry(props: { run: ChatRun }) {
  const r = props.run;
  return (
    <li class="run" data-run-id={r.runId}>
      {r.input && (
        <div class="msg msg-user">
          <span class="sr-only">You: </span>
          {r.input}
        </div>
      )}
      <div class="run-meta">
        <Badge value={r.status} /> <a href={href('runs', r.runId)}>{r.runId}</a>
        {r.submittedAtMs !== undefined && (
          <>
            {' · '}
            <Time ms={r.submittedAtMs} />
          </>
        )}
      </div>
      {r.steps.length > 0 && (
        <ul class="steps">
          {r.steps.map((s) => (
            <StepLine key={s.key} step={s} run={r} />
          ))}
        </ul>
      )}
      {r.answers.map((a, i) => (
        <div key={i} class="msg msg-assistant">
          <span class="sr-only">Assistant: </span>
          {a}
        </div>
      ))}
      {r.streaming && (
        <div class="msg msg-assistant streaming" aria-busy="true">
          {r.streaming}
        </div>
      )}
    </li>
  );
}

function StepLine(props: { step: Step; run: ChatRun }) {
  const s = props.step;
  const pending = s.approvalId !== undefined && props.run.pendingApprovalIds.includes(s.approvalId);
  return (
    <li class={`step step-${s.kind}`}>
      <details open={s.kind === 'approval' && pending}>
        <summary>
          <span class="step-kind">{s.kind}</span> {s.title}
          {s.outcome && <Badge value={s.outcome} />}
        </summary>
        {s.args !== undefined && (
          <>
            <h4>Arguments</h4>
            <Json value={s.args} />
          </>
        )}
        {s.result !== undefined && (
          <>
            <h4>Result</h4>
            <pre class="json">{s.result}</pre>
          </>
        )}
        {s.detail !== undefined && s.kind !== 'tool' && <Json value={s.detail} />}
      </details>
      {pending && <ApprovalButtons runId={props.run.runId} requestId={s.approvalId!} />}
    </li>
  );
}

function Questions(props: { sessionId: string }) {
  const state = useLoad((k) => k.questions.list({ session_id: props.sessionId }), [props.sessionId], 3000);
  return (
    <Async state={state}>
      {(list) => (
        <div class="questions">
          {items<PendingQuestionView>(list).map((q) => (
            <QuestionForm key={q.request.id} question={q} onDone={state.reload} />
          ))}
        </div>
      )}
    </Async>
  );
}

function Composer(props: { sessionId: string; active?: ChatRun }) {
  const { client } = useApp();
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const box = useRef<HTMLTextAreaElement>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return setError('write a message first');
    setError(undefined);
    try {
      await client.sessions.submitRun(props.sessionId, { content: text });
      setText('');
      box.current?.focus();
    } catch (err) {
      setError(describe(err));
    }
  };
  const cancel = async () => {
    if (!props.active) return;
    try {
      await client.runs.cancel(props.active.runId);
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <form class="composer" onSubmit={send}>
      <Field id="message" label="Message" error={error} hint="Enter sends, Shift+Enter for a new line">
        <textarea
          {...describedBy('message', error)}
          ref={box}
          rows={3}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) send(e);
          }}
        />
      </Field>
      <div class="actions">
        <button type="submit" class="primary">
          Send
        </button>
        {props.active && (
          <button type="button" onClick={cancel}>
            Cancel run
          </button>
        )}
      </div>
    </form>
  );
}
