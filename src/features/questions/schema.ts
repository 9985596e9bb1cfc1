// Wire types of structured question resolution.
import { z } from 'zod';

export const QuestionAnswer = z
  .object({
    question_id: z.string(),
    selected_option_ids: z.array(z.string()).default([]),
    freeform_answer: z.string().optional(),
  })
  .strict();

export const UserQuestionResolution = z
  .object({
    request_id: z.string().min(1),
    answers: z.array(QuestionAnswer).default([]),
    declined: z.boolean().default(false),
    justification: z.string().optional(),
  })
  .strict();

export const ResolveUserQuestionRequest = z
  .object({ idempotency_key: z.string().optional(), resolution: UserQuestionResolution })
  .strict();

export const CancelQuestionRequest = z
  .object({ idempotency_key: z.string().optional(), justification: z.string().optional() })
  .strict()
  .nullish();

export const QuestionsQuery = z.object({
  session_id: z.string().optional(),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export type UserQuestionResolution = z.infer<typeof UserQuestionResolution>;
export type ResolveUserQuestionRequest = z.infer<typeof ResolveUserQuestionRequest>;
export type CancelQuestionRequest = z.infer<typeof CancelQuestionRequest>;
