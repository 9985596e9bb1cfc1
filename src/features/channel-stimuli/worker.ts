// The stimulus worker (api-collab §1.8, §1.13; decisions 358-360). A pending stimulus that is
// available is claimed (pending → claimed, committed), then posted through the channels feature as
// a public message that carries the stimulus id in its metadata; the post drives the channel's turn
// arbitration like any message. Then dispatched, with the thread-work projection, in one
// transaction. A crash between the post and that transaction is repaired at boot: a claimed
// stimulus whose message exists becomes dispatched (the post is reused), any other goes back to
// pending. So a stimulus is posted at most once and none stays claimed.
//
// Autonomy (decision 359): a paused channel holds every stimulus; a channel-scoped stimulus opens a
// new root only within max_autonomous_root_posts_per_hour, quiet_period_ms_after_root_post and
// max_active_autonomous_roots, else it waits (retry_at_ms) in pending.
import type { Logger } from 'pino';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  claimStimulus,
  getStimulus,
  messageOfStimulus,
  rootsDispatchedSince,
  type StimulusRow,
  stimuliInState,
  updateStimulus,
} from '../../store/repos/channel-stimuli.ts';
import { activeLeases, getChannel, membersOf } from '../../store/repos/channels.ts';
import type { ChannelPostInput, ChannelsPort } from '../channels/port.ts';
import type { ChannelStimuliService } from './service.ts';
import { noteDispatched } from './thread-work.ts';

const HOUR_MS = 3_600_000;
/** The daemon's own roster identity for stimuli that name no sender (decision 358). */
export const DAEMON_ACTOR = 'kheish';

export class StimulusWorker {
  private readonly svc: ChannelStimuliService;
  private readonly channels: () => ChannelsPort;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private stopped = true;

  private readonly log: Logger;

  constructor(svc: ChannelStimuliService, channels: () => ChannelsPort, tickMs: number, log: Logger) {
    this.svc = svc;
    this.log = log;
    this.channels = channels;
    this.tickMs = tickMs;
    svc.kick = () => this.kick();
  }

