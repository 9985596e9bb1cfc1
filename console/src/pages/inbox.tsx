// Everything waiting for a person, across sessions: pending approvals and questions.
import type { PendingApprovalView, PendingQuestionView } from '../../../src/sdk/index.ts';
import { href } from '../router.ts';
import { Async, Empty, items, Json, PageHeader, Time, useLoad } from '../ui.tsx';
import { ApprovalButtons, QuestionForm } from './human-loop.tsx';

export function InboxPage() {
  const state = useLoad(
    async (k) => ({
      approvals: items<PendingApprovalView>(await k.approvals.list()),
      questions: items<PendingQuestionView>(await k.questions.list()),
    }),
    [],
    3000,
  );
  return (
    <section>
      <PageHeader title="Inbox">
        <button type="button" onClick={state.reload}>
          Refresh
        </button>
      </PageHeader>
      <Async state={state}>
        {(d) => (
          <>
            <h2>Approvals ({d.approvals.length})</h2>
            {d.approvals.length === 0 && <Empty>No approval is waiting.</Empty>}
            <ul class="inbox">
              {d.approvals.map((a) => (
                <li key={a.request.id} class="card">
                  <p>
                    <strong>{String(a.request.tool_name)}</strong> in{' '}
                    <a href={href('chat', a.session_id)}>{a.session_id}</a> · <Time ms={a.created_at_ms} />
                  </p>
                  {a.request.reason && <p class="muted">{String(a.request.reason)}</p>}
                  <Json value={a.request.input} />
                  <ApprovalButtons runId={a.run_id} requestId={a.request.id} onDone={state.reload} />
                </li>
              ))}
            </ul>
            <h2>Questions ({d.questions.length})</h2>
            {d.questions.length === 0 && <Empty>No question is waiting.</Empty>}
            <ul class="inbox">
              {d.questions.map((q) => (
                <li key={q.request.id}>
                  <p>
                    From <a href={href('chat', q.session_id)}>{q.session_id}</a>
                  </p>
                  <QuestionForm question={q} onDone={state.reload} />
                </li>
              ))}
            </ul>
          </>
        )}
      </Async>
    </section>
  );
}
