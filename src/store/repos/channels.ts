// Channels (migration 0030): records, roster, the append-only event log, materialized messages and
// reactions, turn leases and per-thread turn state. Bigint columns come back as strings on
// PostgreSQL: every read normalizes them.
import type {
  ChannelLeasesTable,
  ChannelMembersTable,
  ChannelMessagesTable,
  ChannelReactionsTable,
  ChannelsTable,
  ChannelThreadsTable,
  Executor,
} from '../schema.ts';

export type ChannelRow = ChannelsTable;
export type ChannelMemberRow = ChannelMembersTable;
export type ChannelMessageRow = ChannelMessagesTable;
export type ChannelReactionRow = ChannelReactionsTable;
export type ChannelLeaseRow = ChannelLeasesTable;
export type ChannelThreadRow = ChannelThreadsTable;

const n = (v: unknown): number => Number(v);
const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const channel = (r: ChannelRow): ChannelRow => ({
  ...r,
  paused: n(r.paused),
  last_seq: n(r.last_seq),
  created_at_ms: n(r.created_at_ms),
  updated_at_ms: n(r.updated_at_ms),
});
const member = (r: ChannelMemberRow): ChannelMemberRow => ({
  ...r,
  muted: n(r.muted),
  last_spoke_at_ms: nn(r.last_spoke_at_ms),
  created_at_ms: n(r.created_at_ms),
  updated_at_ms: n(r.updated_at_ms),
});
const message = (r: ChannelMessageRow): ChannelMessageRow => ({
  ...r,
  seq: n(r.seq),
  created_at_ms: n(r.created_at_ms),
});
const lease = (r: ChannelLeaseRow): ChannelLeaseRow => ({
  ...r,
  remaining_reply_budget: n(r.remaining_reply_budget),
  expires_at_ms: n(r.expires_at_ms),
  agent_reply_count_since_last_human: n(r.agent_reply_count_since_last_human),
  created_at_ms: n(r.created_at_ms),
  ended_at_ms: nn(r.ended_at_ms),
});
const thread = (r: ChannelThreadRow): ChannelThreadRow => ({
  ...r,
  turns_since_human: n(r.turns_since_human),
  agent_replies_since_human: n(r.agent_replies_since_human),
  autonomous: n(r.autonomous),
  created_at_ms: n(r.created_at_ms),
  updated_at_ms: n(r.updated_at_ms),
});

// ------------------------------------------------------------------ channels

export async function getChannel(db: Executor, id: string): Promise<ChannelRow | undefined> {
  const r = await db.selectFrom('channels').selectAll().where('channel_id', '=', id).executeTakeFirst();
  return r && channel(r);
}

