// Posting to the public log (api-collab §1.5): who may post, which thread a message belongs to, and
// its stored form. Validation runs once before inline files are imported (so a refused post imports
// nothing) and again inside the writing transaction (the roster may have changed in between).

import type { InputItem } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  type ChannelMemberRow,
  type ChannelMessageRow,
  type ChannelRow,
  getMessage,
  membersOf,
} from '../../store/repos/channels.ts';
import type { Executor } from '../../store/schema.ts';
import { labelOf, senderMember } from './roster.ts';
import type { PostMessageRequest } from './schema.ts';

const bad = (code: string, detail: string) => new DaemonError(400, 'channels', code, detail);

export interface ResolvedPost {
  sender: ChannelMemberRow;
  senderLabel: string;
  thread_root_message_id: string | null;
  reply_to: ChannelMessageRow | null;
  addressed: string[];
}

/** The shape rules of session input (api-core §3.6), with the channels domain. */
export function checkContent(body: PostMessageRequest): void {
  const content = body.content ?? '';
  if (body.input_items?.length && content !== '')
    throw bad('invalid_message', 'input_items cannot be combined with content; send one shape or the other');
  const hasItems = (body.input_items ?? []).some((i) => i.type !== 'text' || i.text.trim() !== '');
  if (content.trim() === '' && !hasItems)
    throw bad('invalid_message', 'the message has no content: give content or input_items');
  for (const item of body.input_items ?? []) {
    if (item.type === 'inline_asset' && (item.file_name.trim() === '' || item.content_base64 === ''))
      throw bad('invalid_message', 'inline assets need a non-empty file_name and content_base64');
    if (item.type === 'asset_reference' && item.asset_id.trim() === '')
      throw bad('invalid_message', 'asset_id must not be empty');
  }
}

export async function resolvePost(
  db: Executor,
  channel: ChannelRow,
  body: PostMessageRequest,
): Promise<ResolvedPost> {
  checkContent(body);
  const members = await membersOf(db, channel.channel_id);
  const sender = senderMember(members, body.sender_actor_id);
  if (!sender)
    throw new DaemonError(
      403,
      'channels',
      'sender_not_member',
      `${body.sender_actor_id} is not a member of channel ${channel.channel_id}`,
    );
  if (sender.member_kind === 'session') {
    if (body.sender_session_id === undefined)
      throw bad(
        'sender_session_required',
        `member ${sender.member_id} is a session member: give sender_session_id`,
      );
    if (body.sender_session_id !== sender.session_id)
      throw bad(
        'sender_session_mismatch',
        `member ${sender.member_id} is bound to another session than ${body.sender_session_id}`,
      );
  } else if (body.sender_session_id !== undefined) {
    throw bad('sender_session_mismatch', `member ${sender.member_id} is a human actor: it has no session`);
  }
  if (sender.member_kind !== 'session' && (body.input_items ?? []).some((i) => i.type === 'board_reference'))
    throw bad(
      'board_reference_requires_session',
      'board_reference items need a session-backed sender: boards resolve in a session',
    );
  let reply_to: ChannelMessageRow | null = null;
  let root: string | null = null;
  if (body.reply_to_message_id !== undefined) {
    reply_to = (await getMessage(db, channel.channel_id, body.reply_to_message_id)) ?? null;
    if (!reply_to) throw bad('unknown_message', `message ${body.reply_to_message_id} is not in this channel`);
    root = reply_to.thread_root_message_id;
  }
  if (body.thread_root_message_id !== undefined) {
    const r = await getMessage(db, channel.channel_id, body.thread_root_message_id);
    if (!r) throw bad('unknown_message', `message ${body.thread_root_message_id} is not in this channel`);
    if (r.thread_root_message_id !== r.message_id)
      throw bad(
        'not_a_thread_root',
        `message ${r.message_id} is a reply; its thread root is ${r.thread_root_message_id}`,
      );
    if (root !== null && root !== r.message_id)
      throw bad('thread_mismatch', `reply_to_message_id belongs to thread ${root}, not ${r.message_id}`);
    root = r.message_id;
  }
  const addressed = [...new Set(body.addressed_member_ids ?? [])];
  for (const id of addressed)
    if (!members.some((m) => m.member_id === id))
      throw bad('unknown_addressed_member', `addressed member ${id} is not in this channel`);
  return {
    sender,
    senderLabel: body.sender_display_name ?? (await labelOf(db, sender)),
    thread_root_message_id: root,
    reply_to,
    addressed,
  };
}

/** Text and attachment parts of a stored message (a daemon RichOutput). */
export function richOutput(
  content: string,
  items: InputItem[] | undefined,
  names: Map<string, { file_name: string; media_type: string }>,
): { content: string; parts: unknown[]; artifacts: unknown[] } {
  if (!items?.length)
    return { content, parts: content ? [{ type: 'text', text: content }] : [], artifacts: [] };
  const parts: unknown[] = [];
  const texts: string[] = [];
  for (const i of items) {
    if (i.type === 'text') {
      texts.push(String(i.text));
      parts.push({ type: 'text', text: i.text });
    } else if (i.type === 'asset_reference') {
      const meta = names.get(String(i.asset_id));
      parts.push({ type: 'asset', asset_id: i.asset_id, ...(meta ?? {}) });
    } else if (i.type === 'board_reference') {
      parts.push({ ...i });
    }
  }
  return { content: texts.join('\n'), parts, artifacts: [] };
}
