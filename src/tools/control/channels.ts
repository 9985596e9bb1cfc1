// Channel tools of session members (api-core §10, api-collab §1.12; decision 365):
// `read_channel_thread` reads the thread a channel_delivery run answers (bounded),
// `set_channel_reaction` reacts as the run's member, `create_channel_stimulus` proposes a public
// subject that the daemon decides to post. The channel-stimuli feature implements the host; these
// definitions only validate arguments and render results.
import { z } from 'zod';
import type { ToolContext, ToolDefinition, ToolRegistry } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

export const READ_CHANNEL_THREAD_TOOL = 'read_channel_thread';
export const SET_CHANNEL_REACTION_TOOL = 'set_channel_reaction';
export const CREATE_CHANNEL_STIMULUS_TOOL = 'create_channel_stimulus';
export const CHANNEL_TOOLS = [
  READ_CHANNEL_THREAD_TOOL,
  SET_CHANNEL_REACTION_TOOL,
  CREATE_CHANNEL_STIMULUS_TOOL,
];

const id = z.string().min(1).max(512);

export const ReadChannelThreadInput = z
  .object({
    channel_id: id.optional(),
    thread_root_message_id: id.optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .strict();

export const SetChannelReactionInput = z
  .object({
    channel_id: id.optional(),
    /** Defaults to the message a channel_delivery run answers. */
    message_id: id.optional(),
    emoji: z.string().min(1).max(64),
    remove: z.boolean().optional(),
  })
  .strict();

export const CreateChannelStimulusInput = z
  .object({
    channel_id: id.optional(),
    scope: z.enum(['channel', 'thread']).optional(),
    thread_root_message_id: id.optional(),
    kind: z
      .enum([
        'agent_idea',
        'schedule_result',
        'task_completed',
        'review_completed',
        'sidechain_milestone',
        'observation_materialized',
        'thread_idle_followup',
        'result_summary',
        'supersession_notice',
      ])
      .optional(),
    content: z.string().trim().min(1).max(64_000),
    visibility_hint: z.enum(['auto', 'main', 'thread']).optional(),
    addressed_member_ids: z.array(id).max(64).optional(),
    source_kind: z.string().min(1).max(128).optional(),
    source_ref: z.string().min(1).max(512).optional(),
    dedupe_key: z.string().min(1).max(512).optional(),
    progress_key: z.string().min(1).max(512).optional(),
  })
  .strict();

export interface ChannelToolHost {
  readThread(input: z.infer<typeof ReadChannelThreadInput>, ctx: ToolContext): Promise<unknown>;
  setReaction(input: z.infer<typeof SetChannelReactionInput>, ctx: ToolContext): Promise<unknown>;
  createStimulus(input: z.infer<typeof CreateChannelStimulusInput>, ctx: ToolContext): Promise<unknown>;
}

export function channelTools(host: ChannelToolHost): ToolDefinition[] {
  return [
    defineControlTool(
      READ_CHANNEL_THREAD_TOOL,
      'Read the public channel thread you are answering (or another thread of a channel you belong to): canonical message ids, senders, text, attachments and reactions, oldest first, the latest `limit` (default 30).',
      ReadChannelThreadInput,
      false,
      (input, ctx) => host.readThread(input, ctx),
    ),
    // Adding a reaction that is already there changes nothing, so a replay after a crash is harmless.
    defineControlTool(
      SET_CHANNEL_REACTION_TOOL,
      'React publicly to a channel message as yourself (a lightweight signal instead of a reply); `remove: true` takes your reaction back.',
      SetChannelReactionInput,
      false,
      (input, ctx) => host.setReaction(input, ctx),
    ),
    defineControlTool(
      CREATE_CHANNEL_STIMULUS_TOOL,
      'Propose a public subject to a channel you belong to: `scope: "thread"` continues a thread (the current one by default), `scope: "channel"` opens a new top-level subject. The daemon queues it and decides when (and whether) it is posted under the channel autonomy policy.',
      CreateChannelStimulusInput,
      true,
      (input, ctx) => host.createStimulus(input, ctx),
    ),
  ];
}

export function registerChannelTools(registry: ToolRegistry, host: ChannelToolHost): void {
  for (const t of channelTools(host)) registry.register(t);
}
