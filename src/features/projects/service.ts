// Projects, their members and linked channels (api-collab §2.1–2.5). Every change commits with a
// project event; the mirrored channel rosters are reconciled after the commit.
import { monotonicFactory } from 'ulid';
import {
  allProjects,
  appendProjectEvent,
  getProject,
  insertProject,
  linksOf,
  membersOf,
  type ProjectRow,
  projectEvents,
  tasksOf,
} from '../../store/repos/projects.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import type { ChannelsPort } from '../channels/port.ts';
import { projectErrors as E, TERMINAL_TASK } from './errors.ts';
import type { MirrorReconciler } from './mirror.ts';
import { ensureDefaultLink, upsertLinkInTx, upsertMemberInTx } from './roster.ts';
import type {
  CreateProjectRequest,
  ProjectChannelLinkInput,
  ProjectChannelLinkView,
  ProjectMemberInput,
  ProjectMemberView,
  ProjectView,
  UpdateProjectRequest,
} from './schema.ts';
import { linkView, memberView, projectView } from './views.ts';

const ulid = monotonicFactory();
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Ids appear in URL paths and in mirrored roster ids (`project:{project_id}:{member_id}`). */
export function checkId(kind: string, id: string): void {
  if (/^\.+$/.test(id) || [...id].some((c) => c === '/' || c === '\\' || c < ' ' || c === ':'))
    throw E.invalidProject(`${kind} must not be "." or "..", nor hold slashes, colons or control characters`);
}

export class ProjectsService {
  readonly store: Store;
  private readonly channels: () => ChannelsPort | null;
  readonly mirror: MirrorReconciler;

  constructor(store: Store, channels: () => ChannelsPort | null, mirror: MirrorReconciler) {
    this.store = store;
    this.channels = channels;
    this.mirror = mirror;
  }

  get db() {
    return this.store.db;
  }

  /** `lock` in a write transaction: the project's writes are serialized (see getProject). */
  async requireProject(db: Executor, id: string, lock = false): Promise<ProjectRow> {
    const p = await getProject(db, id, { lock });
    if (!p) throw E.projectNotFound(id);
    return p;
  }

  async view(db: Executor, id: string): Promise<ProjectView> {
    const p = await this.requireProject(db, id);
    return projectView(p, await membersOf(db, id), await linksOf(db, id), await tasksOf(db, id));
  }

  /** Linked channels must exist (checked before the transaction: the channels store is not ours). */
  private async checkChannels(ids: string[]): Promise<void> {
    const channels = this.channels();
    for (const id of ids) if (!channels || !(await channels.exists(id))) throw E.channelNotFound(id);
  }

  async create(body: CreateProjectRequest): Promise<ProjectView> {
    const id = body.project_id ?? `project-${ulid().toLowerCase()}`;
    checkId('project_id', id);
    const members = body.members ?? [];
    const links = body.channel_links ?? [];
    const dupe = (list: string[]) => list.find((x, i) => list.indexOf(x) !== i);
    const dm = dupe(members.map((m) => m.member_id));
    if (dm !== undefined) throw E.invalidMember(`member ${dm} is listed twice`);
    for (const m of members) checkId('member_id', m.member_id);
    const dl = dupe(links.map((l) => l.channel_id));
    if (dl !== undefined) throw E.invalidLink(`channel ${dl} is linked twice`);
    if (links.filter((l) => l.default_for_new_tasks).length > 1)
      throw E.invalidLink('at most one channel link may set default_for_new_tasks');
    await this.checkChannels(links.map((l) => l.channel_id));
    const view = await this.store.write(async (tx) => {
      const inserted = await insertProject(tx.db, {
        project_id: id,
        display_name: body.display_name,
        description: body.description ?? null,
        status: body.status ?? 'active',
        metadata: json(body.metadata),
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
      });
      if (!inserted) throw E.projectExists(id);
      for (const m of members) await upsertMemberInTx(tx, id, m);
      for (const l of links) await upsertLinkInTx(tx, id, l);
      const v = await this.view(tx.db, id);
      await this.event(tx, id, 'project_created', { project: v });
      return v;
    });
    await this.mirror.reconcile(id);
    return view;
  }

  async get(id: string): Promise<ProjectView> {
    return this.view(this.db, id);
  }

  async list(q: { query?: string; status?: string; member_session_id?: string; channel_id?: string }) {
    const needle = q.query?.toLowerCase();
    const out: ProjectView[] = [];
    for (const p of await allProjects(this.db)) {
      if (q.status && p.status !== q.status) continue;
      if (
        needle &&
        ![p.project_id, p.display_name, p.description ?? ''].some((s) => s.toLowerCase().includes(needle))
      )
        continue;
      const v = await this.view(this.db, p.project_id);
      if (q.member_session_id && !v.members.some((m) => m.session_id === q.member_session_id)) continue;
      if (q.channel_id && !v.channel_links.some((l) => l.channel_id === q.channel_id)) continue;
      out.push(v);
    }
    return out;
  }

