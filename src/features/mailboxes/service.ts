// Mailbox rules: posting (API and the message_agent tool), the non-draining peek, dead letters,
// acks, and parent clarifications asked by the request_parent_clarification tool. Delivery lives
// in dispatcher.ts.

import type { Engine } from '../../engine/engine.ts';
import { KeyedWaiters } from '../../engine/keyed-waiters.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  type EnqueueMailboxMessage,
  enqueueMailboxMessage,
  getClarification,
  getMessage,
  insertClarification,
  MailboxIdConflictError,
  MailboxUnknownAgentError,
  messagesOfAgent,
  sessionOfAgent,
  settleMessage,
  sha256Hex,
} from '../../store/repos/mailboxes.ts';
import type { Executor } from '../../store/schema.ts';
import type { ClarificationInput, MailboxToolHost, MessageAgentInput } from '../../tools/control/mailbox.ts';
import type { ToolContext } from '../../tools/registry.ts';
import { applyReply, settleClarification } from './clarifications.ts';
import { MailboxDispatcher } from './dispatcher.ts';
import { mailboxTrace } from './events.ts';
import { type ClarificationPayload, messageView } from './render.ts';
import {
  type AckMailboxResponse,
  MAX_PAYLOAD_BYTES,
  type MailboxMessageView,
  type PostMailboxRequest,
  type PostMailboxResponse,
} from './schema.ts';

export const agentNotFound = (id: string) =>
  new DaemonError(404, 'agents', 'agent_not_found', `agent ${id} was not found`);

function checkPayloadSize(payload: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (bytes > MAX_PAYLOAD_BYTES)
    throw new DaemonError(
      413,
      'agents',
      'mailbox_payload_too_large',
      `the mailbox payload is ${bytes} bytes of JSON; the limit is ${MAX_PAYLOAD_BYTES}`,
    );
}

/** A stable id per (run, tool call): a re-run of the same call after a crash finds its own row. */
const derivedId = (prefix: string, purpose: string, ctx: ToolContext) =>
  `${prefix}-${sha256Hex(`${purpose}\n${ctx.run_id}\n${ctx.tool_call_id}`).slice(0, 32)}`;

export class MailboxesService implements MailboxToolHost {
  private readonly engine: Engine;
  readonly waiters = new KeyedWaiters();
  readonly dispatcher: MailboxDispatcher;
  /**
   * The parent of an agent, null for a primary agent. The agents feature sets it at wiring; until
   * then only the internal `parent_agent_id` of request_parent_clarification names a parent.
   */
  parentOf: (db: Executor, agentId: string) => Promise<string | null> = async () => null;

  constructor(engine: Engine) {
    this.engine = engine;
    this.dispatcher = new MailboxDispatcher(engine, this.waiters);
  }

  private get db() {
    return this.engine.store.db;
  }

  /** Boot recovery, then delivery and the TTL sweep. Call after engine.recover(). */
  start(): Promise<void> {
    return this.dispatcher.start();
  }

  stop(): void {
    this.dispatcher.stop();
  }

  private async requireAgent(db: Executor, agentId: string) {
    const session = await sessionOfAgent(db, agentId);
    if (!session) throw agentNotFound(agentId);
    return session;
  }

  // ---------------------------------------------------------------- API

  async post(body: PostMailboxRequest): Promise<PostMailboxResponse> {
    checkPayloadSize(body.payload);
    const r = await this.enqueue({
      message_id: body.message_id,
      from_agent_id: body.from_agent_id,
      to_agent_id: body.to_agent_id,
      subject: body.subject,
      payload: body.payload ?? null,
      kind: body.reply_to === undefined ? 'message' : 'clarification_reply',
      ttl_ms: body.ttl_ms,
      correlation_id: body.reply_to,
    });
    return { accepted: true, message_id: r.message_id, duplicate: r.duplicate };
  }

