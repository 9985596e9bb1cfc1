// Public-turn arbitration and leases (api-collab §1.3, §1.7, §1.12, §1.13; decisions 338-345).
//
// Everything here runs inside the transaction that changed the thread: a post and the turns it
// grants commit together; a delivery run's end, its public post and the lease's release commit
// with the run's terminal transition (engine.onRunTerminal), so one delivery posts at most once
// whatever crashes. A lease names its run; the run names its turn in its metadata.
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Engine } from '../../engine/engine.ts';
import type { InputItem, StoredRunRequest } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  activeLeases,
  type ChannelMemberRow,
  type ChannelMessageRow,
  type ChannelRow,
  type ChannelThreadRow,
  getChannel,
  getMessage,
  getThread,
  insertLease,
  listMessages,
  membersOf,
  putThread,
  reactionsOf,
} from '../../store/repos/channels.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { WriteTx } from '../../store/store.ts';
import { deliveryText } from './delivery-input.ts';
import { type CounterName, effectiveMode, policyOf } from './views.ts';

const ulid = monotonicFactory();
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export interface TurnContext {
  engine: Engine;
  bump(tx: WriteTx, channelId: string, name: CounterName, by?: number): Promise<void>;
  record(tx: WriteTx, channelId: string, kind: string, payload: Record<string, unknown>): Promise<void>;
}

/** The thread's turn state after a message: a human message opens a new budget (decision 339). */
export async function noteMessage(
  tx: WriteTx,
  msg: ChannelMessageRow,
  senderKind: string,
  autonomousRoot: boolean,
): Promise<ChannelThreadRow> {
  const root = msg.thread_root_message_id;
  const prev = await getThread(tx.db, msg.channel_id, root);
  const base: ChannelThreadRow = prev ?? {
    channel_id: msg.channel_id,
    thread_root_message_id: root,
    last_human_message_id: null,
    turns_since_human: 0,
    agent_replies_since_human: 0,
    queued_member_ids: '[]',
    origin_message_id: msg.message_id,
    autonomous: autonomousRoot ? 1 : 0,
    created_at_ms: tx.now,
    updated_at_ms: tx.now,
  };
  const next: ChannelThreadRow =
    senderKind === 'human_actor'
      ? {
          ...base,
          last_human_message_id: msg.message_id,
          turns_since_human: 0,
          agent_replies_since_human: 0,
          queued_member_ids: '[]',
          origin_message_id: msg.message_id,
          updated_at_ms: tx.now,
        }
      : {
          ...base,
          agent_replies_since_human: base.agent_replies_since_human + (prev ? 1 : 0),
          origin_message_id: msg.message_id,
          updated_at_ms: tx.now,
        };
  await putThread(tx.db, next);
  return next;
}

function rankKey(m: ChannelMemberRow): number {
  return m.last_spoke_at_ms ?? -1;
}

/**
 * Who may speak next on a thread, best first (decision 338): addressed members in the given order;
 * then, when the message addresses no one, the member a reply answers (sticky), prefer_selected
 * before selected_only, the least recently heard first; always_listen members follow in any case.
 * Muted members, manual_only members not addressed, the sender, and human actors never appear.
 */
