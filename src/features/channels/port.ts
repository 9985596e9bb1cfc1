// What other features use of channels (api-collab §1), asked for as `k.use<ChannelsPort>('channels')`:
// projects link channels, mirror their members into the roster and open kickoff threads; stimuli
// come from schedules, tasks, observations and sidechain milestones. The channels feature owns the
// roster, the append-only public log, turn leases, stimuli and the thread-work projection.

/** A member as the roster stores it (§1.4). */
export interface ChannelMemberInput {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  display_name_mode?: 'manual' | 'follow_agent';
  session_id?: string;
  actor_id?: string;
  role?: string;
  expertise_tags?: string[];
  participation_mode?: 'manual_only' | 'selected_only' | 'prefer_selected' | 'always_listen';
  muted?: boolean;
}

/** A public message to post (§1.5); the sender must be a member (or a daemon actor the caller names). */
export interface ChannelPostInput {
  sender_actor_id: string;
  sender_display_name?: string;
  sender_session_id?: string;
  thread_root_message_id?: string;
  reply_to_message_id?: string;
  addressed_member_ids?: string[];
  content?: string;
  input_items?: unknown[];
  metadata?: Record<string, unknown>;
}

export interface PostedChannelMessage {
  channel_id: string;
  message_id: string;
  thread_root_message_id: string;
}

/** A stimulus from another domain (§1.8). */
export interface ChannelStimulusInput {
  kind: string;
  thread_root_message_id?: string;
  summary: string;
  metadata?: Record<string, unknown>;
  dedupe_key?: string;
}

/**
 * Asked before a channel is deleted: a non-null answer is the reason it may not be (e.g. a project
 * links it, api-collab §2.9), and the delete answers 409 with it.
 */
export type ChannelDeleteGuard = (channelId: string) => Promise<string | null>;

export interface ChannelsPort {
  exists(channelId: string): Promise<boolean>;
  upsertMember(channelId: string, member: ChannelMemberInput): Promise<void>;
  removeMember(channelId: string, memberId: string): Promise<void>;
  /** Posts like `POST /v1/channels/{id}/messages`, including the autonomous follow-up turns it may drive. */
  post(channelId: string, message: ChannelPostInput): Promise<PostedChannelMessage>;
  /** Whether a message exists in the channel and is a thread root. */
  isThreadRoot(channelId: string, messageId: string): Promise<boolean>;
  enqueueStimulus(
    channelId: string,
    stimulus: ChannelStimulusInput,
  ): Promise<{ stimulus_id: string; state: string }>;
  addDeleteGuard(guard: ChannelDeleteGuard): void;
  /** Adds or removes a reaction like the reactions routes (§1.6): the actor must be a member. */
  react(channelId: string, messageId: string, actorId: string, emoji: string, add: boolean): Promise<void>;
  /** Derived state of another feature deleted with the channel, in the same transaction. */
  addDeleteHook(hook: ChannelDeleteHook): void;
  /** Counters merged into the channel view's `moderation_metrics`. */
  addMetricsSource(source: ChannelMetricsSource): void;
  /** Installs the stimulus queue `enqueueStimulus` forwards to (until then it answers 503). */
  provideStimulusQueue(queue: ChannelStimulusQueue): void;
  /** The channel's autonomy policy (defaults filled in), or null when the channel does not exist. */
  policy(channelId: string): Promise<Record<string, number> | null>;
}

/** Runs inside the transaction that deletes a channel: derived state of other features goes with it. */
export type ChannelDeleteHook = (
  tx: import('../../store/store.ts').WriteTx,
  channelId: string,
) => Promise<void>;

/** Extra `moderation_metrics` counters a feature keeps (stimuli: pending, claimed, suppressed, …). */
export type ChannelMetricsSource = (channelId: string) => Promise<Record<string, number>>;

/** The stimulus queue, provided by the feature that owns stimuli (channel-stimuli). */
export type ChannelStimulusQueue = (
  channelId: string,
  stimulus: ChannelStimulusInput,
) => Promise<{ stimulus_id: string; state: string }>;