  /** Queued and in-flight messages, in delivery order. Reading never drains. */
  async peek(agentId: string): Promise<MailboxMessageView[]> {
    await this.requireAgent(this.db, agentId);
    return (await messagesOfAgent(this.db, agentId, ['queued', 'dispatched'])).map(messageView);
  }

  async deadLetters(agentId: string): Promise<MailboxMessageView[]> {
    await this.requireAgent(this.db, agentId);
    return (await messagesOfAgent(this.db, agentId, ['dead_lettered'])).map(messageView);
  }

  /**
   * Acknowledges a message without delivering it: a queued one is removed from the queue, a dead
   * letter is cleared from the dead-letter list (both become `acked`, recorded with a trace). A
   * message in flight or already delivered cannot be acked (`acknowledged: false`), nor can an id
   * that is not this agent's. Acking again is a no-op that still answers true.
   */
  async ack(agentId: string, messageId: string): Promise<AckMailboxResponse> {
    const id = messageId.trim();
    const acknowledged = await this.engine.store.write(async (tx) => {
      await this.requireAgent(tx.db, agentId);
      const m = await getMessage(tx.db, id);
      if (!m || m.to_agent_id !== agentId) return false;
      if (m.status === 'acked') return true;
      if (m.status !== 'queued' && m.status !== 'dead_lettered') return false;
      const why = m.status === 'queued' ? 'acked_without_delivery' : undefined;
      await settleMessage(tx.db, id, [m.status], 'acked', tx.now, why);
      await mailboxTrace(this.engine, tx, 'mailbox_message_acked', m, { previous_status: m.status });
      const c =
        m.kind === 'parent_clarification' ? await getClarification(tx.db, m.correlation_id ?? '') : null;
      if (c?.status === 'pending')
        await settleClarification(this.engine, this.waiters, tx, c, {
          request_id: c.request_id,
          status: 'declined',
          declined: true,
          source: 'acked',
          reason: 'an operator acknowledged the request without delivering it to the parent',
        });
      return true;
    });
    if (acknowledged) this.dispatcher.pump();
    return { acknowledged, agent_id: agentId, message_id: id };
  }

  private async enqueue(msg: EnqueueMailboxMessage): Promise<{ message_id: string; duplicate: boolean }> {
    const result = await this.engine.store.write(async (tx) => {
      await this.requireAgent(tx.db, msg.from_agent_id);
      let r: { message_id: string; duplicate: boolean };
      try {
        r = await enqueueMailboxMessage(tx.db, msg, tx.now);
      } catch (err) {
        if (err instanceof MailboxUnknownAgentError) throw agentNotFound(err.agent_id);
        if (err instanceof MailboxIdConflictError)
          throw new DaemonError(
            409,
            'idempotency',
            'idempotency_conflict',
            `message_id ${err.message_id} was already used for a different message`,
          );
        throw err;
      }
      if (r.duplicate) return r;
      const row = (await getMessage(tx.db, r.message_id))!;
      await mailboxTrace(this.engine, tx, 'mailbox_message_queued', row, {
        sequence: row.seq,
        subject: row.subject,
      });
      if (row.kind === 'clarification_reply') await applyReply(this.engine, this.waiters, tx, row);
      return r;
    });
    if (!result.duplicate) this.dispatcher.pump();
    return result;
  }

  // ---------------------------------------------------------------- tools