  /** Boot: settle the claims a dead process left. */
  async recover(): Promise<void> {
    for (const s of await stimuliInState(this.svc.db, 'claimed')) {
      const posted = await messageOfStimulus(this.svc.db, s.channel_id, s.stimulus_id);
      await this.svc.engine.store.write(async (tx) => {
        const cur = await getStimulus(tx.db, s.stimulus_id);
        if (cur?.state !== 'claimed') return;
        if (posted) await this.markDispatched(tx, cur, posted.message_id, posted.thread_root_message_id);
        else {
          const patch = {
            state: 'pending',
            claimed_at_ms: null,
            state_reason: 'requeued_after_restart',
            updated_at_ms: tx.now,
          };
          await updateStimulus(tx.db, cur.stimulus_id, patch);
          await this.svc.record(tx, { ...cur, ...patch });
        }
      });
    }
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), 0);
  }

  private async pass(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        for (const s of await stimuliInState(this.svc.db, 'pending')) {
          if (this.stopped) return;
          await this.consider(s).catch((err) =>
            this.log.warn({ err, stimulus_id: s.stimulus_id }, 'stimulus dispatch failed'),
          );
        }
      } while (this.again && !this.stopped);
    } catch {
      // The store is closing or briefly unavailable: the next tick tries again.
    } finally {
      this.running = false;
      if (!this.stopped) this.timer = setTimeout(() => void this.pass(), this.tickMs);
    }
  }

  private async consider(s: StimulusRow): Promise<void> {
    const now = Date.now();
    if (s.expires_at_ms !== null && s.expires_at_ms <= now) return this.finish(s, 'cancelled', 'expired');
    if ((s.available_at_ms ?? 0) > now || (s.retry_at_ms ?? 0) > now) return;
    const channel = await getChannel(this.svc.db, s.channel_id);
    if (!channel) return;
    if (channel.paused === 1) return;
    const policy = (await this.channels().policy(s.channel_id)) ?? {};
    if (s.scope === 'channel') {
      const wait = await this.rootWait(s.channel_id, policy, now);
      if (wait !== null) {
        if (wait > 0 && wait !== s.retry_at_ms)
          await this.svc.engine.store.write((tx) =>
            updateStimulus(tx.db, s.stimulus_id, { retry_at_ms: wait, updated_at_ms: tx.now }),
          );
        return;
      }
    }
    const won = await this.svc.engine.store.write(async (tx) => {
      if (!(await claimStimulus(tx.db, s.stimulus_id, tx.now))) return false;
      await this.svc.record(tx, { ...s, state: 'claimed', claimed_at_ms: tx.now });
      return true;
    });
    if (won) await this.dispatch(s);
  }

  /** When a new autonomous root may open (0 = wait for a root to go quiet), or null = now. */
  private async rootWait(channelId: string, p: Record<string, number>, now: number): Promise<number | null> {
    const roots = await rootsDispatchedSince(this.svc.db, channelId, now - HOUR_MS);
    const last = roots.at(-1);
    const quiet = p.quiet_period_ms_after_root_post ?? 300_000;
    if (last && last.dispatched_at_ms! + quiet > now) return last.dispatched_at_ms! + quiet;
    const perHour = p.max_autonomous_root_posts_per_hour ?? 4;
    if (roots.length >= perHour) return roots[roots.length - perHour]!.dispatched_at_ms! + HOUR_MS;
    let active = 0;
    for (const r of roots)
      if ((await activeLeases(this.svc.db, channelId, r.dispatched_thread_root_message_id!)).length > 0)
        active++;
    if (active >= (p.max_active_autonomous_roots ?? 1)) return 0;
    return null;
  }

  private async sender(
    s: StimulusRow,
  ): Promise<Pick<ChannelPostInput, 'sender_actor_id' | 'sender_session_id' | 'sender_display_name'>> {
    const members = await membersOf(this.svc.db, s.channel_id);
    if (s.sender_session_id) {
      const m = members.find((x) => x.member_kind === 'session' && x.session_id === s.sender_session_id);
      if (!m)
        throw new DaemonError(
          403,
          'channels',
          'sender_not_member',
          `session ${s.sender_session_id} left the channel`,
        );
      return { sender_actor_id: m.member_id, sender_session_id: s.sender_session_id };
    }
    if (s.sender_actor_id)
      return {
        sender_actor_id: s.sender_actor_id,
        ...(s.sender_display_name ? { sender_display_name: s.sender_display_name } : {}),
      };
    if (!members.some((m) => m.member_id === DAEMON_ACTOR))
      await this.channels().upsertMember(s.channel_id, {
        member_id: DAEMON_ACTOR,
        member_kind: 'human_actor',
        display_name: 'Kheish',
        participation_mode: 'manual_only',
      });
    return {
      sender_actor_id: DAEMON_ACTOR,
      ...(s.sender_display_name ? { sender_display_name: s.sender_display_name } : {}),
    };
  }

  private async dispatch(s: StimulusRow): Promise<void> {
    try {
      const posted = await this.channels().post(s.channel_id, {
        ...(await this.sender(s)),
        ...(s.thread_root_message_id ? { thread_root_message_id: s.thread_root_message_id } : {}),
        addressed_member_ids: JSON.parse(s.addressed_member_ids) as string[],
        content: s.content,
        metadata: {
          ...(s.metadata ? (JSON.parse(s.metadata) as Record<string, unknown>) : {}),
          kheish_stimulus_id: s.stimulus_id,
          kheish_stimulus_kind: s.kind,
        },
      });
      await this.svc.engine.store.write(async (tx) => {
        const cur = await getStimulus(tx.db, s.stimulus_id);
        if (cur?.state === 'claimed')
          await this.markDispatched(tx, cur, posted.message_id, posted.thread_root_message_id);
      });
    } catch (err) {
      if (err instanceof DaemonError && err.status === 429) {
        const retry = Number(err.extensions.retry_after_ms ?? 1000);
        return this.requeue(s, Date.now() + Math.max(250, retry), err.code);
      }
      if (err instanceof DaemonError && err.status >= 400 && err.status < 500)
        return this.finish(s, 'cancelled', err.code);
      await this.requeue(s, Date.now() + 1000, 'post_failed');
      throw err;
    }
  }

  private async markDispatched(
    tx: Parameters<ChannelStimuliService['record']>[0],
    s: StimulusRow,
    messageId: string,
    root: string,
  ): Promise<void> {
    const patch = {
      state: 'dispatched',
      dispatched_message_id: messageId,
      dispatched_thread_root_message_id: root,
      dispatched_at_ms: tx.now,
      attempts: s.attempts + 1,
      updated_at_ms: tx.now,
    };
    await updateStimulus(tx.db, s.stimulus_id, patch);
    await noteDispatched(tx.db, { ...s, ...patch }, root, messageId, tx.now);
    await this.svc.record(tx, { ...s, ...patch });
  }

  private async requeue(s: StimulusRow, at: number, reason: string): Promise<void> {
    await this.svc.engine.store.write(async (tx) => {
      const cur = await getStimulus(tx.db, s.stimulus_id);
      if (!cur || !['pending', 'claimed'].includes(cur.state)) return;
      const patch = {
        state: 'pending',
        claimed_at_ms: null,
        retry_at_ms: at,
        state_reason: reason,
        attempts: cur.attempts + 1,
        updated_at_ms: tx.now,
      };
      await updateStimulus(tx.db, s.stimulus_id, patch);
      await this.svc.record(tx, { ...cur, ...patch });
    });
  }

  private async finish(s: StimulusRow, state: string, reason: string): Promise<void> {
    await this.svc.engine.store.write(async (tx) => {
      const cur = await getStimulus(tx.db, s.stimulus_id);
      if (!cur || !['pending', 'claimed'].includes(cur.state)) return;
      const patch = { state, state_reason: reason, updated_at_ms: tx.now };
      await updateStimulus(tx.db, s.stimulus_id, patch);
      await this.svc.record(tx, { ...cur, ...patch });
    });
  }
}
