// Channel stimuli (api-collab §1.8; decisions 355-360): validation, the bounded durable queue with
// dedupe and progress supersession, listing, thread-work reads, moderation counters. The worker
// (worker.ts) moves queued stimuli on; this file only admits and reads them.
import { monotonicFactory } from 'ulid';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  bumpSuppressed,
  countStimuli,
  deleteStimulusState,
  getStimulus,
  insertStimulus,
  listStimuli,
  listThreadWork,
  QUEUED_STATES,
  rootsDispatchedSince,
  type StimulusRow,
  suppressedCount,
  updateStimulus,
} from '../../store/repos/channel-stimuli.ts';
import { getChannel, membersOf } from '../../store/repos/channels.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ChannelsPort } from '../channels/port.ts';
import type { CreateStimulusRequest, StimulusView, ThreadWorkView } from './schema.ts';
import { stimulusView, threadWorkView } from './views.ts';

const ulid = monotonicFactory();
export const newStimulusId = () => `stim-${ulid().toLowerCase()}`;
const invalid = (detail: string) => new DaemonError(400, 'channels', 'invalid_stimulus', detail);
const notFound = (id: string) =>
  new DaemonError(404, 'channels', 'channel_not_found', `channel ${id} was not found`);
/** Channel changes ride the channel's stream scope (`channels/{id}`, as the channels feature stores them). */
const scopeOf = (channelId: string) => `channels/${channelId}`;

export class ChannelStimuliService {
  readonly engine: Engine;
  private readonly channels: () => ChannelsPort;
  /** Called after a stimulus is admitted, so the worker looks at it now rather than at its next tick. */
  kick: () => void = () => {};

  constructor(engine: Engine, channels: () => ChannelsPort) {
    this.engine = engine;
    this.channels = channels;
  }

  get db() {
    return this.engine.store.db;
  }

  /** A durable channel event for a stimulus change (stream replay like the channel's own events). */
  async record(tx: WriteTx, row: StimulusRow, kind = 'stimulus_updated'): Promise<void> {
    await this.engine.events.append(tx, [
      {
        name: 'channel_event',
        session_id: scopeOf(row.channel_id),
        data: { channel_id: row.channel_id, seq: null, kind, at_ms: tx.now, payload: stimulusView(row) },
      },
    ]);
  }

  async create(channelId: string, body: CreateStimulusRequest): Promise<StimulusView> {
    if (body.scope === 'channel' && body.thread_root_message_id !== undefined)
      throw invalid('a channel-scoped stimulus opens a new subject: thread_root_message_id is not allowed');
    if (body.scope === 'thread' && body.thread_root_message_id === undefined)
      throw invalid('a thread-scoped stimulus continues a thread: give thread_root_message_id');
    if (body.content.trim() === '') throw invalid('content must not be blank');
    if (
      body.expires_at_ms !== undefined &&
      body.available_at_ms !== undefined &&
      body.expires_at_ms <= body.available_at_ms
    )
      throw invalid('expires_at_ms must be after available_at_ms');
    const port = this.channels();
    const policy = await port.policy(channelId);
    if (!policy) throw notFound(channelId);
    if (
      body.thread_root_message_id !== undefined &&
      !(await port.isThreadRoot(channelId, body.thread_root_message_id))
    )
      throw invalid(`${body.thread_root_message_id} is not a thread root of channel ${channelId}`);
    await this.checkSenders(channelId, body);
    const limit = policy.max_pending_stimuli ?? 32;
    const id = newStimulusId();
    const outcome = await this.engine.store.write(async (tx) => {
      if (!(await getChannel(tx.db, channelId))) throw notFound(channelId);
      return this.admit(tx, channelId, id, body, limit);
    });
    if (outcome === 'refused') {
      await this.engine.store.write((tx) => bumpSuppressed(tx.db, channelId, tx.now));
      throw new DaemonError(
        429,
        'channels',
        'stimulus_queue_full',
        `channel ${channelId} already holds max_pending_stimuli (${limit}) queued stimuli; this one was suppressed`,
      );
    }
    this.kick();
    return stimulusView((await getStimulus(this.db, id))!);
  }

