// The end of a public turn (api-collab §1.7, §1.13; decisions 340, 344, 345). A lease ends in the
// transaction that ends its run: the final answer is posted as the member, the lease is released
// with the posted message id, and the next turn (queued candidates, within the budget) is granted.
// A lease that outlives lease_timeout_ms expires: the floor passes on and its run is cancelled, so
// a late answer is never posted. On boot, leases are reattached to their live runs or settled.
import type { Engine } from '../../engine/engine.ts';
import type { InputItem } from '../../engine/types.ts';
import {
  activeLeaseOfRun,
  allActiveLeases,
  type ChannelLeaseRow,
  expiredLeases,
  getChannel,
  getMember,
  messageOfRun,
  updateLease,
} from '../../store/repos/channels.ts';
import { outputsOfRun } from '../../store/repos/journal.ts';
import { getRun, isTerminal, type RunRow } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import { NO_REPLY } from './delivery-input.ts';
import type { ChannelsService } from './service.ts';
import { arbitrate } from './turns.ts';

type AttachmentName = { file_name: string; media_type: string };

export interface TurnReply {
  content: string;
  /** Text then the emitted attachments as asset references (empty for a plain text answer). */
  items: InputItem[];
  names: Map<string, AttachmentName>;
}

/**
 * The public reply of a delivery run: its last emit_output record, else its final answer. The
 * record's `attachment` parts (api-core §3.7) become the public message's attachments.
 */
export function replyOf(records: Record<string, unknown>[]): TurnReply | null {
  const emitted = records.filter((r) => r.source_kind !== 'assistant_text');
  const last = (emitted.length ? emitted : records).at(-1);
  if (!last) return null;
  const content = String(last.content ?? '').trim();
  const names = new Map<string, AttachmentName>();
  for (const part of Array.isArray(last.parts) ? last.parts : []) {
    const a = (part as { type?: string; attachment?: { id?: string } & AttachmentName }).attachment;
    if ((part as { type?: string }).type === 'attachment' && a?.id)
      names.set(a.id, { file_name: a.file_name, media_type: a.media_type });
  }
  if ((content === '' || content === NO_REPLY) && names.size === 0) return null;
  if (names.size === 0) return { content, items: [], names };
  const items: InputItem[] = [
    ...(content && content !== NO_REPLY ? [{ type: 'text' as const, text: content }] : []),
    ...[...names.keys()].map((asset_id) => ({ type: 'asset_reference' as const, asset_id })),
  ];
  return { content, items, names };
}

export class TurnSettler {
  private readonly channels: ChannelsService;
  private readonly engine: Engine;
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(channels: ChannelsService, engine: Engine) {
    this.channels = channels;
    this.engine = engine;
    engine.onRunTerminal((tx, run) => this.onRunTerminal(tx, run));
  }

  async onRunTerminal(tx: WriteTx, run: RunRow): Promise<void> {
    if (run.kind !== 'channel_delivery') return;
    const lease = await activeLeaseOfRun(tx.db, run.run_id);
    if (!lease) return;
    await this.endLease(tx, lease, run);
  }

  /** Posts the run's answer (once per run), releases the lease and passes the floor. */
  private async endLease(tx: WriteTx, lease: ChannelLeaseRow, run: RunRow | null): Promise<void> {
    const channel = await getChannel(tx.db, lease.channel_id);
    if (!channel) return;
    // Released first: the post below arbitrates the next turn and must see this speaker's slot free.
    await updateLease(tx.db, lease.turn_id, {
      state: 'released',
      end_reason: run ? `run_${run.status}` : 'run_missing',
      ended_at_ms: tx.now,
    });
    let postedId: string | null = null;
    if (run?.status === 'completed') {
      const existing = await messageOfRun(tx.db, run.run_id);
      const reply = existing ? null : replyOf(await outputsOfRun(tx.db, run.run_id));
      const member = await getMember(tx.db, lease.channel_id, lease.holder_member_id);
      if (existing) postedId = existing.message_id;
      else if (reply && member?.session_id) {
        postedId = await this.channels.log.postInTx(
          tx,
          lease.channel_id,
          {
            sender_actor_id: member.member_id,
            sender_session_id: member.session_id,
            reply_to_message_id: lease.origin_message_id,
            content: reply.content,
            metadata: { kheish_channel_turn: { turn_id: lease.turn_id, run_id: run.run_id } },
          },
          reply.items.length ? reply.items : undefined,
          reply.names,
          { originRunId: run.run_id },
        );
        await this.channels.bump(tx, lease.channel_id, 'agent_replies_posted');
      }
    }
    if (postedId) await updateLease(tx.db, lease.turn_id, { posted_message_id: postedId });
    if (!postedId) await this.channels.bump(tx, lease.channel_id, 'deliveries_without_post');
    await this.channels.record(tx, lease.channel_id, 'lease_released', {
      turn_id: lease.turn_id,
      active_run_id: lease.active_run_id,
      posted_message_id: postedId,
    });
    // A post already arbitrated (it is a message); without one, the queue may still speak.
    if (!postedId) await arbitrate(this.channels, tx, lease.channel_id, lease.thread_root_message_id, null);
  }

  start(everyMs = 200): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Expires leases past their timeout; their runs are cancelled after the commit. */
  async sweep(): Promise<void> {
    if (this.sweeping || this.engine.isDraining) return;
    this.sweeping = true;
    try {
      const due = await expiredLeases(this.channels.db, Date.now());
      if (due.length === 0) return;
      const cancel: string[] = [];
      await this.engine.store.write(async (tx) => {
        for (const l of await expiredLeases(tx.db, tx.now)) {
          await updateLease(tx.db, l.turn_id, {
            state: 'expired',
            end_reason: 'lease_timeout',
            ended_at_ms: tx.now,
          });
          await this.channels.bump(tx, l.channel_id, 'leases_expired');
          await this.channels.record(tx, l.channel_id, 'lease_expired', {
            turn_id: l.turn_id,
            active_run_id: l.active_run_id,
          });
          if (l.active_run_id) cancel.push(l.active_run_id);
          await arbitrate(this.channels, tx, l.channel_id, l.thread_root_message_id, null);
        }
      });
      for (const runId of cancel) await this.engine.cancel(runId).catch(() => undefined);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Boot, after run recovery: a lease whose run lives keeps it (reattached); one whose run ended
   * without settling it (cannot happen while the terminal hook commits with the run, but a store
   * restored from elsewhere could) is settled now, reusing a post the run already made.
   */
  async recover(): Promise<{ reattached: number; settled: number }> {
    const stats = { reattached: 0, settled: 0 };
    for (const l of await allActiveLeases(this.channels.db)) {
      const run = l.active_run_id ? await getRun(this.channels.db, l.active_run_id) : undefined;
      await this.engine.store.write(async (tx) => {
        if (run && !isTerminal(run.status)) {
          stats.reattached++;
          await this.channels.record(tx, l.channel_id, 'lease_reattached', {
            turn_id: l.turn_id,
            active_run_id: l.active_run_id,
            run_status: run.status,
          });
          return;
        }
        const current = await activeLeaseOfRun(tx.db, l.active_run_id ?? '');
        if (!current && run) return;
        stats.settled++;
        await this.endLease(tx, l, run ?? null);
      });
    }
    return stats;
  }
}
