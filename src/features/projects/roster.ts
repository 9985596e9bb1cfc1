// Members and linked channels of a project, written inside the caller's transaction (api-collab
// §2.4–2.5). Upserts merge: a field the body leaves out keeps its stored value, a given field
// replaces it (metadata and expertise_tags wholesale). Links keep one invariant: a project that
// has links has exactly one `default_for_new_tasks` link (the first one when none is chosen).

import {
  linksOf,
  membersOf,
  nextPosition,
  type ProjectLinkRow,
  type ProjectMemberRow,
} from '../../store/repos/projects.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { projectErrors as E } from './errors.ts';
import type { ProjectChannelLinkInput, ProjectMemberInput } from './schema.ts';

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** The session of a live agent: a session whose agent is `agentId` and that has not ended. */
export async function liveAgentSession(db: Executor, agentId: string): Promise<string | null> {
  const r = await db
    .selectFrom('sessions')
    .select('session_id')
    .where('agent_id', '=', agentId)
    .where('ended_at_ms', 'is', null)
    .executeTakeFirst();
  return r?.session_id ?? null;
}

/** Shape rules that need no state (400). */
export function checkMemberShape(m: ProjectMemberInput): void {
  if (m.member_kind === 'session') {
    if (m.session_id !== undefined && m.agent_id !== undefined)
      throw E.invalidMember(`member ${m.member_id}: session_id and agent_id are mutually exclusive`);
    if (m.actor_id !== undefined)
      throw E.invalidMember(`member ${m.member_id}: actor_id is for human_actor members only`);
  } else if (m.session_id !== undefined || m.agent_id !== undefined) {
    throw E.invalidMember(`member ${m.member_id}: session_id and agent_id are for session members only`);
  }
}

/** Inserts or merges one member; returns the stored row. */
export async function upsertMemberInTx(
  tx: WriteTx,
  projectId: string,
  m: ProjectMemberInput,
): Promise<{ row: ProjectMemberRow; before: ProjectMemberRow | null }> {
  checkMemberShape(m);
  const members = await membersOf(tx.db, projectId);
  const before = members.find((x) => x.member_id === m.member_id) ?? null;
  let sessionId: string | null = null;
  let agentId: string | null = null;
  let actorId: string | null = null;
  if (m.member_kind === 'session') {
    if (m.agent_id !== undefined) {
      sessionId = await liveAgentSession(tx.db, m.agent_id);
      if (!sessionId) throw E.agentNotFound(m.agent_id);
      agentId = m.agent_id;
    } else if (m.session_id !== undefined) {
      sessionId = m.session_id;
    } else if (before?.member_kind === 'session' && before.session_id) {
      // An update that names neither keeps the binding it had.
      sessionId = before.session_id;
      agentId = before.agent_id;
    } else {
      sessionId = m.member_id;
    }
    if (agentId === null && !(await getSession(tx.db, sessionId))) throw E.sessionNotFound(sessionId);
    const other = members.find((x) => x.session_id === sessionId && x.member_id !== m.member_id);
    if (other) throw E.sessionConflict(sessionId, other.member_id);
  } else {
    actorId = m.actor_id ?? (before?.member_kind === 'human_actor' ? before.actor_id : null) ?? m.member_id;
  }
  const row: ProjectMemberRow = {
    project_id: projectId,
    member_id: m.member_id,
    position: before?.position ?? (await nextPosition(tx.db, 'project_members', projectId)),
    member_kind: m.member_kind,
    display_name: m.display_name,
    session_id: sessionId,
    agent_id: agentId,
    actor_id: actorId,
    role: m.role !== undefined ? m.role : (before?.role ?? null),
    expertise_tags:
      m.expertise_tags !== undefined
        ? json([...new Set(m.expertise_tags)])
        : (before?.expertise_tags ?? null),
    metadata: m.metadata !== undefined ? json(m.metadata) : (before?.metadata ?? null),
    created_at_ms: before?.created_at_ms ?? tx.now,
    updated_at_ms: tx.now,
  };
  if (before) {
    const { project_id: _p, member_id: _m, ...patch } = row;
    await tx.db
      .updateTable('project_members')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('member_id', '=', m.member_id)
      .execute();
  } else {
    await tx.db.insertInto('project_members').values(row).execute();
  }
  return { row, before };
}

/** Inserts or merges one link (the channel's existence is the caller's check). */
export async function upsertLinkInTx(
  tx: WriteTx,
  projectId: string,
  l: ProjectChannelLinkInput,
): Promise<ProjectLinkRow> {
  const links = await linksOf(tx.db, projectId);
  const before = links.find((x) => x.channel_id === l.channel_id) ?? null;
  const row: ProjectLinkRow = {
    project_id: projectId,
    channel_id: l.channel_id,
    position: before?.position ?? (await nextPosition(tx.db, 'project_channel_links', projectId)),
    role: l.role !== undefined ? l.role : (before?.role ?? null),
    default_for_new_tasks:
      l.default_for_new_tasks !== undefined
        ? Number(l.default_for_new_tasks)
        : (before?.default_for_new_tasks ?? 0),
    mirror_members: l.mirror_members !== undefined ? Number(l.mirror_members) : (before?.mirror_members ?? 0),
    metadata: l.metadata !== undefined ? json(l.metadata) : (before?.metadata ?? null),
    created_at_ms: before?.created_at_ms ?? tx.now,
    updated_at_ms: tx.now,
  };
  if (row.default_for_new_tasks === 1)
    await tx.db
      .updateTable('project_channel_links')
      .set({ default_for_new_tasks: 0, updated_at_ms: tx.now })
      .where('project_id', '=', projectId)
      .where('channel_id', '<>', l.channel_id)
      .where('default_for_new_tasks', '=', 1)
      .execute();
  if (before) {
    const { project_id: _p, channel_id: _c, ...patch } = row;
    await tx.db
      .updateTable('project_channel_links')
      .set(patch)
      .where('project_id', '=', projectId)
      .where('channel_id', '=', l.channel_id)
      .execute();
  } else {
    await tx.db.insertInto('project_channel_links').values(row).execute();
  }
  await ensureDefaultLink(tx, projectId);
  return (await linksOf(tx.db, projectId)).find((x) => x.channel_id === l.channel_id)!;
}

/** With links and none marked default, the first (oldest) becomes the default. */
export async function ensureDefaultLink(tx: WriteTx, projectId: string): Promise<void> {
  const links = await linksOf(tx.db, projectId);
  if (links.length === 0 || links.some((l) => l.default_for_new_tasks === 1)) return;
  await tx.db
    .updateTable('project_channel_links')
    .set({ default_for_new_tasks: 1, updated_at_ms: tx.now })
    .where('project_id', '=', projectId)
    .where('channel_id', '=', links[0]!.channel_id)
    .execute();
}
