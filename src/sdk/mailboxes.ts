// Client calls for mailboxes (api-core §6.1): post, non-draining peek, dead letters, ack.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export interface PostMailboxRequest {
  message_id?: string;
  from_agent_id: string;
  to_agent_id: string;
  subject: string;
  ttl_ms?: number;
  payload?: unknown;
  /** Extension: answers the pending parent clarification with this request id. */
  reply_to?: string;
}

export interface PostMailboxResponse {
  accepted: boolean;
  message_id: string;
  duplicate: boolean;
}

export interface MailboxMessage extends JsonObject {
  id: string;
  state: string;
  kind: string;
  sequence: number;
  from: string;
  to: string;
  subject: string;
  payload: unknown;
  created_at_ms: number;
  delivery_attempts: number;
}

export interface AckMailboxResponse {
  acknowledged: boolean;
  agent_id: string;
  message_id: string;
}

const agentPath = (agentId: string) => `/v1/agents/${encodeURIComponent(agentId)}/mailbox`;

export const postMailbox = (c: DaemonClient, body: PostMailboxRequest) =>
  c.request('POST', '/v1/mailboxes', { body }) as Promise<PostMailboxResponse>;

/** Queued and in-flight messages; reading does not drain. */
export const peekMailbox = (c: DaemonClient, agentId: string) =>
  c.request('GET', agentPath(agentId)) as Promise<MailboxMessage[]>;

export const mailboxDeadLetters = (c: DaemonClient, agentId: string) =>
  c.request('GET', `${agentPath(agentId)}/dead-letter`) as Promise<MailboxMessage[]>;

export const ackMailboxMessage = (c: DaemonClient, agentId: string, messageId: string) =>
  c.request('POST', `${agentPath(agentId)}/${encodeURIComponent(messageId)}/ack`, {
    body: {},
  }) as Promise<AckMailboxResponse>;
