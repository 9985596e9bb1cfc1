// Runs that ask instead of calling a model (api-core §4.2, §4.5): a `parent_clarification` run parks
// in `waiting_for_user_question` with its child's question, is answered through the questions API
// like any question, and then completes (`waiting_for_user_question → completed` is legal for this
// kind only). The feature that owns the kind supplies the question and applies the answer.
import {
  insertQuestion,
  type QuestionRow,
  questionsOfRun,
  setQuestionStatus,
} from '../store/repos/approvals.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { QuestionRunHandler, RunWritePort, TransitionPort } from './ports.ts';
import { whileRunning } from './run-guard.ts';

// The handler shapes live with the engine ports (the engine keeps a map of them); callers import
// them from here.
export type { QuestionRunAnswer, QuestionRunHandler } from './ports.ts';

/** The executor of a question run: park on the handler's question, or complete when there is none. */
export async function parkQuestionRun(
  engine: RunWritePort & TransitionPort,
  run: RunRow,
  handler: QuestionRunHandler,
): Promise<void> {
  await whileRunning(engine, run.run_id, async (tx, current) => {
    const request = await handler.question(tx, current);
    if (!request) {
      await engine.transition(tx, run.run_id, 'completed');
      return;
    }
    const asked = (await questionsOfRun(tx.db, run.run_id)).some((q) => q.request_id === request.id);
    if (!asked)
      await insertQuestion(tx.db, {
        request_id: request.id,
        run_id: run.run_id,
        session_id: run.session_id,
        tool_call_id: request.tool_call_id,
        request: JSON.stringify(request),
        status: 'pending',
        resolution: null,
        created_at_ms: tx.now,
        expires_at_ms: request.expires_at_ms ?? null,
        resolved_at_ms: null,
      });
    await engine.transition(tx, run.run_id, 'waiting_for_user_question', {
      eventExtra: { request_ids: [request.id], requests: [request] },
    });
  });
}

/**
 * Ends a question run whose question was settled some other way (a reply from the parent agent, the
 * requester going away, expiry): marks the pending question and completes the waiting run.
 */
export async function completeQuestionRun(
  engine: TransitionPort,
  tx: WriteTx,
  run: RunRow,
  requestId: string,
  status: 'answered' | 'declined' | 'expired' | 'cancelled',
  resolution: unknown,
): Promise<boolean> {
  if (run.status !== 'waiting_for_user_question') return false;
  const pending: QuestionRow | undefined = (await questionsOfRun(tx.db, run.run_id)).find(
    (q) => q.request_id === requestId && q.status === 'pending',
  );
  if (!pending) return false;
  await setQuestionStatus(tx.db, requestId, status, resolution, tx.now);
  await engine.transition(tx, run.run_id, 'completed');
  return true;
}
