// Channel stimuli and thread-work (migration 0031). Bigint columns come back as strings on
// PostgreSQL: every read normalizes them. A claim is a conditional update (pending → claimed), so
// two workers (replicas) never claim the same stimulus.
import type { ChannelStimuliTable, ChannelThreadWorkTable, Executor } from '../schema.ts';

export type StimulusRow = ChannelStimuliTable;
export type ThreadWorkRow = ChannelThreadWorkTable;

const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const stimulus = (r: StimulusRow): StimulusRow => ({
  ...r,
  available_at_ms: nn(r.available_at_ms),
  expires_at_ms: nn(r.expires_at_ms),
  retry_at_ms: nn(r.retry_at_ms),
  claimed_at_ms: nn(r.claimed_at_ms),
  dispatched_at_ms: nn(r.dispatched_at_ms),
  attempts: Number(r.attempts),
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
});

const work = (r: ThreadWorkRow): ThreadWorkRow => ({
  ...r,
  last_signal_at_ms: nn(r.last_signal_at_ms),
  last_main_promotion_at_ms: nn(r.last_main_promotion_at_ms),
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
});

export const QUEUED_STATES = ['pending', 'claimed'] as const;

export async function insertStimulus(db: Executor, row: StimulusRow): Promise<void> {
  await db.insertInto('channel_stimuli').values(row).execute();
}

export async function getStimulus(db: Executor, id: string): Promise<StimulusRow | undefined> {
  const r = await db
    .selectFrom('channel_stimuli')
    .selectAll()
    .where('stimulus_id', '=', id)
    .executeTakeFirst();
  return r && stimulus(r);
}

export async function updateStimulus(db: Executor, id: string, patch: Partial<StimulusRow>): Promise<void> {
  await db.updateTable('channel_stimuli').set(patch).where('stimulus_id', '=', id).execute();
}

