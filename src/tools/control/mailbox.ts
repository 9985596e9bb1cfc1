// Mailbox tools (ops-runtime §10): `message_agent` posts a typed message to another agent (or
// answers a parent clarification with `reply_to`); `request_parent_clarification` asks the calling
// child's parent and waits for the answer. The mailboxes feature implements `MailboxToolHost`;
// these definitions only validate arguments and render results.
import { z } from 'zod';
import type { ToolContext, ToolDefinition, ToolRegistry } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

export const MESSAGE_AGENT_TOOL = 'message_agent';
export const REQUEST_PARENT_CLARIFICATION_TOOL = 'request_parent_clarification';

export const MessageAgentInput = z
  .object({
    /** Optional with reply_to: the reply goes to the child that asked. */
    to_agent_id: z.string().min(1).optional(),
    subject: z.string().min(1).max(1000).optional(),
    text: z.string().max(200_000).optional(),
    payload: z.unknown().optional(),
    ttl_ms: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    reply_to: z.string().min(1).optional(),
  })
  .strict()
  .refine((v) => v.to_agent_id !== undefined || v.reply_to !== undefined, {
    message: 'give to_agent_id (or reply_to when answering a clarification)',
  })
  .refine((v) => (v.text === undefined) !== (v.payload === undefined), {
    message: 'give exactly one of text or payload',
  });
export type MessageAgentInput = z.infer<typeof MessageAgentInput>;

const Option = z.object({
  id: z.string().min(1).max(200),
  label: z.string().min(1).max(1000),
  description: z.string().max(4000).optional(),
});

export const ClarificationInput = z
  .object({
    question: z.string().trim().min(1).max(20_000),
    header: z.string().max(200).optional(),
    options: z.array(Option).max(20).optional(),
    context: z.string().max(20_000).optional(),
    expires_after_ms: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    /**
     * Internal: for an agent without a parent (a primary agent), the agent to ask. An agent with
     * a parent always asks its parent.
     */
    parent_agent_id: z.string().min(1).optional(),
  })
  .strict();
export type ClarificationInput = z.infer<typeof ClarificationInput>;

/** Implemented by the mailboxes feature. Errors thrown carry a message the model can act on. */
export interface MailboxToolHost {
  /** Posts from the calling agent; the message id derives from (run, tool call), so a re-run posts nothing new. */
  messageAgent(ctx: ToolContext, input: MessageAgentInput): Promise<unknown>;
  /** Posts the question (once per tool call) and waits until it is answered, declined or expires. */
  requestParentClarification(ctx: ToolContext, input: ClarificationInput): Promise<unknown>;
}

export function createMailboxTools(host: MailboxToolHost): ToolDefinition[] {
  return [
    defineControlTool(
      MESSAGE_AGENT_TOOL,
      'Send a private message to another agent (by agent id): `text`, or any JSON `payload`, with a ' +
        '`subject`. It is delivered to that agent as a new run once it is idle, in order, exactly once; ' +
        '`ttl_ms` drops it if not delivered in time. To answer a parent clarification request, pass ' +
        '`reply_to` with its request id (to_agent_id may then be omitted).',
      MessageAgentInput,
      true,
      (input, ctx) => host.messageAgent(ctx, input),
    ),
    {
      ...defineControlTool(
        REQUEST_PARENT_CLARIFICATION_TOOL,
        'Ask your parent agent a question you cannot resolve yourself, and wait for its answer (or a ' +
          'decline). Optional `options` to choose from, `context`, and `expires_after_ms` after which ' +
          'the request counts as declined.',
        ClarificationInput,
        // Idempotent per tool call (the request id derives from it): after a restart the call is
        // simply run again and waits on the same request, instead of asking the operator.
        false,
        (input, ctx) => host.requestParentClarification(ctx, input),
      ),
      // An operator may take hours to answer; only cancellation or expires_after_ms end the wait.
      waits_for_answer: true,
    },
  ];
}

export function registerMailboxTools(registry: ToolRegistry, host: MailboxToolHost): void {
  for (const tool of createMailboxTools(host)) registry.register(tool);
}
