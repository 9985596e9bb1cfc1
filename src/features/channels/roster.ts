// The roster rules (api-collab §1.4): one upsert shape for create and update, kind-specific fields,
// defaults (session_id / actor_id = member_id), and `follow_agent` labels resolved from the bound
// session's visible agent name whenever a view or a post needs the label (decision 341).
import { DaemonError } from '../../errors/daemon-error.ts';
import { getAgentBySession } from '../../store/repos/agents.ts';
import type { ChannelMemberRow } from '../../store/repos/channels.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { MemberInput } from './schema.ts';

export const invalidMember = (detail: string) => new DaemonError(400, 'channels', 'invalid_member', detail);

/** Checks one member body and returns the row to store (created_at_ms is the caller's to keep). */
export async function memberRow(
  db: Executor,
  channelId: string,
  m: MemberInput,
  now: number,
): Promise<ChannelMemberRow> {
  if (m.member_kind === 'human_actor') {
    if (m.session_id !== undefined)
      throw invalidMember(`member ${m.member_id}: session_id is for session members`);
    if (m.display_name_mode === 'follow_agent')
      throw invalidMember(`member ${m.member_id}: display_name_mode follow_agent is for session members`);
  } else if (m.actor_id !== undefined) {
    throw invalidMember(`member ${m.member_id}: actor_id is for human_actor members`);
  }
  const sessionId = m.member_kind === 'session' ? (m.session_id ?? m.member_id) : null;
  if (sessionId !== null && !(await getSession(db, sessionId)))
    throw new DaemonError(
      400,
      'channels',
      'member_session_not_found',
      `member ${m.member_id}: session ${sessionId} does not exist`,
    );
  return {
    channel_id: channelId,
    member_id: m.member_id,
    member_kind: m.member_kind,
    display_name: m.display_name,
    display_name_mode: m.display_name_mode ?? 'manual',
    session_id: sessionId,
    actor_id: m.member_kind === 'human_actor' ? (m.actor_id ?? m.member_id) : null,
    role: m.role ?? null,
    expertise_tags: JSON.stringify([...new Set(m.expertise_tags ?? [])]),
    participation_mode: m.participation_mode ?? null,
    muted: m.muted ? 1 : 0,
    last_spoke_at_ms: null,
    created_at_ms: now,
    updated_at_ms: now,
  };
}

/** The agent name a session shows: a sidechain's nickname or name, else its persona, else null. */
export async function visibleAgentName(db: Executor, sessionId: string): Promise<string | null> {
  const agent = await getAgentBySession(db, sessionId);
  if (agent) return agent.nickname ?? agent.name;
  const session = await getSession(db, sessionId);
  if (session?.persona) {
    const snap = JSON.parse(session.persona) as { display_name?: string };
    if (snap.display_name) return snap.display_name;
  }
  return null;
}

/** The label a member shows now: the stored one, or the followed agent's name. */
export async function labelOf(db: Executor, m: ChannelMemberRow): Promise<string> {
  if (m.display_name_mode !== 'follow_agent' || m.session_id === null) return m.display_name;
  return (await visibleAgentName(db, m.session_id)) ?? m.display_name;
}

/** The member a sender id names: a human by actor id, anyone by member id (decision 342). */
export function senderMember(members: ChannelMemberRow[], actorId: string): ChannelMemberRow | undefined {
  return (
    members.find((m) => m.member_kind === 'human_actor' && m.actor_id === actorId) ??
    members.find((m) => m.member_id === actorId)
  );
}
