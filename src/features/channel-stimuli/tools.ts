// The host of the channel tools (src/tools/control/channels.ts; decision 365). A channel_delivery
// run names its channel, thread and member in its request metadata (`kheish_channel`); outside such
// a run the session must be a session member of the channel the call names.
import { DaemonError } from '../../errors/daemon-error.ts';
import { getChannel, listMessages, membersOf, reactionsOf } from '../../store/repos/channels.ts';
import { getRun, type RunRow } from '../../store/repos/runs.ts';
import type { ChannelToolHost } from '../../tools/control/channels.ts';
import type { ToolContext } from '../../tools/registry.ts';
import type { ChannelsPort } from '../channels/port.ts';
import type { ChannelStimuliService } from './service.ts';

interface DeliveryContext {
  channel_id: string;
  thread_root_message_id: string;
  origin_message_id: string;
  member_id: string;
}

export function deliveryOf(run: RunRow): DeliveryContext | null {
  const meta = (JSON.parse(run.request) as { metadata?: { kheish_channel?: DeliveryContext } }).metadata;
  return meta?.kheish_channel ?? null;
}

const refuse = (detail: string) => new DaemonError(403, 'channels', 'not_a_channel_member', detail);

export class ChannelToolsHost implements ChannelToolHost {
  private readonly svc: ChannelStimuliService;
  private readonly channels: () => ChannelsPort;

  constructor(svc: ChannelStimuliService, channels: () => ChannelsPort) {
    this.svc = svc;
    this.channels = channels;
  }

  /** The channel and member the call acts in, checked against the roster now. */
  private async where(ctx: ToolContext, channelId?: string) {
    const run = await getRun(this.svc.db, ctx.run_id);
    const delivery = run ? deliveryOf(run) : null;
    const channel_id = channelId ?? delivery?.channel_id;
    if (!channel_id)
      throw new DaemonError(
        400,
        'channels',
        'invalid_stimulus',
        'give channel_id: this run answers no channel',
      );
    if (!(await getChannel(this.svc.db, channel_id)))
      throw new DaemonError(404, 'channels', 'channel_not_found', `channel ${channel_id} was not found`);
    const member = (await membersOf(this.svc.db, channel_id)).find(
      (m) => m.member_kind === 'session' && m.session_id === ctx.session_id,
    );
    if (!member) throw refuse(`session ${ctx.session_id} is not a member of channel ${channel_id}`);
    const own = delivery && delivery.channel_id === channel_id ? delivery : null;
    return {
      channel_id,
      member,
      thread: own?.thread_root_message_id ?? null,
      origin: own?.origin_message_id ?? null,
    };
  }

  async readThread(
    input: { channel_id?: string; thread_root_message_id?: string; limit?: number },
    ctx: ToolContext,
  ) {
    const w = await this.where(ctx, input.channel_id);
    const root = input.thread_root_message_id ?? w.thread;
    if (!root) throw new DaemonError(400, 'channels', 'invalid_query', 'give thread_root_message_id');
    const rows = await listMessages(this.svc.db, w.channel_id, {
      thread: root,
      limitLatest: input.limit ?? 30,
    });
    if (rows.length === 0)
      throw new DaemonError(404, 'channels', 'message_not_found', `thread ${root} has no messages`);
    const reactions = await reactionsOf(
      this.svc.db,
      w.channel_id,
      rows.map((m) => m.message_id),
    );
    return {
      channel_id: w.channel_id,
      thread_root_message_id: root,
      messages: rows.map((m) => {
        const output = JSON.parse(m.output) as { content?: string; parts?: Array<Record<string, unknown>> };
        const mine = reactions.filter((r) => r.message_id === m.message_id);
        const emojis = [...new Set(mine.map((r) => r.emoji))];
        return {
          message_id: m.message_id,
          reply_to_message_id: m.reply_to_message_id,
          sender_member_id: m.sender_member_id,
          sender_display_name: m.sender_display_name,
          content: output.content ?? '',
          attachments: (output.parts ?? []).filter((p) => p.type !== 'text'),
          reactions: emojis.map((e) => ({
            emoji: e,
            actor_ids: mine.filter((r) => r.emoji === e).map((r) => r.actor_id),
          })),
          created_at_ms: m.created_at_ms,
        };
      }),
    };
  }

  async setReaction(
    input: { channel_id?: string; message_id?: string; emoji: string; remove?: boolean },
    ctx: ToolContext,
  ) {
    const w = await this.where(ctx, input.channel_id);
    const messageId = input.message_id ?? w.origin;
    if (!messageId) throw new DaemonError(400, 'channels', 'invalid_reaction', 'give message_id');
    await this.channels().react(w.channel_id, messageId, w.member.member_id, input.emoji, !input.remove);
    return { channel_id: w.channel_id, message_id: messageId, emoji: input.emoji, reacted: !input.remove };
  }

  async createStimulus(
    input: {
      channel_id?: string;
      scope?: 'channel' | 'thread';
      thread_root_message_id?: string;
      kind?: string;
      content: string;
      visibility_hint?: 'auto' | 'main' | 'thread';
      addressed_member_ids?: string[];
      source_kind?: string;
      source_ref?: string;
      dedupe_key?: string;
      progress_key?: string;
    },
    ctx: ToolContext,
  ) {
    const w = await this.where(ctx, input.channel_id);
    const scope = input.scope ?? (input.thread_root_message_id || w.thread ? 'thread' : 'channel');
    const root = scope === 'thread' ? (input.thread_root_message_id ?? w.thread ?? undefined) : undefined;
    const s = await this.svc.create(w.channel_id, {
      scope,
      ...(root ? { thread_root_message_id: root } : {}),
      kind: (input.kind ?? 'agent_idea') as 'agent_idea',
      content: input.content,
      ...(input.visibility_hint ? { visibility_hint: input.visibility_hint } : {}),
      ...(input.addressed_member_ids ? { addressed_member_ids: input.addressed_member_ids } : {}),
      sender_session_id: ctx.session_id,
      source_kind: input.source_kind ?? 'run',
      source_ref: input.source_ref ?? ctx.run_id,
      ...(input.dedupe_key ? { dedupe_key: input.dedupe_key } : {}),
      ...(input.progress_key ? { progress_key: input.progress_key } : {}),
      metadata: { created_by_run_id: ctx.run_id, tool_call_id: ctx.tool_call_id },
    });
    return {
      stimulus_id: s.stimulus_id,
      channel_id: s.channel_id,
      state: s.state,
      scope: s.scope,
      thread_root_message_id: s.thread_root_message_id,
    };
  }

  /** Whether a session is a session member of any channel (create_channel_stimulus outside deliveries). */
  async isMemberAnywhere(sessionId: string): Promise<boolean> {
    const r = await this.svc.db
      .selectFrom('channel_members')
      .select('channel_id')
      .where('member_kind', '=', 'session')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return !!r;
  }
}
