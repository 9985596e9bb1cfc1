// `channels stimuli list|create` and `channels thread-work` (api-collab §1.14 mirror): the stimulus
// queue and the per-thread work projection of a channel, through the SDK.
import type { Command } from 'commander';
import {
  ChannelStimuliResource,
  type CreateStimulusRequest,
  type StimulusKind,
  type StimulusState,
  type StimulusView,
  type ThreadWorkView,
} from '../sdk/channel-stimuli.ts';
import { UsageError } from './errors.ts';
import { oneLine, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const KINDS: StimulusKind[] = [
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
];
const collect = (value: string, previous: string[] = []) => [...previous, value];

const renderStimuli = (list: StimulusView[]) =>
  list.length === 0
    ? ['no stimuli']
    : table(
        ['STIMULUS', 'STATE', 'KIND', 'SCOPE', 'MESSAGE', 'CONTENT'],
        list.map((s) => [
          s.stimulus_id,
          s.state_reason && s.state !== 'dispatched' ? `${s.state} (${s.state_reason})` : s.state,
          s.kind,
          s.scope === 'thread' ? `thread ${s.thread_root_message_id}` : 'channel',
          s.dispatched_message_id ?? '-',
          oneLine(s.content, 50),
        ]),
      );

const renderWork = (list: ThreadWorkView[]) =>
  list.length === 0
    ? ['no thread-work']
    : table(
        ['THREAD', 'TOPIC', 'STATUS', 'OWNER', 'BINDINGS', 'PROGRESS', 'LAST SIGNAL'],
        list.map((w) => [
          w.thread_root_message_id,
          w.topic_kind,
          w.status,
          w.owner_session_id ?? '-',
          w.bindings.map((b) => `${b.kind}:${b.ref}`).join(' ') || '-',
          Object.values(w.progress_snapshots)
            .map((p) => `${p.progress_key}=${oneLine(p.content, 20)}`)
            .join(' ') || '-',
          time(w.last_signal_at_ms ?? undefined) ?? '-',
        ]),
      );

export function registerChannelStimuli(channels: Command, rt: CliRuntime): void {
  const api = () => new ChannelStimuliResource(rt.client());
  const stimuli = channels.command('stimuli').description('the durable wake-up queue of a channel');
  stimuli
    .command('list')
    .argument('<channel_id>')
    .description('list stimuli, oldest first')
    .option('--thread <message_id>', 'only stimuli of this thread', nonEmpty)
    .option('--state <state>', 'pending, claimed, dispatched, coalesced, superseded or cancelled')
    .option('--limit <n>', 'the latest n', positiveInt)
    .action(async (id: string, f: { thread?: string; state?: StimulusState; limit?: number }) => {
      const r = await api().list(id, {
        ...(f.thread ? { thread_root_message_id: f.thread } : {}),
        ...(f.state ? { state: f.state } : {}),
        ...(f.limit ? { limit: f.limit } : {}),
      });
      rt.emit(r, (x) => renderStimuli(x.stimuli));
    });
  stimuli
    .command('create')
    .alias('add')
    .argument('<channel_id>')
    .argument('<content>', 'the public text')
    .description('enqueue a stimulus: --thread continues a thread, without it a new subject may open')
    .option('--thread <message_id>', 'continue this root thread (scope thread)', nonEmpty)
    .option('--kind <kind>', `one of ${KINDS.join(', ')}`, 'agent_idea')
    .option('--visibility <hint>', 'auto, main or thread')
    .option('--address <member_id>', 'a member with first-turn priority (repeatable)', collect)
    .option('--sender-session <session_id>', 'post as this session member', nonEmpty)
    .option('--sender-actor <actor_id>', 'post as this human member', nonEmpty)
    .option('--source-kind <kind>', 'source category (task, schedule, run, agent, observation)', nonEmpty)
    .option('--source-ref <id>', 'source identifier', nonEmpty)
    .option('--dedupe-key <key>', 'equal queued stimuli join; a newer one replaces an older', nonEmpty)
    .option('--progress-key <key>', 'a newer progress update supersedes the older', nonEmpty)
    .action(async (id: string, content: string, f: Record<string, string | string[] | undefined>) => {
      if (!KINDS.includes(f.kind as StimulusKind))
        throw new UsageError(`--kind must be one of ${KINDS.join(', ')}`);
      const body: CreateStimulusRequest = {
        scope: f.thread ? 'thread' : 'channel',
        kind: f.kind as StimulusKind,
        content,
        ...(f.thread ? { thread_root_message_id: f.thread as string } : {}),
        ...(f.visibility ? { visibility_hint: f.visibility as 'auto' } : {}),
        ...(f.address ? { addressed_member_ids: f.address as string[] } : {}),
        ...(f.senderSession ? { sender_session_id: f.senderSession as string } : {}),
        ...(f.senderActor ? { sender_actor_id: f.senderActor as string } : {}),
        ...(f.sourceKind ? { source_kind: f.sourceKind as string } : {}),
        ...(f.sourceRef ? { source_ref: f.sourceRef as string } : {}),
        ...(f.dedupeKey ? { dedupe_key: f.dedupeKey as string } : {}),
        ...(f.progressKey ? { progress_key: f.progressKey as string } : {}),
      };
      rt.emit(await api().create(id, body), (s) => renderStimuli([s]));
    });
  channels
    .command('thread-work')
    .argument('<channel_id>')
    .description('the per-root-thread work projection (bindings, progress, status)')
    .option('--thread <message_id>', 'only this root thread', nonEmpty)
    .action(async (id: string, f: { thread?: string }) =>
      rt.emit(await api().threadWork(id, f.thread), (r) => renderWork(r.thread_work)),
    );
}
