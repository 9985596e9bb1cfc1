// What a channel_delivery run is told (api-collab §1.12): the channel, the members, the recent
// thread with reactions, and what is expected of a public reply. The framing is plain text so any
// route can read it; files of the message being answered follow it as asset references.
import type {
  ChannelMemberRow,
  ChannelMessageRow,
  ChannelReactionRow,
  ChannelRow,
} from '../../store/repos/channels.ts';
import { aggregateReactions } from './views.ts';

/** A final answer that is exactly this (or empty) posts nothing: the member chose to stay silent. */
export const NO_REPLY = 'NO_REPLY';

export function deliveryText(o: {
  channel: ChannelRow;
  members: ChannelMemberRow[];
  member: ChannelMemberRow;
  recent: ChannelMessageRow[];
  reactions: ChannelReactionRow[];
  origin: ChannelMessageRow;
  turnId: string;
}): string {
  const { channel, member, origin } = o;
  const lines: string[] = [];
  lines.push(`Channel: ${channel.title} (channel_id ${channel.channel_id})`);
  if (channel.purpose) lines.push(`Purpose: ${channel.purpose}`);
  lines.push(
    `You are ${member.display_name} (member_id ${member.member_id}) and hold the public turn ${o.turnId}.`,
  );
  lines.push('Members:');
  for (const m of o.members)
    lines.push(`- ${m.member_id}: ${m.display_name} (${m.member_kind}${m.role ? `, ${m.role}` : ''})`);
  lines.push(`Thread ${origin.thread_root_message_id}, latest messages (oldest first):`);
  for (const m of o.recent) {
    const own = o.reactions.filter((r) => r.message_id === m.message_id);
    const agg = aggregateReactions(own)
      .map((a) => `${a.emoji}x${a.count}`)
      .join(' ');
    const content = (JSON.parse(m.output) as { content: string }).content;
    lines.push(
      `[${m.message_id}] ${m.sender_display_name}: ${content}${agg ? `   (reactions: ${agg})` : ''}`,
    );
  }
  const content = (JSON.parse(origin.output) as { content: string }).content;
  lines.push(`You are answering message ${origin.message_id} from ${origin.sender_display_name}:`);
  lines.push(content);
  lines.push(
    `Your final answer is posted in this thread as your public reply. Keep it short and on topic. To stay silent, answer exactly ${NO_REPLY}.`,
  );
  return lines.join('\n');
}