  async update(id: string, body: UpdateProjectRequest): Promise<ProjectView> {
    if (Object.keys(body).length === 0)
      throw E.invalidProject('give at least one of display_name, description, status, metadata');
    const view = await this.store.write(async (tx) => {
      const p = await this.requireProject(tx.db, id, true);
      const patch: Partial<ProjectRow> = { updated_at_ms: tx.now };
      if (body.display_name !== undefined) patch.display_name = body.display_name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.status !== undefined) patch.status = body.status;
      if (body.metadata !== undefined) patch.metadata = json(body.metadata);
      await tx.db.updateTable('projects').set(patch).where('project_id', '=', id).execute();
      const v = await this.view(tx.db, id);
      await this.event(tx, id, 'project_updated', { before_status: p.status, project: v });
      return v;
    });
    await this.mirror.reconcile(id);
    return view;
  }

  async delete(id: string): Promise<{ deleted: true }> {
    await this.store.write(async (tx) => {
      await this.requireProject(tx.db, id, true);
      const tasks = await tasksOf(tx.db, id);
      if (tasks.length) throw E.projectHasTasks(id, tasks.length);
      for (const t of ['project_members', 'project_channel_links', 'project_events'] as const)
        await tx.db.deleteFrom(t).where('project_id', '=', id).execute();
      await tx.db.deleteFrom('projects').where('project_id', '=', id).execute();
    });
    // Its mirrored roster entries are now undesired: the reconciliation removes them.
    await this.mirror.reconcile(id);
    return { deleted: true };
  }

  // ---------------------------------------------------------------- members

  async members(id: string): Promise<ProjectMemberView[]> {
    await this.requireProject(this.db, id);
    return (await membersOf(this.db, id)).map(memberView);
  }

  async upsertMember(id: string, body: ProjectMemberInput): Promise<ProjectMemberView> {
    checkId('member_id', body.member_id);
    const row = await this.store.write(async (tx) => {
      await this.requireProject(tx.db, id, true);
      const { row, before } = await upsertMemberInTx(tx, id, body);
      if (before && before.session_id !== row.session_id) {
        const open = (await tasksOf(tx.db, id)).filter(
          (t) => t.assignee_member_id === row.member_id && !TERMINAL_TASK.has(t.status),
        );
        // Only session members own tasks; a new session of the same member takes its open tasks along.
        if (open.length && row.member_kind !== 'session')
          throw E.memberOwnsTasks(
            row.member_id,
            open.map((t) => t.project_task_id),
          );
        for (const t of open)
          await tx.db
            .updateTable('project_tasks')
            .set({ primary_session_id: row.session_id, updated_at_ms: tx.now })
            .where('project_id', '=', id)
            .where('project_task_id', '=', t.project_task_id)
            .execute();
      }
      await this.touch(tx, id);
      await this.event(tx, id, 'member_upserted', { member: memberView(row), created: before === null });
      return row;
    });
    await this.mirror.reconcile(id);
    return memberView(row);
  }

  async removeMember(id: string, memberId: string): Promise<{ deleted: true }> {
    await this.store.write(async (tx) => {
      await this.requireProject(tx.db, id, true);
      const members = await membersOf(tx.db, id);
      if (!members.some((m) => m.member_id === memberId)) throw E.memberNotFound(id, memberId);
      const open = (await tasksOf(tx.db, id)).filter(
        (t) => t.assignee_member_id === memberId && !TERMINAL_TASK.has(t.status),
      );
      if (open.length)
        throw E.memberOwnsTasks(
          memberId,
          open.map((t) => t.project_task_id),
        );
      await tx.db
        .deleteFrom('project_members')
        .where('project_id', '=', id)
        .where('member_id', '=', memberId)
        .execute();
      await this.touch(tx, id);
      await this.event(tx, id, 'member_removed', { member_id: memberId });
    });
    await this.mirror.reconcile(id);
    return { deleted: true };
  }

  // ---------------------------------------------------------------- linked channels

  async links(id: string): Promise<ProjectChannelLinkView[]> {
    await this.requireProject(this.db, id);
    return (await linksOf(this.db, id)).map(linkView);
  }

  async upsertLink(id: string, body: ProjectChannelLinkInput): Promise<ProjectChannelLinkView> {
    await this.requireProject(this.db, id);
    await this.checkChannels([body.channel_id]);
    const row = await this.store.write(async (tx) => {
      await this.requireProject(tx.db, id, true);
      const row = await upsertLinkInTx(tx, id, body);
      await this.touch(tx, id);
      await this.event(tx, id, 'channel_linked', { link: linkView(row) });
      return row;
    });
    await this.mirror.reconcile(id);
    return linkView(row);
  }

  async removeLink(id: string, channelId: string): Promise<{ deleted: true }> {
    await this.store.write(async (tx) => {
      await this.requireProject(tx.db, id, true);
      if (!(await linksOf(tx.db, id)).some((l) => l.channel_id === channelId))
        throw E.linkNotFound(id, channelId);
      const using = (await tasksOf(tx.db, id)).filter(
        (t) => t.discussion_channel_id === channelId && !TERMINAL_TASK.has(t.status),
      );
      if (using.length)
        throw E.linkInUse(
          channelId,
          using.map((t) => t.project_task_id),
        );
      await tx.db
        .deleteFrom('project_channel_links')
        .where('project_id', '=', id)
        .where('channel_id', '=', channelId)
        .execute();
      // Removing the default promotes the first remaining link.
      await ensureDefaultLink(tx, id);
      await this.touch(tx, id);
      await this.event(tx, id, 'channel_unlinked', { channel_id: channelId });
    });
    await this.mirror.reconcile(id);
    return { deleted: true };
  }

  // ---------------------------------------------------------------- events

  async events(id: string, q: { after?: number; limit?: number }) {
    await this.requireProject(this.db, id);
    const rows = await projectEvents(this.db, id, { after: q.after, limit: q.limit ?? 100 });
    return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async event(
    tx: WriteTx,
    projectId: string,
    kind: string,
    data: Record<string, unknown>,
    ref: { project_task_id?: string; run_id?: string } = {},
  ): Promise<void> {
    await appendProjectEvent(tx.db, tx.now, { project_id: projectId, kind, data, ...ref });
  }

  async touch(tx: WriteTx, projectId: string): Promise<void> {
    await tx.db
      .updateTable('projects')
      .set({ updated_at_ms: tx.now })
      .where('project_id', '=', projectId)
      .execute();
  }
}
