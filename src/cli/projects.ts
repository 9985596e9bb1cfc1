// `projects` (api-collab §2, docs/projects.md): projects, their members and linked channels, and
// project tasks (`projects tasks …`, in projects-tasks.ts). Each command is one SDK call.
import { type Command, InvalidArgumentError } from 'commander';
import {
  type ProjectChannelLinkView,
  type ProjectMemberInput,
  type ProjectMemberView,
  type ProjectStatus,
  ProjectsResource,
  type ProjectView,
  type UpdateProjectRequest,
} from '../sdk/projects.ts';
import { itemsOf } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty } from './parse.ts';
import { csv, jsonObject, registerProjectTasks } from './projects-tasks.ts';
import type { CliRuntime } from './runtime.ts';

const STATUSES = ['active', 'paused', 'completed', 'archived'];

function projectStatus(value: string): ProjectStatus {
  if (!STATUSES.includes(value)) throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')}`);
  return value as ProjectStatus;
}

function renderProject(p: ProjectView): string[] {
  const counts = Object.entries(p.task_counts)
    .filter(([k]) => k !== 'total')
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return [
    ...keyValues([
      ['project', p.project_id],
      ['name', p.display_name],
      ['description', p.description ?? undefined],
      ['status', p.status],
      ['tasks', `${p.task_counts.total ?? 0}${counts ? ` (${counts})` : ''}`],
      ['created', time(p.created_at_ms)],
      ['updated', time(p.updated_at_ms)],
    ]),
    ...(p.members.length ? ['', ...renderMembers(p.members)] : []),
    ...(p.channel_links.length ? ['', ...renderLinks(p.channel_links)] : []),
  ];
}

function renderMembers(members: ProjectMemberView[]): string[] {
  if (!members.length) return ['no members'];
  return table(
    ['MEMBER', 'KIND', 'SESSION / ACTOR', 'ROLE', 'NAME'],
    members.map((m) => [
      m.member_id,
      m.member_kind,
      m.session_id ?? m.actor_id ?? '-',
      m.role ?? '-',
      oneLine(m.display_name, 40),
    ]),
  );
}

function renderLinks(links: ProjectChannelLinkView[]): string[] {
  if (!links.length) return ['no linked channels'];
  return table(
    ['CHANNEL', 'DEFAULT', 'MIRROR', 'ROLE'],
    links.map((l) => [
      l.channel_id,
      l.default_for_new_tasks ? 'yes' : '-',
      l.mirror_members ? 'yes' : '-',
      l.role ?? '-',
    ]),
  );
}

