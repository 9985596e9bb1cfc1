// Request bodies of the human loop, built in one place for the resource clients and run handles.
import type { QuestionAnswer, ResolveApprovalsRequest, ResolveUserQuestionRequest } from './types.ts';

export interface ResolveOptions {
  /** Recorded with the decision. */
  justification?: string;
  /** Told to the model when a call is denied. */
  reason?: string;
  /** `session` also adds an allow rule for the tool to the session (allow only; daemon extension). */
  remember?: 'session';
  idempotency_key?: string;
}

/** Answers by question id: option ids (a list) or a free-form text. */
export type Answers = Record<string, string[] | string>;

export interface AnswerOptions {
  justification?: string;
  idempotency_key?: string;
}

export function approvalBatch(
  requestIds: string[],
  behavior: 'allow' | 'deny',
  opts: ResolveOptions = {},
): ResolveApprovalsRequest {
  const { idempotency_key, ...extra } = opts;
  const resolutions = requestIds.map((request_id) => ({ request_id, behavior, ...extra }));
  return idempotency_key === undefined ? { resolutions } : { resolutions, idempotency_key };
}

/** QuestionAnswer list from `{ question_id: ['option_id'] | 'free text' }`. */
export function toQuestionAnswers(answers: Answers): QuestionAnswer[] {
  return Object.entries(answers).map(([question_id, a]) =>
    typeof a === 'string'
      ? { question_id, selected_option_ids: [], freeform_answer: a }
      : { question_id, selected_option_ids: a },
  );
}

/** An answer (or, with `declined`, a refusal) to one question request. */
export function questionResolution(
  requestId: string,
  answers: Answers | 'declined',
  opts: AnswerOptions = {},
): ResolveUserQuestionRequest {
  const { idempotency_key, justification } = opts;
  const resolution = {
    request_id: requestId,
    answers: answers === 'declined' ? [] : toQuestionAnswers(answers),
    declined: answers === 'declined',
    ...(justification === undefined ? {} : { justification }),
  };
  return idempotency_key === undefined ? { resolution } : { resolution, idempotency_key };
}
