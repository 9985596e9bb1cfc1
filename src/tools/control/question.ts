// The structured-question tool: the model asks the operator; the engine parks the run in
// `waiting_for_user_question` and the answer comes back as the tool result.
import { z } from 'zod';

export const QUESTION_TOOL = 'ask_user_question';

const Option = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  description: z.string().optional(),
  preview: z.string().optional(),
});
const Question = z.object({
  id: z.string().min(1),
  header: z.string().default(''),
  question: z.string().min(1),
  options: z.array(Option).default([]),
  multi_select: z.boolean().default(false),
});
export const QuestionToolInput = z.object({
  questions: z.array(Question).min(1),
  expires_after_ms: z.number().int().positive().optional(),
  expires_at_ms: z.number().int().positive().optional(),
});
export type QuestionToolInput = z.infer<typeof QuestionToolInput>;

export const questionToolDefinition = {
  name: QUESTION_TOOL,
  description:
    'Ask the operator one or more structured questions (with options, or free-form) and wait for the answer. Use it for genuine choices, not for chatting.',
  input_schema: z.toJSONSchema(QuestionToolInput, { io: 'input' }) as Record<string, unknown>,
};

export interface UserQuestionRequest {
  id: string;
  tool_call_id: string;
  questions: Array<z.infer<typeof Question>>;
  created_at_ms: number;
  expires_at_ms?: number;
}
