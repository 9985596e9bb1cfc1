// The ChannelsPort other features use, over the channels service.
import { DaemonError } from '../../errors/daemon-error.ts';
import { getChannel, getMessage } from '../../store/repos/channels.ts';
import type { ChannelStimulusQueue, ChannelsPort } from './port.ts';
import type { PostMessageRequest } from './schema.ts';
import type { ChannelsService } from './service.ts';
import { policyOf } from './views.ts';

export function channelsPort(
  service: ChannelsService,
  stimuli: { queue: ChannelStimulusQueue | null },
): ChannelsPort {
  return {
    exists: async (id) => !!(await getChannel(service.db, id)),
    upsertMember: async (id, member) => {
      await service.upsertMember(id, member);
    },
    removeMember: async (id, memberId) => {
      await service.removeMember(id, memberId);
    },
    post: async (id, message) => {
      const v = await service.log.post(id, message as PostMessageRequest);
      return {
        channel_id: v.channel_id,
        message_id: v.message_id,
        thread_root_message_id: v.thread_root_message_id,
      };
    },
    isThreadRoot: async (id, messageId) => {
      const m = await getMessage(service.db, id, messageId);
      return !!m && m.thread_root_message_id === m.message_id;
    },
    enqueueStimulus: async (id, stimulus) => {
      if (!stimuli.queue)
        throw new DaemonError(
          503,
          'channels',
          'stimuli_unavailable',
          'this daemon has no channel stimulus queue',
        );
      return stimuli.queue(id, stimulus);
    },
    react: async (id, messageId, actorId, emoji, add) => {
      await service.log.react(id, messageId, { actor_id: actorId, emoji }, add);
    },
    addDeleteGuard: (guard) => {
      service.guards.push(guard);
    },
    addDeleteHook: (hook) => {
      service.deleteHooks.push(hook);
    },
    addMetricsSource: (source) => {
      service.metricSources.push(source);
    },
    provideStimulusQueue: (queue) => {
      stimuli.queue = queue;
    },
    policy: async (id) => {
      const c = await getChannel(service.db, id);
      return c ? { ...policyOf(c) } : null;
    },
  };
}