  async messageAgent(ctx: ToolContext, input: MessageAgentInput) {
    let to = input.to_agent_id;
    if (input.reply_to !== undefined) {
      const c = await getClarification(this.db, input.reply_to);
      if (!c) throw new Error(`there is no parent clarification request ${input.reply_to}`);
      to ??= c.child_agent_id;
    }
    const payload = input.text !== undefined ? { text: input.text } : (input.payload ?? null);
    checkPayloadSize(payload);
    const kind = input.reply_to === undefined ? 'message' : 'clarification_reply';
    const r = await this.enqueue({
      message_id: derivedId('msg', 'message_agent', ctx),
      from_agent_id: ctx.agent_id,
      to_agent_id: to!,
      subject: input.subject ?? (kind === 'message' ? 'message' : 'clarification_reply'),
      payload,
      kind,
      ttl_ms: input.ttl_ms,
      correlation_id: input.reply_to,
    });
    const m = await getMessage(this.db, r.message_id);
    return {
      accepted: true,
      message_id: r.message_id,
      duplicate: r.duplicate,
      to_agent_id: to,
      kind,
      status: m?.status,
      ...(m?.last_error ? { note: m.last_error } : {}),
    };
  }

  private async parentFor(agentId: string, named: string | undefined): Promise<string> {
    const parent = await this.parentOf(this.db, agentId);
    if (parent) {
      if (named !== undefined && named !== parent)
        throw new Error(`you can only ask your own parent agent (${parent})`);
      return parent;
    }
    if (named === undefined)
      throw new Error(
        'this agent has no parent agent to ask; ask the operator with ask_user_question instead',
      );
    if (named === agentId) throw new Error('an agent cannot ask itself for a clarification');
    return named;
  }

  async requestParentClarification(ctx: ToolContext, input: ClarificationInput) {
    const requestId = derivedId('clar', 'parent_clarification', ctx);
    if (!(await getClarification(this.db, requestId))) {
      const parent = await this.parentFor(ctx.agent_id, input.parent_agent_id);
      await this.engine.store.write(async (tx) => {
        if (await getClarification(tx.db, requestId)) return;
        const messageId = derivedId('msg', 'parent_clarification', ctx);
        const expires = input.expires_after_ms === undefined ? null : tx.now + input.expires_after_ms;
        const payload: ClarificationPayload = {
          request_id: requestId,
          question: input.question,
          requester: {
            agent_id: ctx.agent_id,
            session_id: ctx.session_id,
            run_id: ctx.run_id,
            tool_call_id: ctx.tool_call_id,
          },
        };
        if (input.header) payload.header = input.header;
        if (input.options?.length) payload.options = input.options;
        if (input.context) payload.context = input.context;
        if (expires !== null) payload.expires_at_ms = expires;
        try {
          await enqueueMailboxMessage(
            tx.db,
            {
              message_id: messageId,
              from_agent_id: ctx.agent_id,
              to_agent_id: parent,
              subject: 'parent_clarification',
              payload,
              kind: 'parent_clarification',
              ttl_ms: input.expires_after_ms,
              correlation_id: requestId,
            },
            tx.now,
          );
        } catch (err) {
          if (err instanceof MailboxUnknownAgentError) throw agentNotFound(err.agent_id);
          throw err;
        }
        await insertClarification(tx.db, {
          request_id: requestId,
          child_agent_id: ctx.agent_id,
          child_session_id: ctx.session_id,
          child_run_id: ctx.run_id,
          child_tool_call_id: ctx.tool_call_id,
          parent_agent_id: parent,
          question: JSON.stringify({
            question: input.question,
            header: input.header,
            options: input.options,
            context: input.context,
          }),
          request_message_id: messageId,
          status: 'pending',
          resolution: null,
          resolution_fingerprint: null,
          created_at_ms: tx.now,
          expires_at_ms: expires,
          resolved_at_ms: null,
        });
        const row = (await getMessage(tx.db, messageId))!;
        await mailboxTrace(this.engine, tx, 'mailbox_message_queued', row, {
          sequence: row.seq,
          request_id: requestId,
        });
      });
      this.dispatcher.pump();
    }
    // Also the path after a restart: the same call waits on the same request again.
    for (;;) {
      const row = await getClarification(this.db, requestId);
      if (row && row.status !== 'pending') return JSON.parse(row.resolution ?? '{}') as unknown;
      await this.waiters.wait(requestId, { signal: ctx.signal });
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
    }
  }
}
