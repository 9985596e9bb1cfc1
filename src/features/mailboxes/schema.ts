// Wire types of mailboxes (api-core §6.1, §6.4): PostMailboxRequest and the message view.
import { z } from 'zod';

/** Ids travel in URL paths (ack): no slashes, no control characters. */
const Id = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => s.trim() === s && ![...s].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20), {
    message: 'must not have surrounding spaces, slashes or control characters',
  });

export const PostMailboxRequest = z
  .object({
    message_id: Id.optional(),
    from_agent_id: z.string().min(1),
    to_agent_id: z.string().min(1),
    subject: z.string().min(1).max(1000),
    /** Time to live from the post; an expired message is dead-lettered, never delivered stale. */
    ttl_ms: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    /** Any JSON; absent means null. */
    payload: z.unknown().optional(),
    /** Extension: answers the pending parent clarification with this request id. */
    reply_to: z.string().min(1).optional(),
  })
  .strict();
export type PostMailboxRequest = z.infer<typeof PostMailboxRequest>;

export const AgentParams = z.object({ agent_id: z.string().min(1) });
export const AckParams = z.object({ agent_id: z.string().min(1), message_id: z.string().min(1) });

/** The JSON a payload may hold at most, serialized (it becomes the input of a run). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** `state` keeps the published names; `status` is our finer record. */
export interface MailboxMessageView {
  schema_version: 1;
  id: string;
  message_id: string;
  state: 'pending' | 'delivering' | 'dead_letter' | 'delivered' | 'acked' | 'consumed';
  status: string;
  kind: string;
  sequence: number;
  from: string;
  to: string;
  from_agent_id: string;
  to_agent_id: string;
  to_session_id: string;
  subject: string;
  payload: unknown;
  created_at_ms: number;
  expires_at_ms?: number;
  delivery_attempts: number;
  delivery_run_id?: string;
  correlation_id?: string;
  last_error?: string;
  settled_at_ms?: number;
}

export interface PostMailboxResponse {
  accepted: true;
  message_id: string;
  duplicate: boolean;
}

export interface AckMailboxResponse {
  acknowledged: boolean;
  agent_id: string;
  message_id: string;
}
