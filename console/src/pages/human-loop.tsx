// Answering the agent: approval buttons and question forms, shown inline in the chat and in the inbox.
import { useState } from 'preact/hooks';
import type { PendingQuestionView } from '../../../src/sdk/index.ts';
import { describe } from '../api.ts';
import { useApp } from '../ui.tsx';

export function ApprovalButtons(props: { runId: string; requestId: string; onDone?(): void }) {
  const { client } = useApp();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const decide = async (allow: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      if (allow) await client.approvals.approve(props.runId, [props.requestId]);
      else await client.approvals.deny(props.runId, [props.requestId], { reason: 'denied in the console' });
      props.onDone?.();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset class="approval-buttons">
      <legend class="sr-only">Approval</legend>
      <button type="button" class="primary" disabled={busy} onClick={() => decide(true)}>
        Approve
      </button>
      <button type="button" disabled={busy} onClick={() => decide(false)}>
        Deny
      </button>
      {error && <span class="field-error">{error}</span>}
    </fieldset>
  );
}

export function QuestionForm(props: { question: PendingQuestionView; onDone?(): void }) {
  const { client } = useApp();
  const q = props.question;
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const answers: Record<string, string[] | string> = {};
      for (const item of q.request.questions as any[]) {
        const v = picked[item.id] ?? '';
        answers[item.id] = item.options?.length ? (v ? [v] : []) : v;
      }
      await client.questions.answer(q.run_id, q.request.id, answers);
      props.onDone?.();
    } catch (err) {
      setError(describe(err));
    }
  };
  return (
    <form class="card question" onSubmit={submit} aria-label="Question from the agent">
      {(q.request.questions as any[]).map((item) => (
        <fieldset key={item.id}>
          <legend>{item.question ?? item.header}</legend>
          {item.options?.length ? (
            item.options.map((o: any) => (
              <label key={o.id} class="option">
                <input
                  type="radio"
                  name={`${q.request.id}-${item.id}`}
                  value={o.id}
                  onChange={() => setPicked({ ...picked, [item.id]: o.id })}
                />{' '}
                {o.label}
              </label>
            ))
          ) : (
            <input
              aria-label={item.question}
              onInput={(e) => setPicked({ ...picked, [item.id]: e.currentTarget.value })}
            />
          )}
        </fieldset>
      ))}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Answer
      </button>
    </form>
  );
}
