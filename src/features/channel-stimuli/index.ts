// Channel stimuli and thread-work (api-collab §1.8, §1.9, §1.12, §1.13; docs/channel-stimuli.md):
// the durable stimulus queue behind ChannelsPort.enqueueStimulus, its worker, the per-thread work
// projection and the channel tools. It reaches channels only through ChannelsPort, asked lazily
// (channels may be built after this module).

import { getMessage } from '../../store/repos/channels.ts';
import { isTerminal } from '../../store/repos/runs.ts';
import {
  CHANNEL_TOOLS,
  CREATE_CHANNEL_STIMULUS_TOOL,
  registerChannelTools,
} from '../../tools/control/channels.ts';
import type { ChannelsPort } from '../channels/port.ts';
import type { FeatureModule } from '../feature.ts';
import { onRunEnd } from './producers.ts';
import { registerStimulusRoutes } from './routes.ts';
import { ChannelStimuliService } from './service.ts';
import { noteDeliveryRun } from './thread-work.ts';
import { ChannelToolsHost, deliveryOf } from './tools.ts';
import { StimulusWorker } from './worker.ts';

export interface ChannelStimuliFeature {
  service: ChannelStimuliService;
  worker: StimulusWorker;
}

/** How often the worker looks at deferred stimuli (a new one is looked at at once). */
const tickMs = () => Number(process.env.KHEISH_STIMULUS_TICK_MS ?? 500);

export const channelStimuliFeature: FeatureModule<ChannelStimuliFeature> = {
  name: 'channel-stimuli',
  create: (k) => {
    let port: ChannelsPort | null = null;
    const channels = () => (port ??= k.use<ChannelsPort>('channels'));
    const service = new ChannelStimuliService(k.engine, channels);
    const worker = new StimulusWorker(service, channels, tickMs(), k.log);
    const host = new ChannelToolsHost(service, channels);
    registerChannelTools(k.tools, host);
    // The channels feature forwards enqueueStimulus here, counts these in moderation_metrics and
    // deletes this state with the channel (in its delete transaction).
    const p = channels();
    p.provideStimulusQueue(async (channelId, s) => {
      const v = await service.create(channelId, {
        scope: s.thread_root_message_id ? 'thread' : 'channel',
        ...(s.thread_root_message_id ? { thread_root_message_id: s.thread_root_message_id } : {}),
        kind: s.kind as 'agent_idea',
        content: s.summary,
        ...(s.dedupe_key ? { dedupe_key: s.dedupe_key } : {}),
        ...(s.metadata ? { metadata: s.metadata } : {}),
      });
      return { stimulus_id: v.stimulus_id, state: v.state };
    });
    p.addMetricsSource((channelId) => service.metrics(channelId));
    p.addDeleteHook((tx, channelId) => service.deleteWithChannel(tx, channelId));
    // Decision 365: the thread tools exist in channel_delivery runs; create_channel_stimulus also in
    // any run of a session that is a session member of some channel.
    const base = k.engine.toolSurfaceFor;
    k.engine.toolSurfaceFor = async (run) => {
      const outer = await base(run);
      if (deliveryOf(run)) return outer;
      const hidden = new Set(CHANNEL_TOOLS);
      if (await host.isMemberAnywhere(run.session_id)) hidden.delete(CREATE_CHANNEL_STIMULUS_TOOL);
      const names = outer ? [...outer] : k.tools.list().map((t) => t.name);
      return new Set(names.filter((n) => !hidden.has(n)));
    };
    // Producers (decision 367): sidechain milestones and materializations commit with the run's end.
    k.engine.onRunTerminal(async (tx, run) => {
      // A producer must never keep a run from ending: its failure is logged and rolled back alone.
      await tx
        .savepoint(() => onRunEnd(service, tx, run))
        .catch((err) => k.log.warn({ err, run_id: run.run_id }, 'channel stimulus producer failed'));
    });
    // A delivery run that ends is bound to its thread's work, in the transaction that ends it.
    k.engine.onRunTerminal(async (tx, run) => {
      if (run.kind !== 'channel_delivery' || !isTerminal(run.status)) return;
      await tx
        .savepoint(async () => {
          const d = deliveryOf(run);
          if (!d) return;
          const root = await getMessage(tx.db, d.channel_id, d.thread_root_message_id);
          if (!root) return;
          await noteDeliveryRun(
            tx.db,
            {
              channelId: d.channel_id,
              root: d.thread_root_message_id,
              runId: run.run_id,
              sessionId: run.session_id,
              status: run.status,
              humanRoot:
                root.sender_kind === 'human_actor' && !JSON.parse(root.metadata ?? '{}').kheish_stimulus_id,
            },
            tx.now,
          );
        })
        .catch((err) => k.log.warn({ err, run_id: run.run_id }, 'thread-work binding failed'));
    });
    return { service, worker };
  },
  routes: (app, f) => registerStimulusRoutes(app, f.service),
  start: async (f) => {
    await f.worker.recover();
    f.worker.start();
  },
  stop: (f) => f.worker.stop(),
};