export function registerProjects(program: Command, rt: CliRuntime): void {
  const projects = program
    .command('projects')
    .alias('project')
    .description('projects, members, links and tasks');
  const api = () => new ProjectsResource(rt.client());

  projects
    .command('list')
    .description('projects (filters: --query, --status, --member-session, --channel)')
    .option('--query <text>', 'substring of the id, name or description')
    .option('--status <status>', STATUSES.join(' | '), projectStatus)
    .option('--member-session <session_id>', 'projects with this session as a member')
    .option('--channel <channel_id>', 'projects linking this channel')
    .action(
      async (f: { query?: string; status?: ProjectStatus; memberSession?: string; channel?: string }) => {
        const result = await api().list({
          query: f.query,
          status: f.status,
          member_session_id: f.memberSession,
          channel_id: f.channel,
        });
        rt.emit(result, (r) => {
          const items = itemsOf(r);
          if (!items.length) return ['no projects'];
          return table(
            ['PROJECT', 'STATUS', 'MEMBERS', 'TASKS', 'NAME'],
            items.map((p) => [
              p.project_id,
              p.status,
              String(p.members.length),
              String(p.task_counts.total ?? 0),
              oneLine(p.display_name, 50),
            ]),
          );
        });
      },
    );

  projects
    .command('create')
    .description('create a project (members and links as JSON arrays, or added later)')
    .argument('[project_id]', 'a stable id (generated when left out)')
    .requiredOption('--display-name <name>', 'the project name', nonEmpty)
    .option('--description <text>')
    .option('--status <status>', STATUSES.join(' | '), projectStatus)
    .option('--members-json <json>', 'initial members (a JSON array)')
    .option('--channel-links-json <json>', 'initial linked channels (a JSON array)')
    .option('--metadata-json <json>', 'metadata (a JSON object)')
    .action(
      async (
        projectId: string | undefined,
        f: {
          displayName: string;
          description?: string;
          status?: ProjectStatus;
          membersJson?: string;
          channelLinksJson?: string;
          metadataJson?: string;
        },
      ) => {
        const members = await jsonInput(rt, f.membersJson, undefined, 'members');
        const links = await jsonInput(rt, f.channelLinksJson, undefined, 'channel-links');
        for (const [name, v] of [
          ['members', members],
          ['channel-links', links],
        ] as const)
          if (v !== undefined && !Array.isArray(v))
            throw new UsageError(`--${name}-json must be a JSON array`);
        const view = await api().create({
          ...(projectId ? { project_id: projectId } : {}),
          display_name: f.displayName,
          ...(f.description !== undefined ? { description: f.description } : {}),
          ...(f.status ? { status: f.status } : {}),
          ...(members ? { members: members as ProjectMemberInput[] } : {}),
          ...(links ? { channel_links: links as [] } : {}),
          ...(f.metadataJson ? { metadata: await jsonObject(rt, f.metadataJson) } : {}),
        });
        rt.emit(view, renderProject);
      },
    );

  projects
    .command('get')
    .argument('<project_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderProject));

  projects
    .command('update')
    .description('change the given fields (the others stay)')
    .argument('<project_id>')
    .option('--display-name <name>', 'the project name', nonEmpty)
    .option('--description <text>')
    .option('--status <status>', STATUSES.join(' | '), projectStatus)
    .option('--metadata-json <json>', 'metadata (a JSON object; replaces the stored one)')
    .action(
      async (
        id: string,
        f: { displayName?: string; description?: string; status?: ProjectStatus; metadataJson?: string },
      ) => {
        const body: UpdateProjectRequest = {};
        if (f.displayName !== undefined) body.display_name = f.displayName;
        if (f.description !== undefined) body.description = f.description;
        if (f.status !== undefined) body.status = f.status;
        if (f.metadataJson !== undefined) body.metadata = (await jsonObject(rt, f.metadataJson)) ?? null;
        if (!Object.keys(body).length) throw new UsageError('give at least one field to change');
        rt.emit(await api().update(id, body), renderProject);
      },
    );

  projects
    .command('delete')
    .description('delete a project (refused while it has tasks)')
    .argument('<project_id>')
    .action(async (id: string) => rt.emit(await api().delete(id), () => [`deleted project ${id}`]));

  projects
    .command('events')
    .description("the project's change log, oldest first")
    .argument('<project_id>')
    .action(async (id: string) =>
      rt.emit(await api().events(id, { limit: 1000 }), (events) =>
        events.length
          ? table(
              ['ID', 'TIME', 'KIND', 'TASK', 'RUN'],
              events.map((e) => [
                String(e.id),
                time(e.created_at_ms) ?? '-',
                e.kind,
                e.project_task_id ?? '-',
                e.run_id ?? '-',
              ]),
            )
          : ['no events'],
      ),
    );

  const members = projects.command('members').description('project members');
  members
    .command('list')
    .argument('<project_id>')
    .action(async (id: string) => rt.emit(await api().members(id), renderMembers));
  members
    .command('add')
    .description('add or update a member (upsert by member id)')
    .argument('<project_id>')
    .argument('<member_id>')
    .requiredOption('--kind <kind>', 'session | human-actor', (v: string) => {
      const k = v.replaceAll('-', '_');
      if (k !== 'session' && k !== 'human_actor')
        throw new InvalidArgumentError('expected session or human-actor');
      return k;
    })
    .requiredOption('--display-name <name>', 'the name shown', nonEmpty)
    .option('--session <session_id>', 'the member session (session members)')
    .option('--agent <agent_id>', 'a live agent, resolved to its session (session members)')
    .option('--actor <actor_id>', 'the actor id (human members)')
    .option('--role <role>')
    .option('--expertise <tags>', 'comma-separated expertise tags', csv)
    .action(
      async (
        id: string,
        memberId: string,
        f: {
          kind: 'session' | 'human_actor';
          displayName: string;
          session?: string;
          agent?: string;
          actor?: string;
          role?: string;
          expertise?: string[];
        },
      ) => {
        const body: ProjectMemberInput = {
          member_id: memberId,
          member_kind: f.kind,
          display_name: f.displayName,
        };
        if (f.session) body.session_id = f.session;
        if (f.agent) body.agent_id = f.agent;
        if (f.actor) body.actor_id = f.actor;
        if (f.role) body.role = f.role;
        if (f.expertise) body.expertise_tags = f.expertise;
        rt.emit(await api().upsertMember(id, body), (m) => renderMembers([m]));
      },
    );
  members
    .command('remove')
    .description('remove a member (refused while it owns open tasks)')
    .argument('<project_id>')
    .argument('<member_id>')
    .action(async (id: string, memberId: string) =>
      rt.emit(await api().removeMember(id, memberId), () => [`removed member ${memberId}`]),
    );

  const links = projects.command('links').description('linked channels');
  links
    .command('list')
    .argument('<project_id>')
    .action(async (id: string) => rt.emit(await api().links(id), renderLinks));
  links
    .command('add')
    .description('link a channel or update its link (upsert by channel id)')
    .argument('<project_id>')
    .argument('<channel_id>')
    .option('--role <role>')
    .option('--default', 'the default channel for kickoff threads of new tasks')
    .option('--mirror-members', 'mirror the project members into the channel roster')
    .option('--no-mirror-members', 'stop mirroring')
    .action(
      async (
        id: string,
        channelId: string,
        f: { role?: string; default?: boolean; mirrorMembers?: boolean },
      ) => {
        rt.emit(
          await api().upsertLink(id, {
            channel_id: channelId,
            ...(f.role ? { role: f.role } : {}),
            ...(f.default ? { default_for_new_tasks: true } : {}),
            ...(f.mirrorMembers !== undefined ? { mirror_members: f.mirrorMembers } : {}),
          }),
          (l) => renderLinks([l]),
        );
      },
    );
  links
    .command('remove')
    .description('remove a link (refused while an open task discusses there)')
    .argument('<project_id>')
    .argument('<channel_id>')
    .action(async (id: string, channelId: string) =>
      rt.emit(await api().removeLink(id, channelId), () => [`unlinked channel ${channelId}`]),
    );

  registerProjectTasks(projects, rt, api);
}
