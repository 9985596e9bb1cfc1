// What a delivery run shows the model (the message as text), and the message view of the API.
import type { StoredRunRequest } from '../../engine/types.ts';
import type { MailboxMessageRow } from '../../store/repos/mailboxes.ts';
import type { MailboxMessageView } from './schema.ts';

const STATE: Record<string, MailboxMessageView['state']> = {
  queued: 'pending',
  dispatched: 'delivering',
  dead_lettered: 'dead_letter',
  delivered: 'delivered',
  acked: 'acked',
  consumed: 'consumed',
};

export function messageView(m: MailboxMessageRow): MailboxMessageView {
  const v: MailboxMessageView = {
    schema_version: 1,
    id: m.message_id,
    message_id: m.message_id,
    state: STATE[m.status] ?? 'pending',
    status: m.status,
    kind: m.kind,
    sequence: m.seq,
    from: m.from_agent_id,
    to: m.to_agent_id,
    from_agent_id: m.from_agent_id,
    to_agent_id: m.to_agent_id,
    to_session_id: m.to_session_id,
    subject: m.subject,
    payload: JSON.parse(m.payload),
    created_at_ms: m.created_at_ms,
    delivery_attempts: m.delivery_attempts,
  };
  if (m.expires_at_ms !== null) v.expires_at_ms = m.expires_at_ms;
  if (m.delivery_run_id !== null) v.delivery_run_id = m.delivery_run_id;
  if (m.correlation_id !== null) v.correlation_id = m.correlation_id;
  if (m.last_error !== null) v.last_error = m.last_error;
  if (m.settled_at_ms !== null) v.settled_at_ms = m.settled_at_ms;
  return v;
}

/** The payload of a `parent_clarification` message (written by the requesting child's tool). */
export interface ClarificationPayload {
  request_id: string;
  question: string;
  header?: string;
  options?: Array<{ id: string; label: string; description?: string }>;
  context?: string;
  requester: { agent_id: string; session_id: string; run_id: string; tool_call_id: string };
  expires_at_ms?: number;
}

function messageText(m: MailboxMessageRow): string {
  const payload = JSON.stringify(JSON.parse(m.payload), null, 2);
  return [
    `Mailbox message ${m.message_id} (kind: ${m.kind}, sequence ${m.seq})`,
    `from_agent_id: ${m.from_agent_id}`,
    `subject: ${m.subject}`,
    'payload:',
    payload,
  ].join('\n');
}

function clarificationText(m: MailboxMessageRow): string {
  const p = JSON.parse(m.payload) as ClarificationPayload;
  const lines = [
    `Parent clarification request ${p.request_id} from child agent ${p.requester.agent_id} (session ${p.requester.session_id})`,
  ];
  if (p.header) lines.push(`header: ${p.header}`);
  lines.push(`question: ${p.question}`);
  for (const o of p.options ?? [])
    lines.push(`option ${o.id}: ${o.label}${o.description ? ` - ${o.description}` : ''}`);
  if (p.context) lines.push(`context: ${p.context}`);
  lines.push(
    '',
    `The child is blocked until it gets an answer. Answer with the message_agent tool: {"reply_to": "${p.request_id}", "text": "<your answer>"}.`,
    'If this turn ends without that call, your final message is sent to the child as the answer.',
  );
  return lines.join('\n');
}

/** The run request of a delivery: the message rendered as the run's input text. */
export function deliveryRequest(m: MailboxMessageRow): StoredRunRequest {
  return {
    source_plugin: 'mailbox',
    source_kind: m.kind === 'parent_clarification' ? 'parent_clarification' : 'mailbox_delivery',
    actor_id: m.from_agent_id,
    content: m.kind === 'parent_clarification' ? clarificationText(m) : messageText(m),
    metadata: {
      mailbox: {
        message_id: m.message_id,
        kind: m.kind,
        sequence: m.seq,
        from_agent_id: m.from_agent_id,
        subject: m.subject,
        correlation_id: m.correlation_id,
        attempt: m.delivery_attempts + 1,
      },
    },
  };
}