export function candidates(
  channel: ChannelRow,
  members: ChannelMemberRow[],
  msg: ChannelMessageRow,
  senderKind: string,
  queued: string[],
  stickyMemberId: string | null,
): { selected: ChannelMemberRow[]; listeners: ChannelMemberRow[] } {
  const addressed: string[] = JSON.parse(msg.addressed_member_ids);
  const eligible = members.filter(
    (m) => m.member_kind === 'session' && m.muted === 0 && m.member_id !== msg.sender_member_id,
  );
  const byId = new Map(eligible.map((m) => [m.member_id, m]));
  const out: ChannelMemberRow[] = [];
  const push = (m: ChannelMemberRow | undefined) => {
    if (m && !out.includes(m)) out.push(m);
  };
  for (const id of addressed) push(byId.get(id));
  for (const id of queued) push(byId.get(id));
  const listeners = eligible.filter((m) => effectiveMode(channel, m) === 'always_listen');
  if (addressed.length === 0 && senderKind === 'human_actor') {
    if (stickyMemberId) {
      const s = byId.get(stickyMemberId);
      if (s && effectiveMode(channel, s) !== 'manual_only') push(s);
    }
    const pool = eligible.filter((m) =>
      ['prefer_selected', 'selected_only'].includes(effectiveMode(channel, m)),
    );
    pool.sort((a, b) => {
      const pa = effectiveMode(channel, a) === 'prefer_selected' ? 0 : 1;
      const pb = effectiveMode(channel, b) === 'prefer_selected' ? 0 : 1;
      return pa - pb || rankKey(a) - rankKey(b);
    });
    for (const m of pool) push(m);
  }
  return { selected: out, listeners: listeners.filter((m) => !out.includes(m)) };
}

/**
 * Grants the turns a message allows and starts their delivery runs. Call after noteMessage, in the
 * same transaction. Paused channels grant nothing.
 */
export async function arbitrate(
  ctx: TurnContext,
  tx: WriteTx,
  channelId: string,
  root: string,
  trigger: ChannelMessageRow | null,
): Promise<void> {
  const channel = await getChannel(tx.db, channelId);
  if (!channel || channel.paused === 1) return;
  const thread = await getThread(tx.db, channelId, root);
  if (!thread) return;
  const policy = policyOf(channel);
  const members = await membersOf(tx.db, channelId);
  const origin = trigger ?? (await listMessages(tx.db, channelId, { thread: root, limitLatest: 1 }))[0];
  if (!origin) return;
  const senderKind = origin.sender_kind;
  const queued: string[] = JSON.parse(thread.queued_member_ids);
  let sticky: string | null = null;
  if (origin.reply_to_message_id) {
    const parent = await getMessage(tx.db, channelId, origin.reply_to_message_id);
    if (parent?.sender_kind === 'session') sticky = parent.sender_member_id;
  }
  const { selected, listeners } = trigger
    ? candidates(channel, members, origin, senderKind, queued, sticky)
    : { selected: members.filter((m) => queued.includes(m.member_id)), listeners: [] };
  const active = await activeLeases(tx.db, channelId, root);
  const holding = new Set(active.map((l) => l.holder_member_id));
  const addressed: string[] = JSON.parse(origin.addressed_member_ids);
  let turns = thread.turns_since_human;
  const grants: ChannelMemberRow[] = [];
  const waiting: ChannelMemberRow[] = [];
  let slots = policy.max_parallel_public_speakers - holding.size;
  const skipped = { turns_skipped_cooldown: 0, turns_skipped_budget: 0 };
  // Only addressed members, queued ones and listeners wait for a slot; the selection pool does not (no fan-out).
  const mayWait = (m: ChannelMemberRow) =>
    addressed.includes(m.member_id) ||
    queued.includes(m.member_id) ||
    effectiveMode(channel, m) === 'always_listen';
  const alive = async (m: ChannelMemberRow) => {
    const session = await getSession(tx.db, m.session_id!);
    return !!session && session.ended_at_ms === null;
  };
  for (const m of [...selected, ...listeners]) {
    if (holding.has(m.member_id)) continue;
    // Compared only when there is a cooldown: clocks of concurrent writers may differ by a millisecond.
    const cooling =
      policy.member_cooldown_ms > 0 && (m.last_spoke_at_ms ?? -Infinity) + policy.member_cooldown_ms > tx.now;
    if (cooling && !addressed.includes(m.member_id)) {
      skipped.turns_skipped_cooldown++;
      continue;
    }
    if (turns + grants.length >= policy.max_agent_replies_per_human_message) {
      skipped.turns_skipped_budget++;
      continue;
    }
    if (slots > 0) {
      if (!(await alive(m))) continue;
      grants.push(m);
      slots--;
    } else if (mayWait(m) && (await alive(m))) {
      waiting.push(m);
    }
  }
  for (const [name, n] of Object.entries(skipped))
    if (n) await ctx.bump(tx, channelId, name as CounterName, n);
  const keep = waiting;
  const queue = keep.map((m) => m.member_id);
  turns += grants.length;
  await putThread(tx.db, {
    ...thread,
    turns_since_human: turns,
    queued_member_ids: JSON.stringify(queue),
    updated_at_ms: tx.now,
  });
  const queuedSessions = keep.map((m) => m.session_id!);
  let spent = thread.turns_since_human;
  for (const m of grants) {
    spent++;
    await grant(ctx, tx, channel, members, thread, origin, m, {
      remaining: policy.max_agent_replies_per_human_message - spent,
      timeout: policy.lease_timeout_ms,
      queuedSessions,
    });
  }
}

