// The question_resolved trace (docs/events.md): how a question the model asked was settled.
import type { QuestionRow } from '../store/repos/approvals.ts';
import { cutString } from './trace-redact.ts';
import type { Trace } from './traces.ts';

const ANSWER_TEXT_MAX = 200;

interface Answer {
  question_id: string;
  selected_option_ids: string[];
  freeform_answer?: string;
}

export function questionResolved(
  q: Pick<QuestionRow, 'request_id' | 'tool_call_id'>,
  status: 'answered' | 'declined' | 'cancelled' | 'expired',
  resolution?: { answers?: Answer[] },
): Trace {
  const trace: Trace = {
    kind: 'question_resolved',
    request_id: q.request_id,
    tool_call_id: q.tool_call_id,
    status,
  };
  if (status === 'answered')
    trace.answers = (resolution?.answers ?? []).map((a) => {
      const out: Record<string, unknown> = {
        question_id: a.question_id,
        selected_option_ids: a.selected_option_ids,
      };
      if (a.freeform_answer) out.freeform_answer = cutString(a.freeform_answer, ANSWER_TEXT_MAX);
      return out;
    });
  return trace;
}
