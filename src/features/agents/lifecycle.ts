// How a child agent's life reaches its parent. Every terminal run of a child session posts one
// `child_outcome` mailbox message to the parent in the transaction that ends the run (so a crash
// can never separate the two, and the message id `child-outcome-<run_id>` makes it exactly once).
// A settled `close_on_settle` child is closed. Closing an agent, or ending the session of a parent,
// orphans its children: each is closed, its live runs are cancelled (their outcomes, marked
// `orphaned`, still go to the parent) and its own children are orphaned in turn.
import type { Engine } from '../../engine/engine.ts';
import { type AgentRow, childrenOf, getAgentBySession, updateAgent } from '../../store/repos/agents.ts';
import { enqueueMailboxMessage } from '../../store/repos/mailboxes.ts';
import { isActive, liveRunsOfSession, type RunRow } from '../../store/repos/runs.ts';
import { getSession, updateSession } from '../../store/repos/sessions.ts';
import type { WriteTx } from '../../store/store.ts';
import { outputPreview } from './views.ts';

export const CHILD_OUTCOME_SUBJECT = 'child_outcome';
const OUTCOME_PREVIEW_CHARS = 2000;

export type CloseReason = 'settled' | 'orphaned' | 'session_ended';

export class AgentLifecycle {
  private readonly engine: Engine;
  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** engine.onRunTerminal: the child's outcome to its parent, then settle/close bookkeeping. */
  async onRunTerminal(tx: WriteTx, run: RunRow): Promise<void> {
    const agent = await getAgentBySession(tx.db, run.session_id);
    if (!agent) return;
    const preview = await outputPreview(tx.db, run, OUTCOME_PREVIEW_CHARS);
    const orphaned = agent.orphaned_at_ms !== null;
    await enqueueMailboxMessage(
      tx.db,
      {
        message_id: `child-outcome-${run.run_id}`,
        kind: 'child_outcome',
        from_agent_id: agent.agent_id,
        to_agent_id: agent.parent_agent_id,
        subject: CHILD_OUTCOME_SUBJECT,
        correlation_id: run.run_id,
        payload: {
          type: 'child_outcome',
          child_agent_id: agent.agent_id,
          child_session_id: agent.session_id,
          name: agent.name,
          nickname: agent.nickname,
          run_id: run.run_id,
          run_kind: run.kind,
          status: run.status,
          error: run.error,
          error_code: run.error_code,
          output_preview: preview.text ?? null,
          output_truncated: preview.truncated,
          finished_at_ms: run.finished_at_ms,
          orphaned,
        },
      },
      tx.now,
    );
    const stillLive = (await liveRunsOfSession(tx.db, run.session_id)).length > 0;
    if (stillLive) return;
    await updateAgent(tx.db, agent.agent_id, { settled_at_ms: tx.now, updated_at_ms: tx.now });
    await this.trace(tx, agent, 'agent_settled', { child_run_id: run.run_id, status: run.status });
    if (agent.retention === 'close_on_settle' && agent.closed_at_ms === null)
      await this.close(tx, agent, 'settled');
  }

  /** engine.onSessionEnd: the agent of that session stops; its children are orphaned. */
  async onSessionEnd(tx: WriteTx, sessionId: string): Promise<void> {
    const agent = await getAgentBySession(tx.db, sessionId);
    if (agent && agent.closed_at_ms === null) {
      await this.close(tx, agent, 'session_ended');
      return;
    }
    const session = await getSession(tx.db, sessionId);
    if (session) await this.orphanChildren(tx, session.agent_id);
  }

  /** Closes an agent: its session ends (still readable by id, hidden from GET /v1/sessions). */
  async close(tx: WriteTx, agent: AgentRow, reason: CloseReason): Promise<void> {
    const fresh = await getAgentBySession(tx.db, agent.session_id);
    if (!fresh || fresh.closed_at_ms !== null) return;
    await updateAgent(tx.db, agent.agent_id, {
      closed_at_ms: tx.now,
      close_reason: reason,
      updated_at_ms: tx.now,
      ...(reason === 'orphaned' ? { orphaned_at_ms: tx.now } : {}),
    });
    const session = await getSession(tx.db, agent.session_id);
    if (session && session.ended_at_ms === null)
      await updateSession(tx.db, agent.session_id, {
        ended_at_ms: tx.now,
        end_reason: `agent ${reason}`,
        updated_at_ms: tx.now,
      });
    await this.trace(tx, agent, 'agent_closed', { reason });
    await this.orphanChildren(tx, agent.agent_id);
    if (reason === 'settled') return;
    // Work still live in a closed agent's session is cancelled; each cancellation reaches the
    // parent through onRunTerminal, in this same transaction.
    for (const run of await liveRunsOfSession(tx.db, agent.session_id)) {
      await this.engine.transition(tx, run.run_id, 'cancelled');
      if (isActive(run.status))
        tx.afterCommit(() => void this.engine.cancel(run.run_id).catch(() => undefined));
    }
  }

  private async orphanChildren(tx: WriteTx, parentAgentId: string): Promise<void> {
    for (const child of await childrenOf(tx.db, parentAgentId))
      if (child.closed_at_ms === null) await this.close(tx, child, 'orphaned');
  }

  private async trace(tx: WriteTx, agent: AgentRow, kind: string, extra: Record<string, unknown>) {
    await this.engine.events.append(tx, [
      {
        name: 'trace',
        session_id: agent.parent_session_id,
        data: {
          // session_id is the stream's (the parent's); the child's is child_session_id.
          trace: {
            kind,
            session_id: agent.parent_session_id,
            agent_id: agent.agent_id,
            parent_agent_id: agent.parent_agent_id,
            child_session_id: agent.session_id,
            ...extra,
          },
        },
      },
    ]);
  }
}