async function grant(
  ctx: TurnContext,
  tx: WriteTx,
  channel: ChannelRow,
  members: ChannelMemberRow[],
  thread: ChannelThreadRow,
  origin: ChannelMessageRow,
  member: ChannelMemberRow,
  o: { remaining: number; timeout: number; queuedSessions: string[] },
): Promise<void> {
  const turnId = `turn-${ulid().toLowerCase()}`;
  const recent = await listMessages(tx.db, channel.channel_id, {
    thread: thread.thread_root_message_id,
    limitLatest: 20,
  });
  const reactions = await reactionsOf(
    tx.db,
    channel.channel_id,
    recent.map((m) => m.message_id),
  );
  const text = deliveryText({ channel, members, member, recent, reactions, origin, turnId });
  const files = (JSON.parse(origin.output).parts as Array<{ type: string; asset_id?: string }>)
    .filter((p) => p.type === 'asset' && p.asset_id)
    .map((p): InputItem => ({ type: 'asset_reference', asset_id: p.asset_id! }));
  const request: StoredRunRequest = {
    source_plugin: 'channel',
    source_kind: 'channel_delivery',
    actor_id: origin.sender_actor_id,
    content: files.length ? '' : text,
    // The channel is where the answer goes: not also to the session's own reply targets.
    reply_targets: [],
    metadata: {
      kheish_channel: {
        channel_id: channel.channel_id,
        thread_root_message_id: thread.thread_root_message_id,
        origin_message_id: origin.message_id,
        turn_id: turnId,
        member_id: member.member_id,
      },
    },
  };
  if (files.length) request.input_items = [{ type: 'text', text }, ...files];
  let runId: string;
  try {
    const { run } = await tx.savepoint(() =>
      ctx.engine.submitInTx(tx, member.session_id!, request, {
        kind: 'channel_delivery',
        idempotency: { keyHash: sha(`channel-turn\n${turnId}`), fingerprint: sha(turnId) },
      }),
    );
    runId = run.run_id;
  } catch (err) {
    // A session that cannot take the run now (route not ready, draining) loses this turn only.
    if (err instanceof DaemonError) return;
    throw err;
  }
  await insertLease(tx.db, {
    turn_id: turnId,
    channel_id: channel.channel_id,
    thread_root_message_id: thread.thread_root_message_id,
    origin_message_id: origin.message_id,
    holder_member_id: member.member_id,
    holder_session_id: member.session_id!,
    active_run_id: runId,
    state: 'active',
    remaining_reply_budget: Math.max(0, o.remaining),
    expires_at_ms: tx.now + o.timeout,
    queued_candidate_session_ids: JSON.stringify(o.queuedSessions),
    last_human_message_id: thread.last_human_message_id,
    agent_reply_count_since_last_human: thread.agent_replies_since_human,
    posted_message_id: null,
    end_reason: null,
    created_at_ms: tx.now,
    ended_at_ms: null,
  });
  await ctx.bump(tx, channel.channel_id, 'turns_granted');
  await ctx.record(tx, channel.channel_id, 'lease_granted', {
    turn_id: turnId,
    thread_root_message_id: thread.thread_root_message_id,
    holder_member_id: member.member_id,
    holder_session_id: member.session_id,
    active_run_id: runId,
  });
}
