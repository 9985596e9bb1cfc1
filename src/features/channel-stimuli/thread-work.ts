// The per-root-thread work projection (api-collab §1.9; decisions 361-364). It changes in the
// transaction that changes its cause: a dispatched stimulus, a channel_delivery run that ends. A
// binding is keyed by (kind, ref) and updated in place; a progress snapshot is keyed by
// progress_key and a newer update replaces the older one (supersession, never an append).
import {
  getThreadWork,
  putThreadWork,
  type StimulusRow,
  type ThreadWorkRow,
} from '../../store/repos/channel-stimuli.ts';
import type { Executor } from '../../store/schema.ts';
import type { ProgressSnapshot, ThreadBinding } from './schema.ts';

/** source_kind values that name a bindable resource (decision 362). */
const BINDING_OF_SOURCE: Record<string, ThreadBinding['kind']> = {
  schedule: 'schedule',
  run: 'run',
  task: 'task',
  agent: 'sidechain_agent',
  sidechain_agent: 'sidechain_agent',
  observation: 'observation',
};

/** Kinds that end a thread's work, or hand it over (decision 361). */
const STATUS_OF_KIND: Record<string, string> = {
  task_completed: 'completed',
  schedule_result: 'completed',
  review_completed: 'completed',
  result_summary: 'completed',
  supersession_notice: 'superseded',
};

function blank(channelId: string, root: string, now: number, topic: string): ThreadWorkRow {
  return {
    channel_id: channelId,
    thread_root_message_id: root,
    topic_kind: topic,
    status: 'active',
    owner_session_id: null,
    initiative_key: null,
    source_kind: null,
    source_ref: null,
    last_stimulus_id: null,
    last_signal_at_ms: null,
    last_main_promotion_at_ms: null,
    bindings: '[]',
    progress_snapshots: '{}',
    metadata: null,
    created_at_ms: now,
    updated_at_ms: now,
  };
}

export function bind(
  bindings: ThreadBinding[],
  b: Omit<ThreadBinding, 'bound_at_ms' | 'updated_at_ms'>,
  now: number,
): ThreadBinding[] {
  const i = bindings.findIndex((x) => x.kind === b.kind && x.ref === b.ref);
  if (i < 0) return [...bindings, { ...b, bound_at_ms: now, updated_at_ms: now }];
  const next = [...bindings];
  next[i] = { ...next[i]!, ...b, updated_at_ms: now };
  return next;
}

/** A newer update of a progress stream replaces the older one; an older one never wins. */
export function supersede(
  snapshots: Record<string, ProgressSnapshot>,
  update: Omit<ProgressSnapshot, 'superseded_count'>,
): Record<string, ProgressSnapshot> {
  const prev = snapshots[update.progress_key];
  if (prev && prev.updated_at_ms > update.updated_at_ms) return snapshots;
  return {
    ...snapshots,
    [update.progress_key]: { ...update, superseded_count: prev ? prev.superseded_count + 1 : 0 },
  };
}

/** The projection after a stimulus was posted as `messageId` in thread `root`. */
export async function noteDispatched(
  db: Executor,
  s: StimulusRow,
  root: string,
  messageId: string,
  now: number,
): Promise<void> {
  const opened = s.scope === 'channel';
  const prev = await getThreadWork(db, s.channel_id, root);
  const topic = s.kind === 'result_summary' ? 'summary' : opened ? 'autonomous_root' : 'human';
  const base = prev ?? blank(s.channel_id, root, now, topic);
  let bindings = JSON.parse(base.bindings) as ThreadBinding[];
  const bk = s.source_kind ? BINDING_OF_SOURCE[s.source_kind] : undefined;
  if (bk && s.source_ref) bindings = bind(bindings, { kind: bk, ref: s.source_ref }, now);
  let snapshots = JSON.parse(base.progress_snapshots) as Record<string, ProgressSnapshot>;
  if (s.progress_key)
    snapshots = supersede(snapshots, {
      progress_key: s.progress_key,
      stimulus_id: s.stimulus_id,
      message_id: messageId,
      content: s.content,
      updated_at_ms: now,
    });
  await putThreadWork(db, {
    ...base,
    status: STATUS_OF_KIND[s.kind] ?? 'active',
    owner_session_id: base.owner_session_id ?? s.sender_session_id,
    initiative_key: base.initiative_key ?? (opened ? s.dedupe_key : null),
    source_kind: base.source_kind ?? s.source_kind,
    source_ref: base.source_ref ?? s.source_ref,
    last_stimulus_id: s.stimulus_id,
    last_signal_at_ms: now,
    last_main_promotion_at_ms: opened || s.visibility_hint === 'main' ? now : base.last_main_promotion_at_ms,
    bindings: JSON.stringify(bindings),
    progress_snapshots: JSON.stringify(snapshots),
    updated_at_ms: now,
  });
}

/** A channel_delivery run that worked the thread: bound as a `run` with its state (decision 364). */
export async function noteDeliveryRun(
  db: Executor,
  o: {
    channelId: string;
    root: string;
    runId: string;
    sessionId: string;
    status: string;
    humanRoot: boolean;
  },
  now: number,
): Promise<void> {
  const prev = await getThreadWork(db, o.channelId, o.root);
  const base = prev ?? blank(o.channelId, o.root, now, o.humanRoot ? 'human' : 'autonomous_root');
  const bindings = bind(
    JSON.parse(base.bindings) as ThreadBinding[],
    { kind: 'run', ref: o.runId, session_id: o.sessionId, state: o.status },
    now,
  );
  await putThreadWork(db, {
    ...base,
    bindings: JSON.stringify(bindings),
    last_signal_at_ms: now,
    updated_at_ms: now,
  });
}