export async function insertChannel(db: Executor, row: ChannelRow): Promise<boolean> {
  const res = await db
    .insertInto('channels')
    .values(row)
    .onConflict((oc) => oc.column('channel_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function updateChannel(db: Executor, id: string, patch: Partial<ChannelRow>): Promise<void> {
  await db.updateTable('channels').set(patch).where('channel_id', '=', id).execute();
}

export async function allChannels(db: Executor): Promise<ChannelRow[]> {
  return (await db.selectFrom('channels').selectAll().orderBy('channel_id').execute()).map(channel);
}

/** Removes the channel and everything derived from it (§1.11), in the caller's transaction. */
export async function deleteChannelRows(db: Executor, id: string): Promise<void> {
  for (const table of [
    'channel_reactions',
    'channel_messages',
    'channel_events',
    'channel_leases',
    'channel_threads',
    'channel_members',
    'channels',
  ] as const)
    await db.deleteFrom(table).where('channel_id', '=', id).execute();
}

/** Reserves the next event sequence number of a channel (writes are serialized). */
export async function nextSeq(db: Executor, id: string): Promise<number> {
  const row = await db
    .updateTable('channels')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('channel_id', '=', id)
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return n(row.last_seq);
}

export async function appendChannelEvent(
  db: Executor,
  ev: { channel_id: string; seq: number; kind: string; payload: unknown; created_at_ms: number },
): Promise<void> {
  await db
    .insertInto('channel_events')
    .values({ ...ev, payload: JSON.stringify(ev.payload) })
    .execute();
}

// ------------------------------------------------------------------ members

export async function membersOf(db: Executor, channelId: string): Promise<ChannelMemberRow[]> {
  const rows = await db
    .selectFrom('channel_members')
    .selectAll()
    .where('channel_id', '=', channelId)
    .orderBy('created_at_ms')
    .orderBy('member_id')
    .execute();
  return rows.map(member);
}

export async function getMember(
  db: Executor,
  channelId: string,
  memberId: string,
): Promise<ChannelMemberRow | undefined> {
  const r = await db
    .selectFrom('channel_members')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return r && member(r);
}

export async function upsertMemberRow(db: Executor, row: ChannelMemberRow): Promise<void> {
  await db
    .insertInto('channel_members')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['channel_id', 'member_id']).doUpdateSet({
        member_kind: row.member_kind,
        display_name: row.display_name,
        display_name_mode: row.display_name_mode,
        session_id: row.session_id,
        actor_id: row.actor_id,
        role: row.role,
        expertise_tags: row.expertise_tags,
        participation_mode: row.participation_mode,
        muted: row.muted,
        updated_at_ms: row.updated_at_ms,
      }),
    )
    .execute();
}

