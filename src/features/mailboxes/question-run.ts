// The `parent_clarification` run as a question (api-core §4.2, §4.5): when the delivery run starts it
// parks in `waiting_for_user_question` with the child's question, so the parent session's operator
// sees it in GET /v1/questions (with the requester fields) and answers it like any question; the
// answer (or a decline, a cancel, an expiry) goes to the child and the run completes.

import type { Engine } from '../../engine/engine.ts';
import type { KeyedWaiters } from '../../engine/keyed-waiters.ts';
import type { QuestionRunAnswer, QuestionRunHandler } from '../../engine/question-runs.ts';
import { getClarification, messageOfDeliveryRun } from '../../store/repos/mailboxes.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { UserQuestionRequest } from '../../tools/control/question.ts';
import { settleClarification } from './clarifications.ts';
import type { ClarificationPayload } from './render.ts';

/** The one question id a clarification request carries. */
export const CLARIFICATION_QUESTION_ID = 'clarification';

async function clarificationOf(db: Executor, run: RunRow) {
  const m = await messageOfDeliveryRun(db, run.run_id);
  if (m?.kind !== 'parent_clarification' || !m.correlation_id) return null;
  const c = await getClarification(db, m.correlation_id);
  return c ? { message: m, row: c, payload: JSON.parse(m.payload) as ClarificationPayload } : null;
}

/** The answer the child's tool call receives: the text for a free-form answer, else the choices. */
function answerFor(payload: ClarificationPayload, a: QuestionRunAnswer): unknown {
  const answer = a.answers.find((x) => x.question_id === CLARIFICATION_QUESTION_ID) ?? a.answers[0];
  if (!answer) return undefined;
  const labels = answer.selected_option_ids.map(
    (id) => payload.options?.find((o) => o.id === id)?.label ?? id,
  );
  if (labels.length === 0) return answer.freeform_answer ?? '';
  return {
    selected_option_ids: answer.selected_option_ids,
    selected_labels: labels,
    ...(answer.freeform_answer ? { freeform_answer: answer.freeform_answer } : {}),
  };
}

export function clarificationQuestionRuns(engine: Engine, waiters: KeyedWaiters): QuestionRunHandler {
  return {
    async question(tx: WriteTx, run: RunRow): Promise<UserQuestionRequest | null> {
      const found = await clarificationOf(tx.db, run);
      if (found?.row.status !== 'pending') return null;
      const { row, payload } = found;
      const question = payload.context
        ? `${payload.question}\n\nContext: ${payload.context}`
        : payload.question;
      const request: UserQuestionRequest = {
        id: row.request_id,
        tool_call_id: row.child_tool_call_id,
        questions: [
          {
            id: CLARIFICATION_QUESTION_ID,
            header: payload.header ?? 'Clarification from a child agent',
            question,
            options: payload.options ?? [],
            multi_select: false,
          },
        ],
        created_at_ms: row.created_at_ms,
      };
      if (row.expires_at_ms !== null) request.expires_at_ms = row.expires_at_ms;
      return request;
    },

    async resolve(tx: WriteTx, run: RunRow, a: QuestionRunAnswer): Promise<void> {
      const found = await clarificationOf(tx.db, run);
      if (found?.row.status !== 'pending') return;
      const { row, payload } = found;
      const declined = a.declined;
      await settleClarification(engine, waiters, tx, row, {
        request_id: row.request_id,
        status: a.source === 'expired' ? 'expired' : declined ? 'declined' : 'answered',
        declined,
        ...(declined ? {} : { answer: answerFor(payload, a) }),
        source: a.source,
        ...(a.justification ? { reason: a.justification } : {}),
      });
    },

    async requester(db: Executor, run: RunRow): Promise<Record<string, unknown>> {
      const found = await clarificationOf(db, run);
      if (!found) return {};
      const { row } = found;
      return {
        requester_agent_id: row.child_agent_id,
        requester_session_id: row.child_session_id,
        requester_run_id: row.child_run_id,
        requester_tool_call_id: row.child_tool_call_id,
        requester_project_ids: [],
        requester_channel_ids: [],
        parent_project_ids: [],
        parent_channel_ids: [],
      };
    },
  };
}
