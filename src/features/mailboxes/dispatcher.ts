// Mailbox delivery: one message in flight per target agent, strictly in order, exactly once.
//
// A message is delivered when its target's session has no live run: ONE transaction claims the
// head of the target's queue (queued → dispatched, delivery_run_id) and creates the delivery run
// (engine.submitInTx), so a crash leaves either both or neither. The run's end is settled in the
// transaction that ends it (engine.onRunTerminal), and only then can the next message go. A
// dispatched message is never dispatched again while its run lives; the engine's recovery resumes
// or re-queues that same run after a crash. See docs/mailboxes.md for the whole argument.
// Replicas on one PostgreSQL database each pump: the claim re-reads the queue head and the target's
// live runs inside its write transaction (writes are serialized across replicas) and moves the
// message with a compare-and-set, so a message goes out once whichever replicas pump together.

import type { Engine } from '../../engine/engine.ts';
import type { KeyedWaiters } from '../../engine/keyed-waiters.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { outputsOfRun, runJournal } from '../../store/repos/journal.ts';
import {
  agentsWithQueuedMessages,
  claimMessage,
  expiredClarifications,
  expiredQueuedMessages,
  getClarification,
  getMessage,
  type MailboxMessageRow,
  type MailboxStatus,
  messageOfDeliveryRun,
  messagesOfAgent,
  messagesWithStatus,
  pendingClarificationsOfChildRun,
  runsWithPendingClarifications,
  sessionOfAgent,
  settleMessage,
  sha256Hex,
} from '../../store/repos/mailboxes.ts';
import { getRun, isTerminal, liveRunsOfSession, type RunRow } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import { applyReply, settleClarification } from './clarifications.ts';
import { mailboxTrace } from './events.ts';
import { deliveryRequest } from './render.ts';

/**
 * A delivery run that fails (model or provider error, budget) is retried, up to this many runs in
 * total, only when it started no side-effecting tool call: a retry never repeats an effect.
 */
export const MAX_DELIVERY_ATTEMPTS = 3;

/** Another writer moved the message between our read and our claim (cannot happen while writes are serialized). */
class ClaimLost extends Error {}

const sideEffected = async (tx: WriteTx, run: RunRow) =>
  (await runJournal(tx.db, run.run_id)).some((e) => e.kind === 'tool_call_started');

export class MailboxDispatcher {
  private readonly engine: Engine;
  private readonly waiters: KeyedWaiters;
  private started = false;
  private stopped = false;
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(engine: Engine, waiters: KeyedWaiters) {
    this.engine = engine;
    this.waiters = waiters;
    engine.onRunTerminal((tx, run) => this.onRunTerminal(tx, run));
  }

  private get db() {
    return this.engine.store.db;
  }

