// Wire types of channel stimuli and thread-work (api-collab §1.8, §1.9; decisions 355-369).
import { z } from 'zod';

export const STIMULUS_STATES = [
  'pending',
  'claimed',
  'dispatched',
  'coalesced',
  'superseded',
  'cancelled',
] as const;
export const STIMULUS_KINDS = [
  'agent_idea',
  'schedule_fire',
  'schedule_result',
  'task_completed',
  'review_completed',
  'sidechain_milestone',
  'observation_materialized',
  'thread_idle_followup',
  'result_summary',
  'supersession_notice',
] as const;
export const TOPIC_KINDS = ['human', 'autonomous_root', 'summary'] as const;
export const THREAD_WORK_STATUSES = ['proposed', 'active', 'reviewing', 'completed', 'superseded'] as const;
export const BINDING_KINDS = ['schedule', 'run', 'sidechain_agent', 'task', 'observation'] as const;

const id = z.string().min(1).max(512);

export const CreateStimulusRequest = z
  .object({
    scope: z.enum(['channel', 'thread']),
    thread_root_message_id: id.optional(),
    kind: z.enum(STIMULUS_KINDS),
    visibility_hint: z.enum(['auto', 'main', 'thread']).optional(),
    content: z.string().min(1).max(64_000),
    addressed_member_ids: z.array(id).max(64).optional(),
    sender_session_id: id.optional(),
    sender_actor_id: id.optional(),
    sender_display_name: z.string().min(1).max(256).optional(),
    source_kind: z.string().min(1).max(128).optional(),
    source_ref: z.string().min(1).max(512).optional(),
    dedupe_key: z.string().min(1).max(512).optional(),
    progress_key: z.string().min(1).max(512).optional(),
    available_at_ms: z.number().int().min(0).optional(),
    expires_at_ms: z.number().int().min(0).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CreateStimulusRequest = z.infer<typeof CreateStimulusRequest>;

export const StimuliQuery = z.object({
  thread_root_message_id: id.optional(),
  state: z.enum(STIMULUS_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const ThreadWorkQuery = z.object({ thread_root_message_id: id.optional() });
export const StimulusChannelParams = z.object({ channel_id: id });

export interface StimulusView {
  stimulus_id: string;
  channel_id: string;
  scope: 'channel' | 'thread';
  thread_root_message_id: string | null;
  kind: string;
  visibility_hint: string;
  content: string;
  addressed_member_ids: string[];
  sender_session_id: string | null;
  sender_actor_id: string | null;
  sender_display_name: string | null;
  source_kind: string | null;
  source_ref: string | null;
  dedupe_key: string | null;
  progress_key: string | null;
  available_at_ms: number | null;
  expires_at_ms: number | null;
  metadata: Record<string, unknown>;
  state: (typeof STIMULUS_STATES)[number];
  state_reason: string | null;
  /** When the worker will look at a deferred stimulus again (autonomy limits). */
  retry_at_ms: number | null;
  dispatched_message_id: string | null;
  dispatched_thread_root_message_id: string | null;
  dispatched_at_ms: number | null;
  /** The stimulus that superseded this one, or the one it was coalesced into. */
  related_stimulus_id: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One durable work binding of a thread (decision 362). */
export interface ThreadBinding {
  kind: (typeof BINDING_KINDS)[number];
  ref: string;
  session_id?: string | null;
  state?: string | null;
  bound_at_ms: number;
  updated_at_ms: number;
}

/** The latest public state of one progress stream (decision 363). */
export interface ProgressSnapshot {
  progress_key: string;
  stimulus_id: string;
  message_id: string | null;
  content: string;
  updated_at_ms: number;
  /** How many older updates this stream's latest one replaced. */
  superseded_count: number;
}

export interface ThreadWorkView {
  channel_id: string;
  thread_root_message_id: string;
  topic_kind: (typeof TOPIC_KINDS)[number];
  status: (typeof THREAD_WORK_STATUSES)[number];
  owner_session_id: string | null;
  initiative_key: string | null;
  source_kind: string | null;
  source_ref: string | null;
  last_stimulus_id: string | null;
  last_signal_at_ms: number | null;
  last_main_promotion_at_ms: number | null;
  bindings: ThreadBinding[];
  progress_snapshots: Record<string, ProgressSnapshot>;
  metadata: Record<string, unknown>;
}
