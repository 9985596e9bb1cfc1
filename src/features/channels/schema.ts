// Wire types of the channels API (api-collab §1): the contract. Enum values are the spec's.
import { z } from 'zod';
import { InputItem } from '../runs/schema.ts';

export const MemberKind = z.enum(['human_actor', 'session']);
export const ParticipationMode = z.enum(['manual_only', 'selected_only', 'prefer_selected', 'always_listen']);
export type ParticipationMode = z.infer<typeof ParticipationMode>;

const id = z.string().min(1).max(200);
const ms = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600 * 1000);

/** Ranges are ours (decision 337): the spec gives none. */
export const AutonomyPolicyInput = z
  .object({
    max_parallel_public_speakers: z.number().int().min(1).max(16),
    max_agent_replies_per_human_message: z.number().int().min(0).max(100),
    member_cooldown_ms: ms,
    lease_timeout_ms: z
      .number()
      .int()
      .min(100)
      .max(24 * 3600 * 1000),
    max_pending_stimuli: z.number().int().min(0).max(10_000),
    max_autonomous_root_posts_per_hour: z.number().int().min(0).max(1000),
    max_active_autonomous_roots: z.number().int().min(0).max(100),
    quiet_period_ms_after_root_post: ms,
  })
  .partial()
  .strict();
export type AutonomyPolicyInput = z.infer<typeof AutonomyPolicyInput>;
export type AutonomyPolicy = Required<AutonomyPolicyInput>;

export const DEFAULT_POLICY: AutonomyPolicy = {
  max_parallel_public_speakers: 1,
  max_agent_replies_per_human_message: 3,
  member_cooldown_ms: 15_000,
  lease_timeout_ms: 60_000,
  max_pending_stimuli: 32,
  max_autonomous_root_posts_per_hour: 4,
  max_active_autonomous_roots: 1,
  quiet_period_ms_after_root_post: 300_000,
};

export const MemberInput = z
  .object({
    member_id: id,
    member_kind: MemberKind,
    display_name: z.string().min(1).max(200),
    display_name_mode: z.enum(['manual', 'follow_agent']).optional(),
    session_id: id.optional(),
    actor_id: id.optional(),
    role: z.string().max(200).optional(),
    expertise_tags: z.array(z.string().max(100)).max(64).optional(),
    participation_mode: ParticipationMode.optional(),
    muted: z.boolean().optional(),
  })
  .strict();
export type MemberInput = z.infer<typeof MemberInput>;

const Metadata = z.record(z.string(), z.unknown());

export const CreateChannelRequest = z
  .object({
    channel_id: id.optional(),
    title: z.string().min(1).max(500),
    description: z.string().max(4000).optional(),
    purpose: z.string().max(20_000).optional(),
    pinned_asset_ids: z.array(id).max(100).optional(),
    created_by: id.optional(),
    members: z.array(MemberInput).max(500).optional(),
    autonomy_policy: AutonomyPolicyInput.optional(),
    default_participation_mode: ParticipationMode.optional(),
    metadata: Metadata.optional(),
  })
  .strict();
export type CreateChannelRequest = z.infer<typeof CreateChannelRequest>;

export const UpdateChannelRequest = z
  .object({
    title: z.string().min(1).max(500).optional(),
    description: z.string().max(4000).nullable().optional(),
    purpose: z.string().max(20_000).nullable().optional(),
    pinned_asset_ids: z.array(id).max(100).optional(),
    autonomy_policy: AutonomyPolicyInput.optional(),
    default_participation_mode: ParticipationMode.optional(),
    paused: z.boolean().optional(),
    metadata: Metadata.nullable().optional(),
  })
  .strict();
export type UpdateChannelRequest = z.infer<typeof UpdateChannelRequest>;

export const PostMessageRequest = z
  .object({
    sender_actor_id: id,
    sender_display_name: z.string().max(200).optional(),
    sender_session_id: id.optional(),
    thread_root_message_id: id.optional(),
    reply_to_message_id: id.optional(),
    addressed_member_ids: z.array(id).max(64).optional(),
    input_items: z.array(InputItem).max(64).optional(),
    content: z.string().max(200_000).optional(),
    metadata: Metadata.optional(),
  })
  .strict();
export type PostMessageRequest = z.infer<typeof PostMessageRequest>;

export const ReactionRequest = z.object({ actor_id: id, emoji: z.string().min(1).max(64) }).strict();
export type ReactionRequest = z.infer<typeof ReactionRequest>;

export const ChannelParams = z.object({ channel_id: z.string().min(1) });
export const MemberParams = z.object({ channel_id: z.string().min(1), member_id: z.string().min(1) });
export const MessageParams = z.object({ channel_id: z.string().min(1), message_id: z.string().min(1) });
export const ListChannelsQuery = z.object({ query: z.string().optional() });
export const ListMessagesQuery = z.object({
  thread_root_message_id: z.string().optional(),
  query: z.string().optional(),
  limit: z
    .string()
    .regex(/^\d{1,6}$/, 'limit must be a positive integer')
    .optional(),
});

export interface MemberView {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  display_name_mode: 'manual' | 'follow_agent';
  session_id?: string;
  actor_id?: string;
  role?: string;
  expertise_tags: string[];
  participation_mode?: ParticipationMode;
  effective_participation_mode: ParticipationMode;
  muted: boolean;
  last_spoke_at_ms?: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ReactionAggregate {
  emoji: string;
  count: number;
  actor_ids: string[];
}

export interface MessageView {
  message_id: string;
  channel_id: string;
  thread_root_message_id: string;
  reply_to_message_id: string | null;
  sender: {
    member_id: string;
    actor_id: string;
    member_kind: string;
    display_name: string;
    session_id: string | null;
  };
  sender_session_id: string | null;
  addressed_member_ids: string[];
  output: { content: string; parts: unknown[]; artifacts: unknown[] };
  created_at_ms: number;
  reactions: ReactionAggregate[];
  metadata: Record<string, unknown>;
  origin_run_id?: string;
}

export interface LeaseView {
  turn_id: string;
  channel_id: string;
  thread_root_message_id: string;
  origin_message_id: string;
  holder_session_id: string;
  holder_member_id: string;
  active_run_id: string | null;
  remaining_reply_budget: number;
  expires_at_ms: number;
  queued_candidate_session_ids: string[];
  last_human_message_id: string | null;
  agent_reply_count_since_last_human: number;
}

export interface ChannelSummary {
  channel_id: string;
  title: string;
  description: string | null;
  purpose: string | null;
  paused: boolean;
  member_count: number;
  message_count: number;
  last_message_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ModerationMetrics {
  active_leases: number;
  active_public_speakers: number;
  pending_stimuli: number;
  claimed_stimuli: number;
  recent_autonomous_roots: number;
  active_autonomous_roots: number;
  suppressed_stimuli: number;
  turns_granted: number;
  turns_skipped_budget: number;
  turns_skipped_cooldown: number;
  leases_expired: number;
  agent_replies_posted: number;
  deliveries_without_post: number;
}

export interface ChannelDetailView extends ChannelSummary {
  summary: ChannelSummary;
  members: MemberView[];
  pinned_asset_ids: string[];
  created_by: string | null;
  autonomy_policy: AutonomyPolicy;
  default_participation_mode: ParticipationMode;
  metadata: Record<string, unknown>;
  moderation_metrics: ModerationMetrics;
}
