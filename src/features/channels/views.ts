// Rendering of channel rows into the wire views (api-collab §1.10); names of the counters (decision 346).
import type {
  ChannelLeaseRow,
  ChannelMemberRow,
  ChannelMessageRow,
  ChannelReactionRow,
  ChannelRow,
} from '../../store/repos/channels.ts';
import type {
  AutonomyPolicy,
  LeaseView,
  MemberView,
  MessageView,
  ParticipationMode,
  ReactionAggregate,
} from './schema.ts';
import { DEFAULT_POLICY } from './schema.ts';

export const parseJson = <T>(text: string | null, fallback: T): T =>
  text === null ? fallback : JSON.parse(text);

export const policyOf = (c: ChannelRow): AutonomyPolicy => ({
  ...DEFAULT_POLICY,
  ...JSON.parse(c.autonomy_policy),
});

export function effectiveMode(c: ChannelRow, m: ChannelMemberRow): ParticipationMode {
  return (m.participation_mode ?? c.default_participation_mode) as ParticipationMode;
}

export function memberView(c: ChannelRow, m: ChannelMemberRow): MemberView {
  const v: MemberView = {
    member_id: m.member_id,
    member_kind: m.member_kind as MemberView['member_kind'],
    display_name: m.display_name,
    display_name_mode: m.display_name_mode as MemberView['display_name_mode'],
    expertise_tags: JSON.parse(m.expertise_tags),
    effective_participation_mode: effectiveMode(c, m),
    muted: m.muted === 1,
    created_at_ms: m.created_at_ms,
    updated_at_ms: m.updated_at_ms,
  };
  if (m.session_id !== null) v.session_id = m.session_id;
  if (m.actor_id !== null) v.actor_id = m.actor_id;
  if (m.role !== null) v.role = m.role;
  if (m.participation_mode !== null) v.participation_mode = m.participation_mode as ParticipationMode;
  if (m.last_spoke_at_ms !== null) v.last_spoke_at_ms = m.last_spoke_at_ms;
  return v;
}

/** One entry per emoji, in the order the emoji was first used; actors in reaction order. */
export function aggregateReactions(rows: ChannelReactionRow[]): ReactionAggregate[] {
  const by = new Map<string, ReactionAggregate>();
  for (const r of rows) {
    const agg = by.get(r.emoji) ?? { emoji: r.emoji, count: 0, actor_ids: [] };
    agg.count++;
    agg.actor_ids.push(r.actor_id);
    by.set(r.emoji, agg);
  }
  return [...by.values()];
}

export function messageView(m: ChannelMessageRow, reactions: ChannelReactionRow[]): MessageView {
  const v: MessageView = {
    message_id: m.message_id,
    channel_id: m.channel_id,
    thread_root_message_id: m.thread_root_message_id,
    reply_to_message_id: m.reply_to_message_id,
    sender: {
      member_id: m.sender_member_id,
      actor_id: m.sender_actor_id,
      member_kind: m.sender_kind,
      display_name: m.sender_display_name,
      session_id: m.sender_session_id,
    },
    sender_session_id: m.sender_session_id,
    addressed_member_ids: JSON.parse(m.addressed_member_ids),
    output: JSON.parse(m.output),
    created_at_ms: m.created_at_ms,
    reactions: aggregateReactions(reactions),
    metadata: parseJson(m.metadata, {}),
  };
  if (m.origin_run_id !== null) v.origin_run_id = m.origin_run_id;
  return v;
}

export function leaseView(l: ChannelLeaseRow): LeaseView {
  return {
    turn_id: l.turn_id,
    channel_id: l.channel_id,
    thread_root_message_id: l.thread_root_message_id,
    origin_message_id: l.origin_message_id,
    holder_session_id: l.holder_session_id,
    holder_member_id: l.holder_member_id,
    active_run_id: l.active_run_id,
    remaining_reply_budget: l.remaining_reply_budget,
    expires_at_ms: l.expires_at_ms,
    queued_candidate_session_ids: JSON.parse(l.queued_candidate_session_ids),
    last_human_message_id: l.last_human_message_id,
    agent_reply_count_since_last_human: l.agent_reply_count_since_last_human,
  };
}

/** The cumulative counters kept on the channel row (decision 346). */
export const COUNTER_NAMES = [
  'turns_granted',
  'turns_skipped_budget',
  'turns_skipped_cooldown',
  'leases_expired',
  'agent_replies_posted',
  'deliveries_without_post',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export const zeroCounters = (): Counters => Object.fromEntries(COUNTER_NAMES.map((k) => [k, 0])) as Counters;