/** pending → claimed, only if still pending; true when this caller won the claim. */
export async function claimStimulus(db: Executor, id: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('channel_stimuli')
    .set({ state: 'claimed', claimed_at_ms: now, updated_at_ms: now })
    .where('stimulus_id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Oldest first (ids are monotonic ULIDs). */
export async function listStimuli(
  db: Executor,
  channelId: string,
  q: { thread?: string; states?: readonly string[]; limitLatest?: number },
): Promise<StimulusRow[]> {
  let query = db.selectFrom('channel_stimuli').selectAll().where('channel_id', '=', channelId);
  if (q.thread !== undefined)
    query = query.where((eb) =>
      eb.or([
        eb('thread_root_message_id', '=', q.thread!),
        eb('dispatched_thread_root_message_id', '=', q.thread!),
      ]),
    );
  if (q.states?.length) query = query.where('state', 'in', [...q.states]);
  if (q.limitLatest !== undefined) {
    const rows = await query.orderBy('stimulus_id', 'desc').limit(q.limitLatest).execute();
    return rows.map(stimulus).reverse();
  }
  return (await query.orderBy('stimulus_id').execute()).map(stimulus);
}

/** Every stimulus in a state, all channels, oldest first (the worker's pass and recovery). */
export async function stimuliInState(db: Executor, state: string): Promise<StimulusRow[]> {
  const rows = await db
    .selectFrom('channel_stimuli')
    .selectAll()
    .where('state', '=', state)
    .orderBy('stimulus_id')
    .execute();
  return rows.map(stimulus);
}

export async function countStimuli(
  db: Executor,
  channelId: string,
  states: readonly string[],
): Promise<number> {
  const r = await db
    .selectFrom('channel_stimuli')
    .select((eb) => eb.fn.countAll().as('c'))
    .where('channel_id', '=', channelId)
    .where('state', 'in', [...states])
    .executeTakeFirst();
  return Number(r?.c ?? 0);
}

/** Channel-scope stimuli dispatched since `since` (the roots the worker opened), oldest first. */
export async function rootsDispatchedSince(
  db: Executor,
  channelId: string,
  since: number,
): Promise<StimulusRow[]> {
  const rows = await db
    .selectFrom('channel_stimuli')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('scope', '=', 'channel')
    .where('state', '=', 'dispatched')
    .where('dispatched_at_ms', '>=', since)
    .orderBy('dispatched_at_ms')
    .execute();
  return rows.map(stimulus);
}

export async function suppressedCount(db: Executor, channelId: string): Promise<number> {
  const r = await db
    .selectFrom('channel_stimulus_counters')
    .select('suppressed_stimuli')
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  return Number(r?.suppressed_stimuli ?? 0);
}

export async function bumpSuppressed(db: Executor, channelId: string, now: number): Promise<void> {
  const current = await db
    .selectFrom('channel_stimulus_counters')
    .select('suppressed_stimuli')
    .where('channel_id', '=', channelId)
    .executeTakeFirst();
  if (current)
    await db
      .updateTable('channel_stimulus_counters')
      .set({ suppressed_stimuli: Number(current.suppressed_stimuli) + 1, updated_at_ms: now })
      .where('channel_id', '=', channelId)
      .execute();
  else
    await db
      .insertInto('channel_stimulus_counters')
      .values({ channel_id: channelId, suppressed_stimuli: 1, updated_at_ms: now })
      .execute();
}

export async function getThreadWork(
  db: Executor,
  channelId: string,
  root: string,
): Promise<ThreadWorkRow | undefined> {
  const r = await db
    .selectFrom('channel_thread_work')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('thread_root_message_id', '=', root)
    .executeTakeFirst();
  return r && work(r);
}

export async function listThreadWork(
  db: Executor,
  channelId: string,
  root?: string,
): Promise<ThreadWorkRow[]> {
  let q = db.selectFrom('channel_thread_work').selectAll().where('channel_id', '=', channelId);
  if (root !== undefined) q = q.where('thread_root_message_id', '=', root);
  return (await q.orderBy('created_at_ms').orderBy('thread_root_message_id').execute()).map(work);
}

export async function putThreadWork(db: Executor, row: ThreadWorkRow): Promise<void> {
  const exists = await getThreadWork(db, row.channel_id, row.thread_root_message_id);
  if (exists) {
    const { channel_id, thread_root_message_id, created_at_ms: _c, ...rest } = row;
    await db
      .updateTable('channel_thread_work')
      .set(rest)
      .where('channel_id', '=', channel_id)
      .where('thread_root_message_id', '=', thread_root_message_id)
      .execute();
  } else await db.insertInto('channel_thread_work').values(row).execute();
}

export async function deleteStimulusState(db: Executor, channelId: string): Promise<void> {
  await db.deleteFrom('channel_stimuli').where('channel_id', '=', channelId).execute();
  await db.deleteFrom('channel_thread_work').where('channel_id', '=', channelId).execute();
  await db.deleteFrom('channel_stimulus_counters').where('channel_id', '=', channelId).execute();
}

/** The public message a stimulus was posted as, found by the id its metadata carries (recovery). */
export async function messageOfStimulus(
  db: Executor,
  channelId: string,
  stimulusId: string,
): Promise<{ message_id: string; thread_root_message_id: string } | undefined> {
  return db
    .selectFrom('channel_messages')
    .select(['message_id', 'thread_root_message_id'])
    .where('channel_id', '=', channelId)
    .where('metadata', 'like', `%"kheish_stimulus_id":"${stimulusId.replace(/[%_"\\]/g, '')}"%`)
    .orderBy('seq')
    .executeTakeFirst();
}

/** Thread-work records with a binding of this kind and ref (producers look up who listens). */
export async function threadWorkBoundTo(db: Executor, kind: string, ref: string): Promise<ThreadWorkRow[]> {
  const rows = await db
    .selectFrom('channel_thread_work')
    .selectAll()
    .where('bindings', 'like', `%"ref":${JSON.stringify(ref).replace(/[%_]/g, '')}%`)
    .execute();
  return rows
    .map(work)
    .filter((w) =>
      (JSON.parse(w.bindings) as Array<{ kind: string; ref: string }>).some(
        (b) => b.kind === kind && b.ref === ref,
      ),
    );
}
