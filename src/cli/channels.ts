// `channels` (api-collab §1.14 mirror): channels, roster, public messages and reactions, read-only
// turn leases. Each command is one call of /v1/channels through the SDK.
import type { Command } from 'commander';
import {
  type ChannelDetailView,
  type ChannelLeaseView,
  type ChannelMemberInput,
  type ChannelMessageView,
  type ChannelSummaryView,
  ChannelsResource,
  type CreateChannelRequest,
  type PostChannelMessageRequest,
  type UpdateChannelRequest,
} from '../sdk/channels.ts';
import { registerChannelStimuli } from './channel-stimuli.ts';
import { membersOf, metadataOf, policyOf, policyOptions } from './channels-policy.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function renderChannel(c: ChannelDetailView): string[] {
  const p = c.autonomy_policy;
  return [
    ...keyValues([
      ['channel', c.channel_id],
      ['title', c.title],
      ['description', c.description ?? undefined],
      ['purpose', c.purpose ?? undefined],
      ['paused', c.paused ? 'yes' : undefined],
      ['members', c.members.map((m) => `${m.member_id} (${m.member_kind})`).join(', ') || '-'],
      ['messages', String(c.message_count)],
      ['mode', c.default_participation_mode],
      [
        'policy',
        `speakers ${p.max_parallel_public_speakers}, replies/human ${p.max_agent_replies_per_human_message}, cooldown ${p.member_cooldown_ms} ms, lease ${p.lease_timeout_ms} ms`,
      ],
      [
        'metrics',
        Object.entries(c.moderation_metrics)
          .filter(([, v]) => v !== 0)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '-',
      ],
    ]),
  ];
}

const renderList = (list: ChannelSummaryView[]) =>
  list.length === 0
    ? ['no channels']
    : table(
        ['CHANNEL', 'MEMBERS', 'MESSAGES', 'UPDATED', 'TITLE'],
        list.map((c) => [
          c.channel_id,
          String(c.member_count),
          String(c.message_count),
          time(c.updated_at_ms) ?? '-',
          oneLine(c.title, 50),
        ]),
      );

const renderMessages = (list: ChannelMessageView[]) =>
  list.length === 0
    ? ['no messages']
    : list.map((m) => {
        const reply = m.thread_root_message_id === m.message_id ? '' : '  ↳ ';
        const reactions = m.reactions.map((r) => `${r.emoji}${r.count}`).join(' ');
        return `${reply}${m.message_id} ${m.sender.display_name}: ${oneLine(m.output.content, 100)}${reactions ? `  [${reactions}]` : ''}`;
      });

const renderLeases = (list: ChannelLeaseView[]) =>
  list.length === 0
    ? ['no active leases']
    : table(
        ['TURN', 'THREAD', 'HOLDER', 'RUN', 'BUDGET', 'EXPIRES'],
        list.map((l) => [
          l.turn_id,
          l.thread_root_message_id,
          l.holder_session_id,
          l.active_run_id ?? '-',
          String(l.remaining_reply_budget),
          time(l.expires_at_ms) ?? '-',
        ]),
      );