  /**
   * Stores a validated stimulus inside the caller's transaction (the HTTP create, or a producer in
   * the transaction of its cause): dedupe, supersession, then the bound.
   */
  async admit(
    tx: WriteTx,
    channelId: string,
    id: string,
    body: CreateStimulusRequest,
    limit: number,
  ): Promise<'inserted' | 'coalesced' | 'refused'> {
    const queued = await listStimuli(tx.db, channelId, { states: QUEUED_STATES });
    const target = (s: StimulusRow) =>
      s.scope === body.scope && (s.thread_root_message_id ?? null) === (body.thread_root_message_id ?? null);
    const row: StimulusRow = {
      stimulus_id: id,
      channel_id: channelId,
      scope: body.scope,
      thread_root_message_id: body.thread_root_message_id ?? null,
      kind: body.kind,
      visibility_hint: body.visibility_hint ?? 'auto',
      content: body.content,
      addressed_member_ids: JSON.stringify(body.addressed_member_ids ?? []),
      sender_session_id: body.sender_session_id ?? null,
      sender_actor_id: body.sender_actor_id ?? null,
      sender_display_name: body.sender_display_name ?? null,
      source_kind: body.source_kind ?? null,
      source_ref: body.source_ref ?? null,
      dedupe_key: body.dedupe_key ?? null,
      progress_key: body.progress_key ?? null,
      available_at_ms: body.available_at_ms ?? null,
      expires_at_ms: body.expires_at_ms ?? null,
      metadata: body.metadata ? JSON.stringify(body.metadata) : null,
      state: 'pending',
      state_reason: null,
      retry_at_ms: null,
      claimed_at_ms: null,
      dispatched_message_id: null,
      dispatched_thread_root_message_id: null,
      dispatched_at_ms: null,
      related_stimulus_id: null,
      attempts: 0,
      created_at_ms: tx.now,
      updated_at_ms: tx.now,
    };
    // Decision 357: an equal queued stimulus (same dedupe_key, target and content) absorbs the new
    // one; a different one with the same dedupe_key or progress_key is replaced by it (pending only:
    // a claimed one is being posted already).
    if (body.dedupe_key) {
      const same = queued.find(
        (s) => s.dedupe_key === body.dedupe_key && target(s) && s.content === body.content,
      );
      if (same) {
        const coalesced = {
          ...row,
          state: 'coalesced',
          state_reason: 'duplicate',
          related_stimulus_id: same.stimulus_id,
        };
        await insertStimulus(tx.db, coalesced);
        await this.record(tx, coalesced);
        return 'coalesced';
      }
    }
    let live = queued.length;
    for (const s of queued) {
      if (s.state !== 'pending') continue;
      const replaced =
        (body.dedupe_key && s.dedupe_key === body.dedupe_key) ||
        (body.progress_key && s.progress_key === body.progress_key && target(s));
      if (!replaced) continue;
      const patch = {
        state: 'superseded',
        state_reason: body.dedupe_key && s.dedupe_key === body.dedupe_key ? 'dedupe_key' : 'progress_key',
        related_stimulus_id: id,
        updated_at_ms: tx.now,
      };
      await updateStimulus(tx.db, s.stimulus_id, patch);
      await this.record(tx, { ...s, ...patch });
      live--;
    }
    // Decision 356: a full queue refuses the newcomer (what is queued was accepted first and stays),
    // and the refusal is counted as a suppressed stimulus.
    if (live >= limit) {
      return 'refused';
    }
    await insertStimulus(tx.db, row);
    await this.record(tx, row);
    return 'inserted';
  }

  /** Senders and addressed members must be on the roster now (they are checked again at dispatch). */
  private async checkSenders(channelId: string, body: CreateStimulusRequest): Promise<void> {
    const members = await membersOf(this.db, channelId);
    if (body.sender_session_id !== undefined) {
      const m = members.find((x) => x.member_kind === 'session' && x.session_id === body.sender_session_id);
      if (!m)
        throw new DaemonError(
          403,
          'channels',
          'sender_not_member',
          `session ${body.sender_session_id} is not a member of channel ${channelId}`,
        );
      if (body.sender_actor_id !== undefined && body.sender_actor_id !== m.member_id)
        throw invalid(
          `sender_actor_id ${body.sender_actor_id} is not the member bound to session ${body.sender_session_id}`,
        );
    } else if (body.sender_actor_id !== undefined) {
      const m = members.find(
        (x) =>
          (x.member_kind === 'human_actor' && x.actor_id === body.sender_actor_id) ||
          x.member_id === body.sender_actor_id,
      );
      if (!m)
        throw new DaemonError(
          403,
          'channels',
          'sender_not_member',
          `${body.sender_actor_id} is not a member of channel ${channelId}`,
        );
      if (m.member_kind === 'session')
        throw invalid(`member ${m.member_id} is a session member: give sender_session_id`);
    }
    for (const a of body.addressed_member_ids ?? [])
      if (!members.some((m) => m.member_id === a))
        throw invalid(`addressed member ${a} is not in channel ${channelId}`);
  }

  async list(
    channelId: string,
    q: { thread_root_message_id?: string; state?: string; limit?: number },
  ): Promise<{ stimuli: StimulusView[] }> {
    if (!(await getChannel(this.db, channelId))) throw notFound(channelId);
    const rows = await listStimuli(this.db, channelId, {
      thread: q.thread_root_message_id,
      states: q.state ? [q.state] : undefined,
      limitLatest: q.limit,
    });
    return { stimuli: rows.map(stimulusView) };
  }

  async threadWork(channelId: string, root?: string): Promise<{ thread_work: ThreadWorkView[] }> {
    if (!(await getChannel(this.db, channelId))) throw notFound(channelId);
    return { thread_work: (await listThreadWork(this.db, channelId, root)).map(threadWorkView) };
  }

  /** The stimulus counters of the channel view's moderation_metrics. */
  async metrics(channelId: string): Promise<Record<string, number>> {
    return {
      pending_stimuli: await countStimuli(this.db, channelId, ['pending']),
      claimed_stimuli: await countStimuli(this.db, channelId, ['claimed']),
      suppressed_stimuli: await suppressedCount(this.db, channelId),
      // Roots the stimulus worker opened in the last hour (recent_autonomous_roots counts the
      // roots session members posted themselves).
      recent_stimulus_roots: (await rootsDispatchedSince(this.db, channelId, Date.now() - 3_600_000)).length,
    };
  }

  async deleteWithChannel(tx: WriteTx, channelId: string): Promise<void> {
    await deleteStimulusState(tx.db, channelId);
  }
}