  /** Boot: settle what the previous process left, dispatch, then sweep TTLs every `everyMs`. */
  async start(everyMs = 1000): Promise<void> {
    await this.recover();
    this.started = true;
    this.timer = setInterval(() => void this.sweep().catch((err) => this.logError(err)), everyMs);
    this.timer.unref();
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Dispatches whatever can go now; calls while a pass runs are folded into one more pass. */
  pump(): void {
    if (!this.started || this.stopped || this.engine.isDraining) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.again = false;
          for (const agentId of await agentsWithQueuedMessages(this.db)) {
            if (this.stopped || this.engine.isDraining) return;
            await this.dispatchFor(agentId);
          }
        } while (this.again);
      } catch (err) {
        this.logError(err);
      } finally {
        this.pumping = false;
      }
    })();
  }

  /** Expired messages are dead-lettered (never delivered stale); expired clarifications declined. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const m of await expiredQueuedMessages(this.db, now))
      await this.engine.store.write(async (tx) => {
        const current = await getMessage(tx.db, m.message_id);
        if (current?.status === 'queued') await this.deadLetter(tx, current, 'expired');
      });
    for (const c of await expiredClarifications(this.db, now))
      await this.engine.store.write(async (tx) => {
        const current = await getClarification(tx.db, c.request_id);
        if (current?.status !== 'pending') return;
        await settleClarification(this.engine, this.waiters, tx, current, {
          request_id: current.request_id,
          status: 'expired',
          declined: true,
          source: 'expired',
          reason: 'the clarification expired before the parent answered',
        });
      });
    this.pump();
  }

  // ---------------------------------------------------------------- dispatch

  private async dispatchFor(agentId: string): Promise<void> {
    // Cheap reads first: a target that is busy or has a delivery in flight needs no write.
    if ((await messagesOfAgent(this.db, agentId, ['dispatched'], 1)).length > 0) return;
    const session = await sessionOfAgent(this.db, agentId);
    if (
      session &&
      session.ended_at_ms === null &&
      (await liveRunsOfSession(this.db, session.session_id)).length
    )
      return;
    await this.claimHead(agentId).catch((err) => {
      if (!(err instanceof ClaimLost)) throw err;
    });
  }

  /** One transaction: the head of the agent's queue becomes a delivery run, or nothing happens. */
  private async claimHead(agentId: string): Promise<void> {
    await this.engine.store.write(async (tx) => {
      if (this.engine.isDraining) return;
      if ((await messagesOfAgent(tx.db, agentId, ['dispatched'], 1)).length > 0) return;
      for (;;) {
        const [head] = await messagesOfAgent(tx.db, agentId, ['queued'], 1);
        if (!head) return;
        if (!(await this.deliverable(tx, head))) continue;
        const target = (await sessionOfAgent(tx.db, agentId))!;
        if ((await liveRunsOfSession(tx.db, target.session_id)).length > 0) return;
        const attempt = head.delivery_attempts + 1;
        let run: RunRow;
        try {
          ({ run } = await this.engine.submitInTx(tx, target.session_id, deliveryRequest(head), {
            kind: head.kind === 'parent_clarification' ? 'parent_clarification' : 'mailbox_delivery',
            // A second run for the same attempt is impossible even if this code were wrong.
            idempotency: {
              keyHash: sha256Hex(`mailbox-delivery\n${head.message_id}\n${attempt}`),
              fingerprint: head.fingerprint,
            },
          }));
        } catch (err) {
          // Route not ready, draining: nothing was written; the message waits for the next pass.
          if (err instanceof DaemonError) return;
          throw err;
        }
        // Never a run without its claim: a lost compare-and-set rolls this writer back whole.
        if (!(await claimMessage(tx.db, head.message_id, run.run_id, tx.now))) throw new ClaimLost();
        await mailboxTrace(this.engine, tx, 'mailbox_message_dispatched', head, {
          run_id: run.run_id,
          attempt,
        });
        return;
      }
    });
  }

  /** Settles a head that must not become a run (and returns false), or says it can go. */
  private async deliverable(tx: WriteTx, head: MailboxMessageRow): Promise<boolean> {
    const target = await sessionOfAgent(tx.db, head.to_agent_id);
    if (!target) return this.deadLetter(tx, head, 'unknown_target_agent');
    if (head.expires_at_ms !== null && head.expires_at_ms <= tx.now)
      return this.deadLetter(tx, head, 'expired');
    if (target.ended_at_ms !== null) return this.deadLetter(tx, head, 'target_session_ended');
    if (head.kind === 'clarification_reply') {
      // Posted straight through the repo: apply it like the API would.
      try {
        await applyReply(this.engine, this.waiters, tx, head);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        await this.deadLetter(tx, head, err.code);
      }
      return false;
    }
    if (head.kind === 'parent_clarification') {
      const c = await getClarification(tx.db, head.correlation_id ?? '');
      if (c?.status !== 'pending')
        return this.deadLetter(tx, head, `clarification_${c?.status ?? 'missing'}`);
    }
    return true;
  }

  private async deadLetter(tx: WriteTx, m: MailboxMessageRow, reason: string): Promise<false> {
    const from: MailboxStatus[] = ['queued', 'dispatched'];
    if (!(await settleMessage(tx.db, m.message_id, from, 'dead_lettered', tx.now, reason))) return false;
    await mailboxTrace(this.engine, tx, 'mailbox_message_dead_lettered', m, { reason });
    if (m.kind === 'parent_clarification') await this.declineRequest(tx, m, reason);
    return false;
  }

  private async declineRequest(tx: WriteTx, m: MailboxMessageRow, reason: string): Promise<void> {
    const c = await getClarification(tx.db, m.correlation_id ?? '');
    if (c?.status !== 'pending') return;
    await settleClarification(this.engine, this.waiters, tx, c, {
      request_id: c.request_id,
      status: reason === 'expired' ? 'expired' : 'declined',
      declined: true,
      source: reason,
      reason: `the clarification request was not answered: ${reason}`,
    });
  }

  // ---------------------------------------------------------------- settlement

  /** In the transaction that ends any run: settle its delivery, release what it waited on. */
  private async onRunTerminal(tx: WriteTx, run: RunRow): Promise<void> {
    const m = await messageOfDeliveryRun(tx.db, run.run_id);
    if (m) await this.settleDelivery(tx, m, run);
    for (const c of await pendingClarificationsOfChildRun(tx.db, run.run_id))
      await settleClarification(this.engine, this.waiters, tx, c, {
        request_id: c.request_id,
        status: 'cancelled',
        declined: true,
        source: 'requester_run_ended',
        reason: `the requesting run ended as ${run.status}`,
      });
    tx.afterCommit(() => this.pump());
  }

  private async settleDelivery(tx: WriteTx, m: MailboxMessageRow, run: RunRow): Promise<void> {
    const ok = run.status === 'completed';
    if (m.kind === 'parent_clarification') {
      // Never retried: an unanswered clarification is declined so the child goes on.
      if (ok) await this.delivered(tx, m, run);
      else await this.settleFailed(tx, m, run, 'dead_lettered');
      const c = await getClarification(tx.db, m.correlation_id ?? '');
      if (c?.status !== 'pending') return;
      const outputs = await outputsOfRun(tx.db, run.run_id);
      const text = String(outputs.at(-1)?.content ?? '').trim();
      await settleClarification(
        this.engine,
        this.waiters,
        tx,
        c,
        ok && text
          ? {
              request_id: c.request_id,
              status: 'answered',
              declined: false,
              answer: text,
              answered_by_agent_id: m.to_agent_id,
              source: 'final_message',
            }
          : {
              request_id: c.request_id,
              status: 'declined',
              declined: true,
              source: ok ? 'no_answer' : `parent_run_${run.status}`,
              reason: ok
                ? 'the parent finished without an answer'
                : `the parent's clarification run ended as ${run.status}`,
            },
      );
      return;
    }
    if (ok) await this.delivered(tx, m, run);
    else if (
      run.status === 'failed' &&
      m.delivery_attempts < MAX_DELIVERY_ATTEMPTS &&
      !(await sideEffected(tx, run))
    )
      await this.settleFailed(tx, m, run, 'queued');
    else await this.settleFailed(tx, m, run, 'dead_lettered');
  }

  private async delivered(tx: WriteTx, m: MailboxMessageRow, run: RunRow): Promise<void> {
    if (await settleMessage(tx.db, m.message_id, ['dispatched'], 'delivered', tx.now))
      await mailboxTrace(this.engine, tx, 'mailbox_message_delivered', m, { run_id: run.run_id });
  }

  private async settleFailed(
    tx: WriteTx,
    m: MailboxMessageRow,
    run: RunRow,
    to: 'queued' | 'dead_lettered',
  ): Promise<void> {
    const why = `delivery_run_${run.status}${run.error ? `: ${run.error}` : ''}`;
    if (!(await settleMessage(tx.db, m.message_id, ['dispatched'], to, tx.now, why))) return;
    await mailboxTrace(
      this.engine,
      tx,
      to === 'queued' ? 'mailbox_delivery_retry_queued' : 'mailbox_message_dead_lettered',
      m,
      { run_id: run.run_id, reason: why, attempt: m.delivery_attempts },
    );
  }

  // ---------------------------------------------------------------- boot

  /**
   * After a crash: a dispatched message whose run is terminal is settled as the terminal hook
   * would have; one whose run still lives keeps waiting (the engine resumes or re-queues that run);
   * a clarification whose requesting run is gone is cancelled.
   */
  async recover(): Promise<void> {
    for (const m of await messagesWithStatus(this.db, 'dispatched')) {
      await this.engine.store.write(async (tx) => {
        const current = await getMessage(tx.db, m.message_id);
        if (current?.status !== 'dispatched') return;
        const run = current.delivery_run_id ? await getRun(tx.db, current.delivery_run_id) : undefined;
        if (!run) await this.deadLetter(tx, current, 'delivery_run_missing');
        else if (isTerminal(run.status)) await this.settleDelivery(tx, current, run);
      });
    }
    for (const child_run_id of await runsWithPendingClarifications(this.db)) {
      const run = await getRun(this.db, child_run_id);
      if (run && !isTerminal(run.status)) continue;
      await this.engine.store.write(async (tx) => {
        for (const c of await pendingClarificationsOfChildRun(tx.db, child_run_id))
          await settleClarification(this.engine, this.waiters, tx, c, {
            request_id: c.request_id,
            status: 'cancelled',
            declined: true,
            source: 'requester_run_ended',
            reason: `the requesting run ended as ${run?.status ?? 'missing'}`,
          });
      });
    }
  }

  private logError(err: unknown): void {
    this.engine.opts.log.error({ err: String((err as Error)?.stack ?? err) }, 'mailbox dispatch failed');
  }
}