export function registerChannels(program: Command, rt: CliRuntime): void {
  const channels = program
    .command('channels')
    .alias('channel')
    .description('public conversations of humans and session members, with turn leases');
  const api = () => new ChannelsResource(rt.client());

  channels
    .command('list')
    .description('list channels')
    .option('--query <text>', 'only channels whose id, title, description or purpose contain it')
    .action(async (f: { query?: string }) => {
      const r = await api().list(f.query === undefined ? {} : { query: f.query });
      rt.emit(r, (x) => renderList(x.channels));
    });

  channels
    .command('get')
    .alias('show')
    .argument('<channel_id>')
    .description('show a channel with its roster, policy and moderation metrics')
    .action(async (id: string) => rt.emit(await api().get(id), renderChannel));

  policyOptions(
    channels
      .command('create')
      .argument('<title>')
      .description('create a channel')
      .option('--channel-id <id>', 'id to use (generated when omitted)', nonEmpty)
      .option('--description <text>')
      .option('--purpose <text>')
      .option('--created-by <actor>')
      .option('--pinned-asset <asset_id>', 'pin an asset (repeatable)', collect)
      .option('--members-json <json>', 'initial roster (a JSON array of members)')
      .option('--members-file <file>', 'initial roster from a JSON file'),
  ).action(async (title: string, f: Record<string, any>) => {
    const body: CreateChannelRequest = { title };
    if (f.channelId) body.channel_id = f.channelId;
    if (f.description !== undefined) body.description = f.description;
    if (f.purpose !== undefined) body.purpose = f.purpose;
    if (f.createdBy !== undefined) body.created_by = f.createdBy;
    if (f.pinnedAsset) body.pinned_asset_ids = f.pinnedAsset;
    const members = await membersOf(rt, f);
    if (members) body.members = members;
    const policy = await policyOf(rt, f);
    if (policy) body.autonomy_policy = policy;
    if (f.defaultParticipationMode) body.default_participation_mode = f.defaultParticipationMode;
    const metadata = await metadataOf(rt, f);
    if (metadata) body.metadata = metadata;
    rt.emit(await api().create(body), renderChannel);
  });

  policyOptions(
    channels
      .command('update')
      .argument('<channel_id>')
      .description('change fields of a channel (the policy merges field by field)')
      .option('--title <text>', 'new title', nonEmpty)
      .option('--description <text>')
      .option('--purpose <text>')
      .option('--pinned-asset <asset_id>', 'the pinned assets (repeatable; replaces the list)', collect)
      .option('--pause', 'stop autonomous turns')
      .option('--resume', 'allow autonomous turns again'),
  ).action(async (id: string, f: Record<string, any>) => {
    if (f.pause && f.resume) throw new UsageError('give --pause or --resume, not both');
    const body: UpdateChannelRequest = {};
    if (f.title !== undefined) body.title = f.title;
    if (f.description !== undefined) body.description = f.description;
    if (f.purpose !== undefined) body.purpose = f.purpose;
    if (f.pinnedAsset) body.pinned_asset_ids = f.pinnedAsset;
    const policy = await policyOf(rt, f);
    if (policy) body.autonomy_policy = policy;
    if (f.defaultParticipationMode) body.default_participation_mode = f.defaultParticipationMode;
    if (f.pause) body.paused = true;
    if (f.resume) body.paused = false;
    const metadata = await metadataOf(rt, f);
    if (metadata) body.metadata = metadata;
    if (Object.keys(body).length === 0)
      throw new UsageError('nothing to update', 'pass at least one field flag');
    rt.emit(await api().update(id, body), renderChannel);
  });

  channels
    .command('delete')
    .argument('<channel_id>')
    .description('delete a channel with its log, reactions, leases and derived state')
    .action(async (id: string) => rt.emit(await api().delete(id), () => [`deleted ${id}`]));

  const members = channels.command('members').description('the roster of a channel');
  members
    .command('list')
    .argument('<channel_id>')
    .action(async (id: string) =>
      rt.emit(await api().members(id), (r) =>
        table(
          ['MEMBER', 'KIND', 'MODE', 'NAME'],
          r.members.map((m) => [
            m.member_id,
            m.member_kind,
            `${m.effective_participation_mode}${m.muted ? ' (muted)' : ''}`,
            m.display_name,
          ]),
        ),
      ),
    );
  members
    .command('upsert')
    .argument('<channel_id>')
    .argument('<member_id>')
    .requiredOption('--kind <kind>', 'human_actor or session')
    .requiredOption('--display-name <name>', 'the label', nonEmpty)
    .option('--follow-agent', 'keep the label aligned with the session agent name')
    .option('--session-id <id>', 'bound session (defaults to the member id)')
    .option('--actor-id <id>', 'actor id of a human member (defaults to the member id)')
    .option('--role <role>')
    .option('--expertise-tag <tag>', 'arbitration hint (repeatable)', collect)
    .option('--participation-mode <mode>', 'manual_only, selected_only, prefer_selected or always_listen')
    .option('--muted', 'no autonomous turns for this member')
    .action(async (id: string, memberId: string, f: Record<string, any>) => {
      const body: ChannelMemberInput = {
        member_id: memberId,
        member_kind: f.kind,
        display_name: f.displayName,
      };
      if (f.followAgent) body.display_name_mode = 'follow_agent';
      if (f.sessionId) body.session_id = f.sessionId;
      if (f.actorId) body.actor_id = f.actorId;
      if (f.role) body.role = f.role;
      if (f.expertiseTag) body.expertise_tags = f.expertiseTag;
      if (f.participationMode) body.participation_mode = f.participationMode;
      if (f.muted) body.muted = true;
      rt.emit(await api().upsertMember(id, body), (m) => [
        `${m.member_id} (${m.member_kind}) ${m.display_name}`,
      ]);
    });
  members
    .command('remove')
    .argument('<channel_id>')
    .argument('<member_id>')
    .action(async (id: string, memberId: string) =>
      rt.emit(await api().removeMember(id, memberId), () => [`removed ${memberId}`]),
    );

  const messages = channels.command('messages').description('the public log of a channel');
  messages
    .command('list')
    .argument('<channel_id>')
    .option('--thread <message_id>', 'only this thread')
    .option('--query <text>', 'match sender, text and attachment names')
    .option('--limit <n>', 'the latest n matches', positiveInt)
    .action(async (id: string, f: { thread?: string; query?: string; limit?: number }) => {
      const q: { thread_root_message_id?: string; query?: string; limit?: number } = {};
      if (f.thread) q.thread_root_message_id = f.thread;
      if (f.query) q.query = f.query;
      if (f.limit) q.limit = f.limit;
      rt.emit(await api().messages(id, q), (r) => renderMessages(r.messages));
    });
  messages
    .command('post')
    .argument('<channel_id>')
    .argument('<content>')
    .requiredOption('--sender <actor_id>', 'the sending member', nonEmpty)
    .option('--sender-session <session_id>', 'the sender session (session members)')
    .option('--thread <message_id>', 'post in this thread')
    .option('--reply-to <message_id>', 'reply to this message (its thread is derived)')
    .option('--address <member_id>', 'first-turn priority member (repeatable, in order)', collect)
    .action(async (id: string, content: string, f: Record<string, any>) => {
      const body: PostChannelMessageRequest = { sender_actor_id: f.sender, content };
      if (f.senderSession) body.sender_session_id = f.senderSession;
      if (f.thread) body.thread_root_message_id = f.thread;
      if (f.replyTo) body.reply_to_message_id = f.replyTo;
      if (f.address) body.addressed_member_ids = f.address;
      rt.emit(await api().post(id, body), (m) => renderMessages([m]));
    });
  for (const [name, add] of [
    ['react', true],
    ['unreact', false],
  ] as const)
    messages
      .command(name)
      .argument('<channel_id>')
      .argument('<message_id>')
      .argument('<emoji>')
      .requiredOption('--actor <actor_id>', 'the reacting member', nonEmpty)
      .action(async (id: string, messageId: string, emoji: string, f: { actor: string }) => {
        const body = { actor_id: f.actor, emoji };
        const m = add ? await api().react(id, messageId, body) : await api().unreact(id, messageId, body);
        rt.emit(m, (x) => renderMessages([x]));
      });

  channels
    .command('leases')
    .argument('<channel_id>')
    .description('active public-turn leases (read-only)')
    .action(async (id: string) => rt.emit(await api().leases(id), (r) => renderLeases(r.leases)));
  registerChannelStimuli(channels, rt);
}
