// Channel stimuli and thread-work client calls (api-collab §1.8, §1.9): the durable wake-up queue of
// a channel and the per-root-thread work projection.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export type StimulusState = 'pending' | 'claimed' | 'dispatched' | 'coalesced' | 'superseded' | 'cancelled';
export type StimulusKind =
  | 'agent_idea'
  | 'schedule_fire'
  | 'schedule_result'
  | 'task_completed'
  | 'review_completed'
  | 'sidechain_milestone'
  | 'observation_materialized'
  | 'thread_idle_followup'
  | 'result_summary'
  | 'supersession_notice';

export interface CreateStimulusRequest {
  scope: 'channel' | 'thread';
  thread_root_message_id?: string;
  kind: StimulusKind;
  visibility_hint?: 'auto' | 'main' | 'thread';
  content: string;
  addressed_member_ids?: string[];
  sender_session_id?: string;
  sender_actor_id?: string;
  sender_display_name?: string;
  source_kind?: string;
  source_ref?: string;
  dedupe_key?: string;
  progress_key?: string;
  available_at_ms?: number;
  expires_at_ms?: number;
  metadata?: JsonObject;
}

export interface StimulusView extends JsonObject {
  stimulus_id: string;
  channel_id: string;
  scope: 'channel' | 'thread';
  thread_root_message_id: string | null;
  kind: StimulusKind;
  content: string;
  state: StimulusState;
  state_reason: string | null;
  retry_at_ms: number | null;
  dispatched_message_id: string | null;
  dispatched_thread_root_message_id: string | null;
  dispatched_at_ms: number | null;
  related_stimulus_id: string | null;
  created_at_ms: number;
}

export interface ThreadWorkView extends JsonObject {
  channel_id: string;
  thread_root_message_id: string;
  topic_kind: 'human' | 'autonomous_root' | 'summary';
  status: 'proposed' | 'active' | 'reviewing' | 'completed' | 'superseded';
  owner_session_id: string | null;
  initiative_key: string | null;
  last_stimulus_id: string | null;
  last_signal_at_ms: number | null;
  bindings: Array<
    { kind: string; ref: string; session_id?: string | null; state?: string | null } & JsonObject
  >;
  progress_snapshots: Record<
    string,
    { progress_key: string; content: string; message_id: string | null } & JsonObject
  >;
}

const enc = encodeURIComponent;

export class ChannelStimuliResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(
    channelId: string,
    query: { thread_root_message_id?: string; state?: StimulusState; limit?: number } = {},
  ): Promise<{ stimuli: StimulusView[] }> {
    return this.http.request('GET', `/v1/channels/${enc(channelId)}/stimuli`, {
      query: { ...query },
    }) as Promise<{
      stimuli: StimulusView[];
    }>;
  }

  /** 201 with the stored stimulus; a full queue throws 429 channels/stimulus_queue_full. */
  create(channelId: string, body: CreateStimulusRequest): Promise<StimulusView> {
    return this.http.request('POST', `/v1/channels/${enc(channelId)}/stimuli`, {
      body,
    }) as Promise<StimulusView>;
  }

  threadWork(channelId: string, threadRootMessageId?: string): Promise<{ thread_work: ThreadWorkView[] }> {
    return this.http.request('GET', `/v1/channels/${enc(channelId)}/thread-work`, {
      query: threadRootMessageId === undefined ? {} : { thread_root_message_id: threadRootMessageId },
    }) as Promise<{ thread_work: ThreadWorkView[] }>;
  }
}
