// Channels API client calls (api-collab §1): channels, roster, public messages and reactions,
// read-only turn leases, and the channel event stream (SSE with Last-Event-ID replay).
import type { DaemonClient, SseStream, StreamCallOptions } from './client.ts';
import type { JsonObject } from './types.ts';

export type ParticipationMode = 'manual_only' | 'selected_only' | 'prefer_selected' | 'always_listen';

export interface AutonomyPolicy {
  max_parallel_public_speakers: number;
  max_agent_replies_per_human_message: number;
  member_cooldown_ms: number;
  lease_timeout_ms: number;
  max_pending_stimuli: number;
  max_autonomous_root_posts_per_hour: number;
  max_active_autonomous_roots: number;
  quiet_period_ms_after_root_post: number;
}

export interface ChannelMemberInput {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  display_name_mode?: 'manual' | 'follow_agent';
  session_id?: string;
  actor_id?: string;
  role?: string;
  expertise_tags?: string[];
  participation_mode?: ParticipationMode;
  muted?: boolean;
}

export interface ChannelMemberView extends JsonObject {
  member_id: string;
  member_kind: 'human_actor' | 'session';
  display_name: string;
  display_name_mode: 'manual' | 'follow_agent';
  effective_participation_mode: ParticipationMode;
  muted: boolean;
  expertise_tags: string[];
}

export interface ChannelSummaryView extends JsonObject {
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

export interface ChannelDetailView extends ChannelSummaryView {
  summary: ChannelSummaryView;
  members: ChannelMemberView[];
  pinned_asset_ids: string[];
  created_by: string | null;
  autonomy_policy: AutonomyPolicy;
  default_participation_mode: ParticipationMode;
  metadata: JsonObject;
  moderation_metrics: Record<string, number>;
}

export interface CreateChannelRequest {
  channel_id?: string;
  title: string;
  description?: string;
  purpose?: string;
  pinned_asset_ids?: string[];
  created_by?: string;
  members?: ChannelMemberInput[];
  autonomy_policy?: Partial<AutonomyPolicy>;
  default_participation_mode?: ParticipationMode;
  metadata?: JsonObject;
}

export interface UpdateChannelRequest {
  title?: string;
  description?: string | null;
  purpose?: string | null;
  pinned_asset_ids?: string[];
  /** Merged field by field into the stored policy. */
  autonomy_policy?: Partial<AutonomyPolicy>;
  default_participation_mode?: ParticipationMode;
  paused?: boolean;
  metadata?: JsonObject | null;
}

export interface PostChannelMessageRequest {
  sender_actor_id: string;
  sender_display_name?: string;
  sender_session_id?: string;
  thread_root_message_id?: string;
  reply_to_message_id?: string;
  addressed_member_ids?: string[];
  content?: string;
  input_items?: JsonObject[];
  metadata?: JsonObject;
}

export interface ChannelMessageView extends JsonObject {
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
  output: { content: string; parts: JsonObject[]; artifacts: JsonObject[] };
  created_at_ms: number;
  reactions: Array<{ emoji: string; count: number; actor_ids: string[] }>;
  metadata: JsonObject;
}

export interface ChannelLeaseView extends JsonObject {
  turn_id: string;
  channel_id: string;
  thread_root_message_id: string;
  origin_message_id: string;
  holder_session_id: string;
  active_run_id: string | null;
  remaining_reply_budget: number;
  expires_at_ms: number;
  queued_candidate_session_ids: string[];
  last_human_message_id: string | null;
  agent_reply_count_since_last_human: number;
}

const enc = encodeURIComponent;

export class ChannelsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  private path(id: string, rest = ''): string {
    return `/v1/channels/${enc(id)}${rest}`;
  }

  list(query: { query?: string } = {}): Promise<{ channels: ChannelSummaryView[] }> {
    return this.http.request('GET', '/v1/channels', { query: { ...query } }) as Promise<{
      channels: ChannelSummaryView[];
    }>;
  }

  /** POST /v1/channels: 201 with the detail view; a taken id throws 409 channels/channel_already_exists. */
  create(body: CreateChannelRequest): Promise<ChannelDetailView> {
    return this.http.request('POST', '/v1/channels', { body }) as Promise<ChannelDetailView>;
  }

  get(id: string): Promise<ChannelDetailView> {
    return this.http.request('GET', this.path(id)) as Promise<ChannelDetailView>;
  }

  update(id: string, body: UpdateChannelRequest): Promise<ChannelDetailView> {
    return this.http.request('PUT', this.path(id), { body }) as Promise<ChannelDetailView>;
  }

  /** Deletes the channel and all its derived state; 409 channels/channel_in_use while a project links it. */
  delete(id: string): Promise<{ accepted: true }> {
    return this.http.request('DELETE', this.path(id)) as Promise<{ accepted: true }>;
  }

  members(id: string): Promise<{ members: ChannelMemberView[] }> {
    return this.http.request('GET', this.path(id, '/members')) as Promise<{ members: ChannelMemberView[] }>;
  }

  upsertMember(id: string, member: ChannelMemberInput): Promise<ChannelMemberView> {
    return this.http.request('POST', this.path(id, '/members'), {
      body: member,
    }) as Promise<ChannelMemberView>;
  }

  removeMember(id: string, memberId: string): Promise<{ accepted: true }> {
    return this.http.request('DELETE', this.path(id, `/members/${enc(memberId)}`)) as Promise<{
      accepted: true;
    }>;
  }

  messages(
    id: string,
    query: { thread_root_message_id?: string; query?: string; limit?: number } = {},
  ): Promise<{ messages: ChannelMessageView[] }> {
    return this.http.request('GET', this.path(id, '/messages'), { query: { ...query } }) as Promise<{
      messages: ChannelMessageView[];
    }>;
  }

  message(id: string, messageId: string): Promise<ChannelMessageView> {
    return this.http.request(
      'GET',
      this.path(id, `/messages/${enc(messageId)}`),
    ) as Promise<ChannelMessageView>;
  }

  /** Posts a public message (201); it may start public turns of session members. */
  post(id: string, body: PostChannelMessageRequest): Promise<ChannelMessageView> {
    return this.http.request('POST', this.path(id, '/messages'), { body }) as Promise<ChannelMessageView>;
  }

  react(
    id: string,
    messageId: string,
    body: { actor_id: string; emoji: string },
  ): Promise<ChannelMessageView> {
    return this.http.request('POST', this.path(id, `/messages/${enc(messageId)}/reactions`), {
      body,
    }) as Promise<ChannelMessageView>;
  }

  unreact(
    id: string,
    messageId: string,
    body: { actor_id: string; emoji: string },
  ): Promise<ChannelMessageView> {
    return this.http.request('DELETE', this.path(id, `/messages/${enc(messageId)}/reactions`), {
      body,
    }) as Promise<ChannelMessageView>;
  }

  leases(id: string): Promise<{ leases: ChannelLeaseView[] }> {
    return this.http.request('GET', this.path(id, '/leases')) as Promise<{ leases: ChannelLeaseView[] }>;
  }

  /** `channel_event` frames (kind, seq, payload), replayed after `cursor` / Last-Event-ID. */
  stream(id: string, query: { cursor?: string } = {}, opts: StreamCallOptions = {}): SseStream {
    return this.http.stream(this.http.url(this.path(id, '/stream')), query.cursor, opts);
  }
}
