// The public log (api-collab §1.5, §1.6): posting messages (with their turns), listing, reactions.
import { monotonicFactory } from 'ulid';
import { prepareRequest } from '../../engine/input-assets.ts';
import type { InputItem } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  addReactionRow,
  appendChannelEvent,
  getMessage,
  insertMessage,
  listMessages,
  markSpoke,
  membersOf,
  nextSeq,
  reactionsOf,
  removeReactionRow,
} from '../../store/repos/channels.ts';
import type { WriteTx } from '../../store/store.ts';
import { rootAllowance, rootRefused } from './autonomy.ts';
import { resolvePost, richOutput } from './messages.ts';
import { senderMember } from './roster.ts';
import type { MessageView, PostMessageRequest, ReactionRequest } from './schema.ts';
import type { ChannelsService } from './service.ts';
import { arbitrate, noteMessage } from './turns.ts';
import { messageView } from './views.ts';

const ulid = monotonicFactory();

const messageNotFound = (id: string) =>
  new DaemonError(404, 'channels', 'message_not_found', `message ${id} was not found in this channel`);

export interface PostOptions {
  /** The delivery run this post answers (one post per run). */
  originRunId?: string;
}

export class ChannelLog {
  private readonly s: ChannelsService;

  constructor(s: ChannelsService) {
    this.s = s;
  }

  async post(id: string, body: PostMessageRequest, opts: PostOptions = {}): Promise<MessageView> {
    // Checked before any file is imported, and again in the transaction.
    await resolvePost(this.s.db, await this.s.require(this.s.db, id), body);
    let items = body.input_items as InputItem[] | undefined;
    if (items?.length) {
      const prepared = await prepareRequest(this.s.engine.inputAssets, {
        source_plugin: 'channel',
        source_kind: 'channel_message',
        actor_id: body.sender_actor_id,
        content: '',
        input_items: items.filter((i) => i.type !== 'board_reference'),
      });
      items = prepared.input_items;
    }
    const names = new Map<string, { file_name: string; media_type: string }>();
    for (const i of items ?? [])
      if (i.type === 'asset_reference') {
        const a = await this.s.assets()?.get(String(i.asset_id));
        if (a) names.set(a.asset_id, { file_name: a.file_name, media_type: a.media_type });
      }
    const messageId = await this.s.engine.store.write((tx) =>
      this.postInTx(tx, id, body, items, names, opts),
    );
    return this.message(id, messageId);
  }

  async postInTx(
    tx: WriteTx,
    id: string,
    body: PostMessageRequest,
    items: InputItem[] | undefined,
    names: Map<string, { file_name: string; media_type: string }>,
    opts: PostOptions,
  ): Promise<string> {
    const c = await this.s.require(tx.db, id);
    const r = await resolvePost(tx.db, c, body);
    const messageId = `msg-${ulid().toLowerCase()}`;
    const autonomousRoot = r.sender.member_kind === 'session' && r.thread_root_message_id === null;
    if (autonomousRoot) {
      const allowance = await rootAllowance(tx.db, c, tx.now);
      if (!allowance.allowed) throw rootRefused(allowance, tx.now);
    }
    const output = richOutput(body.content ?? '', items, names);
    const search = [
      r.sender.member_id,
      body.sender_actor_id,
      r.senderLabel,
      output.content,
      ...[...names.values()].map((n) => n.file_name),
    ]
      .join('\n')
      .toLowerCase();
    const seq = await nextSeq(tx.db, id);
    const row = {
      message_id: messageId,
      channel_id: id,
      seq,
      thread_root_message_id: r.thread_root_message_id ?? messageId,
      reply_to_message_id: r.reply_to?.message_id ?? null,
      sender_member_id: r.sender.member_id,
      sender_actor_id: body.sender_actor_id,
      sender_kind: r.sender.member_kind,
      sender_display_name: r.senderLabel,
      sender_session_id: r.sender.session_id,
      addressed_member_ids: JSON.stringify(r.addressed),
      output: JSON.stringify(output),
      search_text: search,
      metadata: body.metadata ? JSON.stringify(body.metadata) : null,
      origin_run_id: opts.originRunId ?? null,
      created_at_ms: tx.now,
    };
    await insertMessage(tx.db, row);
    const view = messageView(row, []);
    await appendChannelEvent(tx.db, {
      channel_id: id,
      seq,
      kind: 'message_posted',
      payload: view,
      created_at_ms: tx.now,
    });
    await this.s.sink(tx, id, seq, 'message_posted', view as unknown as Record<string, unknown>);
    if (names.size)
      await this.s.assets()?.addReferences(
        [...names.keys()].map((asset_id) => ({
          asset_id,
          domain: 'channels',
          owner_id: id,
          role: 'message_attachment',
          hard: true,
          detail_id: messageId,
        })),
        tx.db,
      );
    if (r.sender.member_kind === 'session') {
      await markSpoke(tx.db, id, r.sender.member_id, tx.now);
    }
    await noteMessage(tx, row, r.sender.member_kind, autonomousRoot);
    await arbitrate(this.s, tx, id, row.thread_root_message_id, row);
    return messageId;
  }

  async message(id: string, messageId: string): Promise<MessageView> {
    const m = await getMessage(this.s.db, id, messageId);
    if (!m) throw messageNotFound(messageId);
    return messageView(m, await reactionsOf(this.s.db, id, [messageId]));
  }

  async listMessages(
    id: string,
    q: { thread_root_message_id?: string; query?: string; limit?: string },
  ): Promise<{ messages: MessageView[] }> {
    await this.s.require(this.s.db, id);
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && limit < 1)
      throw new DaemonError(400, 'channels', 'invalid_query', 'limit must be at least 1');
    const needle = q.query?.toLowerCase();
    let rows = await listMessages(this.s.db, id, {
      thread: q.thread_root_message_id,
      limitLatest: needle ? undefined : limit,
    });
    if (needle) {
      rows = rows.filter((m) => m.search_text.includes(needle));
      if (limit !== undefined) rows = rows.slice(-limit);
    }
    const reactions = await reactionsOf(
      this.s.db,
      id,
      rows.map((m) => m.message_id),
    );
    return {
      messages: rows.map((m) =>
        messageView(
          m,
          reactions.filter((r) => r.message_id === m.message_id),
        ),
      ),
    };
  }

  async react(id: string, messageId: string, body: ReactionRequest, add: boolean): Promise<MessageView> {
    await this.s.engine.store.write(async (tx) => {
      await this.s.require(tx.db, id);
      const m = await getMessage(tx.db, id, messageId);
      if (!m) throw messageNotFound(messageId);
      const members = await membersOf(tx.db, id);
      if (!senderMember(members, body.actor_id))
        throw new DaemonError(
          403,
          'channels',
          'actor_not_member',
          `${body.actor_id} is not a member of channel ${id}`,
        );
      const changed = add
        ? await addReactionRow(tx.db, {
            channel_id: id,
            message_id: messageId,
            actor_id: body.actor_id,
            emoji: body.emoji,
            created_at_ms: tx.now,
          })
        : await removeReactionRow(tx.db, messageId, body.actor_id, body.emoji);
      if (changed)
        await this.s.record(tx, id, add ? 'reaction_added' : 'reaction_removed', {
          message_id: messageId,
          actor_id: body.actor_id,
          emoji: body.emoji,
        });
    });
    return this.message(id, messageId);
  }
}
