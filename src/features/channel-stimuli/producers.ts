// Stimuli from other domains (decision 367): a thread whose work is bound to a resource (a task, a
// sidechain agent) hears when that resource reaches a milestone. A sidechain agent's run that ends
// queues a `sidechain_milestone` in the transaction that ends it (engine onRunTerminal), so the
// milestone is as durable as the run's end. Task completions are not wired yet: the tasks feature
// announces them only after its commit, through the hook port (decision 367).
import { getAgentBySession } from '../../store/repos/agents.ts';
import { bumpSuppressed, threadWorkBoundTo } from '../../store/repos/channel-stimuli.ts';
import { getChannel, membersOf } from '../../store/repos/channels.ts';
import { getObservation } from '../../store/repos/observations.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import type { CreateStimulusRequest } from './schema.ts';
import type { ChannelStimuliService } from './service.ts';
import { newStimulusId } from './service.ts';

type Produced = Pick<CreateStimulusRequest, 'kind' | 'content' | 'dedupe_key' | 'progress_key'> & {
  sender_session_id?: string;
};

/** Queues `s` in every thread bound to (kind, ref), inside `tx`. */
export async function produce(
  svc: ChannelStimuliService,
  tx: WriteTx,
  binding: { kind: string; ref: string },
  s: Produced,
): Promise<number> {
  let queued = 0;
  for (const w of await threadWorkBoundTo(tx.db, binding.kind, binding.ref)) {
    const channel = await getChannel(tx.db, w.channel_id);
    if (!channel) continue;
    const limit = Number(
      (JSON.parse(channel.autonomy_policy) as { max_pending_stimuli?: number }).max_pending_stimuli ?? 32,
    );
    const member = (await membersOf(tx.db, w.channel_id)).some(
      (m) => m.member_kind === 'session' && m.session_id === s.sender_session_id,
    );
    const outcome = await svc.admit(
      tx,
      w.channel_id,
      newStimulusId(),
      {
        scope: 'thread',
        thread_root_message_id: w.thread_root_message_id,
        kind: s.kind,
        content: s.content,
        ...(s.dedupe_key ? { dedupe_key: s.dedupe_key } : {}),
        ...(s.progress_key ? { progress_key: s.progress_key } : {}),
        ...(member && s.sender_session_id ? { sender_session_id: s.sender_session_id } : {}),
        source_kind: binding.kind,
        source_ref: binding.ref,
      },
      limit,
    );
    if (outcome === 'refused') await bumpSuppressed(tx.db, w.channel_id, tx.now);
    else queued++;
  }
  if (queued) tx.afterCommit(() => svc.kick());
  return queued;
}

/** A run ended: milestones for the threads bound to its sidechain agent or its observations. */
export async function onRunEnd(svc: ChannelStimuliService, tx: WriteTx, run: RunRow): Promise<void> {
  if (run.kind === 'channel_delivery') return;
  await onMaterialized(svc, tx, run);
  const agent = await getAgentBySession(tx.db, run.session_id);
  if (!agent) return;
  await produce(
    svc,
    tx,
    { kind: 'sidechain_agent', ref: agent.agent_id },
    {
      kind: 'sidechain_milestone',
      content: `Agent ${agent.agent_id} finished a run (${run.status}).`,
      dedupe_key: `sidechain-run:${run.run_id}`,
      progress_key: `sidechain:${agent.agent_id}`,
    },
  );
}

/**
 * An observation materialization run ended: `observation_materialized` for the threads bound to
 * one of its observations or to their source (a thread watching a capture source).
 */
async function onMaterialized(svc: ChannelStimuliService, tx: WriteTx, run: RunRow): Promise<void> {
  const meta = (JSON.parse(run.request) as { metadata?: Record<string, unknown> }).metadata;
  const ids = (meta?.observation_materialization as { observation_ids?: unknown } | undefined)
    ?.observation_ids;
  if (!Array.isArray(ids) || ids.length === 0) return;
  const refs = new Set<string>();
  for (const id of ids.map(String)) {
    refs.add(id);
    const o = await getObservation(tx.db, id);
    if (o) refs.add(o.source_id);
  }
  for (const ref of refs)
    await produce(
      svc,
      tx,
      { kind: 'observation', ref },
      {
        kind: 'observation_materialized',
        content: `${ids.length} observation(s) materialized in run ${run.run_id} (${run.status}).`,
        dedupe_key: `materialized:${run.run_id}`,
      },
    );
}