export async function deleteMemberRow(db: Executor, channelId: string, memberId: string): Promise<boolean> {
  const res = await db
    .deleteFrom('channel_members')
    .where('channel_id', '=', channelId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function markSpoke(
  db: Executor,
  channelId: string,
  memberId: string,
  at: number,
): Promise<void> {
  await db
    .updateTable('channel_members')
    .set({ last_spoke_at_ms: at })
    .where('channel_id', '=', channelId)
    .where('member_id', '=', memberId)
    .execute();
}

export async function countMembers(db: Executor, channelId: string): Promise<number> {
  const r = await db
    .selectFrom('channel_members')
    .select((eb) => eb.fn.countAll().as('c'))
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return n(r?.c ?? 0);
}

// ------------------------------------------------------------------ messages and reactions

export async function insertMessage(db: Executor, row: ChannelMessageRow): Promise<void> {
  await db.insertInto('channel_messages').values(row).execute();
}

export async function getMessage(
  db: Executor,
  channelId: string,
  messageId: string,
): Promise<ChannelMessageRow | undefined> {
  const r = await db
    .selectFrom('channel_messages')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return r && message(r);
}

export async function messageOfRun(db: Executor, runId: string): Promise<ChannelMessageRow | undefined> {
  const r = await db
    .selectFrom('channel_messages')
    .selectAll()
    .where('origin_run_id', '=', runId)
    .executeTakeFirst();
  return r && message(r);
}

/** Chronological; with a thread, only its messages. */
export async function listMessages(
  db: Executor,
  channelId: string,
  q: { thread?: string; afterSeq?: number; limitLatest?: number },
): Promise<ChannelMessageRow[]> {
  let query = db.selectFrom('channel_messages').selectAll().where('channel_id', '=', channelId);
  if (q.thread !== undefined) query = query.where('thread_root_message_id', '=', q.thread);
  if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
  if (q.limitLatest !== undefined) {
    const rows = await query.orderBy('seq', 'desc').limit(q.limitLatest).execute();
    return rows.map(message).reverse();
  }
  return (await query.orderBy('seq').execute()).map(message);
}

export async function messageStats(
  db: Executor,
  channelId: string,
): Promise<{ count: number; last_at: number | null }> {
  const r = await db
    .selectFrom('channel_messages')
    .select((eb) => [eb.fn.countAll().as('c'), eb.fn.max('created_at_ms').as('last')])
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return { count: n(r?.c ?? 0), last_at: nn(r?.last) };
}

export async function reactionsOf(
  db: Executor,
  channelId: string,
  messageIds: string[],
): Promise<ChannelReactionRow[]> {
  if (messageIds.length === 0) return [];
  const out: ChannelReactionRow[] = [];
  for (let i = 0; i < messageIds.length; i += 500) {
    const rows = await db
      .selectFrom('channel_reactions')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('message_id', 'in', messageIds.slice(i, i + 500))
      .orderBy('created_at_ms')
      .execute();
    out.push(...rows.map((r) => ({ ...r, created_at_ms: n(r.created_at_ms) })));
  }
  return out;
}

/** False when the same actor already reacted with the same emoji (idempotent, decision 343). */
export async function addReactionRow(db: Executor, row: ChannelReactionRow): Promise<boolean> {
  const res = await db
    .insertInto('channel_reactions')
    .values(row)
    .onConflict((oc) => oc.columns(['message_id', 'actor_id', 'emoji']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function removeReactionRow(
  db: Executor,
  messageId: string,
  actorId: string,
  emoji: string,
): Promise<boolean> {
  const res = await db
    .deleteFrom('channel_reactions')
    .where('message_id', '=', messageId)
    .where('actor_id', '=', actorId)
    .where('emoji', '=', emoji)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

// ------------------------------------------------------------------ threads and leases

export async function getThread(
  db: Executor,
  channelId: string,
  root: string,
): Promise<ChannelThreadRow | undefined> {
  const r = await db
    .selectFrom('channel_threads')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('thread_root_message_id', '=', root)
    .executeTakeFirst();
  return r && thread(r);
}

export async function putThread(db: Executor, row: ChannelThreadRow): Promise<void> {
  const { channel_id, thread_root_message_id, created_at_ms, ...rest } = row;
  await db
    .insertInto('channel_threads')
    .values(row)
    .onConflict((oc) => oc.columns(['channel_id', 'thread_root_message_id']).doUpdateSet(rest))
    .execute();
}

export async function autonomousRootsSince(
  db: Executor,
  channelId: string,
  since: number,
): Promise<ChannelThreadRow[]> {
  const rows = await db
    .selectFrom('channel_threads')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('autonomous', '=', 1)
    .where('created_at_ms', '>=', since)
    .execute();
  return rows.map(thread);
}

export async function insertLease(db: Executor, row: ChannelLeaseRow): Promise<void> {
  await db.insertInto('channel_leases').values(row).execute();
}

export async function updateLease(
  db: Executor,
  turnId: string,
  patch: Partial<ChannelLeaseRow>,
): Promise<void> {
  await db.updateTable('channel_leases').set(patch).where('turn_id', '=', turnId).execute();
}

export async function activeLeases(
  db: Executor,
  channelId: string,
  root?: string,
): Promise<ChannelLeaseRow[]> {
  let q = db
    .selectFrom('channel_leases')
    .selectAll()
    .where('state', '=', 'active')
    .where('channel_id', '=', channelId);
  if (root !== undefined) q = q.where('thread_root_message_id', '=', root);
  return (await q.orderBy('created_at_ms').orderBy('turn_id').execute()).map(lease);
}

export async function activeLeaseOfRun(db: Executor, runId: string): Promise<ChannelLeaseRow | undefined> {
  const r = await db
    .selectFrom('channel_leases')
    .selectAll()
    .where('active_run_id', '=', runId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return r && lease(r);
}

export async function allActiveLeases(db: Executor): Promise<ChannelLeaseRow[]> {
  return (await db.selectFrom('channel_leases').selectAll().where('state', '=', 'active').execute()).map(
    lease,
  );
}

export async function expiredLeases(db: Executor, now: number): Promise<ChannelLeaseRow[]> {
  const rows = await db
    .selectFrom('channel_leases')
    .selectAll()
    .where('state', '=', 'active')
    .where('expires_at_ms', '<=', now)
    .execute();
  return rows.map(lease);
}
