// Expired structured questions cancel their waiting run (api-core §4.5).
import { expiredQuestions, setQuestionStatus } from '../store/repos/approvals.ts';
import { getRun } from '../store/repos/runs.ts';
import type { QuestionPort } from './ports.ts';
import { questionResolved } from './question-traces.ts';
import { appendTraces } from './traces.ts';

export async function expireQuestions(engine: QuestionPort): Promise<number> {
  const due = await expiredQuestions(engine.store.db, Date.now());
  for (const q of due) {
    await engine.store.write(async (tx) => {
      const run = await getRun(tx.db, q.run_id);
      await setQuestionStatus(tx.db, q.request_id, 'expired', null, tx.now);
      const asks = run ? engine.questionRuns.get(run.kind) : undefined;
      if (run?.status === 'waiting_for_user_question' && asks) {
        // An expired parent clarification reaches the child as declined; the parent run completes.
        await asks.resolve(tx, run, { declined: true, answers: [], source: 'expired' });
        await engine.transition(tx, q.run_id, 'completed');
      } else if (run?.status === 'waiting_for_user_question') {
        await appendTraces(engine.events, tx, run, [questionResolved(q, 'expired')]);
        await engine.transition(tx, q.run_id, 'cancelled', {
          error: `question ${q.request_id} expired before it was answered`,
        });
      }
    });
  }
  return due.length;
}

/** Checks every `everyMs`; returns the function that stops the checks. */
export function startQuestionExpiry(engine: QuestionPort, everyMs = 1000): () => void {
  const timer = setInterval(() => void expireQuestions(engine).catch(() => undefined), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
