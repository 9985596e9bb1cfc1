// Stored rows → wire views (api-collab §1.8, §1.9).
import type { StimulusRow, ThreadWorkRow } from '../../store/repos/channel-stimuli.ts';
import type { StimulusView, ThreadWorkView } from './schema.ts';

const obj = (s: string | null): Record<string, unknown> =>
  s ? (JSON.parse(s) as Record<string, unknown>) : {};

export function stimulusView(r: StimulusRow): StimulusView {
  return {
    stimulus_id: r.stimulus_id,
    channel_id: r.channel_id,
    scope: r.scope as StimulusView['scope'],
    thread_root_message_id: r.thread_root_message_id,
    kind: r.kind,
    visibility_hint: r.visibility_hint,
    content: r.content,
    addressed_member_ids: JSON.parse(r.addressed_member_ids) as string[],
    sender_session_id: r.sender_session_id,
    sender_actor_id: r.sender_actor_id,
    sender_display_name: r.sender_display_name,
    source_kind: r.source_kind,
    source_ref: r.source_ref,
    dedupe_key: r.dedupe_key,
    progress_key: r.progress_key,
    available_at_ms: r.available_at_ms,
    expires_at_ms: r.expires_at_ms,
    metadata: obj(r.metadata),
    state: r.state as StimulusView['state'],
    state_reason: r.state_reason,
    retry_at_ms: r.retry_at_ms,
    dispatched_message_id: r.dispatched_message_id,
    dispatched_thread_root_message_id: r.dispatched_thread_root_message_id,
    dispatched_at_ms: r.dispatched_at_ms,
    related_stimulus_id: r.related_stimulus_id,
    created_at_ms: r.created_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
}

export function threadWorkView(r: ThreadWorkRow): ThreadWorkView {
  return {
    channel_id: r.channel_id,
    thread_root_message_id: r.thread_root_message_id,
    topic_kind: r.topic_kind as ThreadWorkView['topic_kind'],
    status: r.status as ThreadWorkView['status'],
    owner_session_id: r.owner_session_id,
    initiative_key: r.initiative_key,
    source_kind: r.source_kind,
    source_ref: r.source_ref,
    last_stimulus_id: r.last_stimulus_id,
    last_signal_at_ms: r.last_signal_at_ms,
    last_main_promotion_at_ms: r.last_main_promotion_at_ms,
    bindings: JSON.parse(r.bindings) as ThreadWorkView['bindings'],
    progress_snapshots: JSON.parse(r.progress_snapshots) as ThreadWorkView['progress_snapshots'],
    metadata: obj(r.metadata),
  };
}
