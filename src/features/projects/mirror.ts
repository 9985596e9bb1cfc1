// Mirrored channel rosters (api-collab §2.5): with `mirror_members=true` every project member is
// an ordinary member of the linked channel, named `project:{project_id}:{member_id}`. The roster
// is the channels feature's; this keeps what was last applied (project_mirrored_members) so a
// reconciliation after each project mutation and task start adds, refreshes and removes entries.
// A channel call that fails is logged and retried by the next reconciliation.
import type { Logger } from 'pino';
import { isDaemonError } from '../../errors/daemon-error.ts';
import { linksOf, membersOf, mirroredOf } from '../../store/repos/projects.ts';
import type { Store } from '../../store/store.ts';
import type { ChannelMemberInput, ChannelsPort } from '../channels/port.ts';

export const mirroredMemberId = (projectId: string, memberId: string): string =>
  `project:${projectId}:${memberId}`;

export class MirrorReconciler {
  private readonly store: Store;
  private readonly channels: () => ChannelsPort | null;
  private readonly log: Logger;
  /** One reconciliation at a time per project (in this process); a later one sees the latest state. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(store: Store, channels: () => ChannelsPort | null, log: Logger) {
    this.store = store;
    this.channels = channels;
    this.log = log;
  }

  reconcile(projectId: string): Promise<void> {
    const prev = this.chains.get(projectId) ?? Promise.resolve();
    const next = prev
      .then(() => this.once(projectId))
      .catch((err) => {
        this.log.warn(
          { project_id: projectId, err: String(err) },
          'project roster mirror failed; retried later',
        );
      });
    this.chains.set(projectId, next);
    void next.finally(() => {
      if (this.chains.get(projectId) === next) this.chains.delete(projectId);
    });
    return next;
  }

  private async once(projectId: string): Promise<void> {
    const channels = this.channels();
    if (!channels) return;
    const db = this.store.db;
    const links = (await linksOf(db, projectId)).filter((l) => l.mirror_members === 1);
    const members = await membersOf(db, projectId);
    const applied = await mirroredOf(db, projectId);
    const desired: Array<{ channel_id: string; member_id: string }> = [];
    for (const link of links) {
      if (!(await channels.exists(link.channel_id))) continue;
      for (const m of members) {
        const entry: ChannelMemberInput = {
          member_id: mirroredMemberId(projectId, m.member_id),
          member_kind: m.member_kind as ChannelMemberInput['member_kind'],
          display_name: m.display_name,
          ...(m.session_id ? { session_id: m.session_id } : {}),
          ...(m.actor_id ? { actor_id: m.actor_id } : {}),
          ...(m.role ? { role: m.role } : {}),
          ...(m.expertise_tags ? { expertise_tags: JSON.parse(m.expertise_tags) as string[] } : {}),
        };
        await channels.upsertMember(link.channel_id, entry);
        desired.push({ channel_id: link.channel_id, member_id: entry.member_id });
      }
    }
    const want = new Set(desired.map((d) => `${d.channel_id}\n${d.member_id}`));
    for (const a of applied) {
      if (want.has(`${a.channel_id}\n${a.member_id}`)) continue;
      if (!(await channels.exists(a.channel_id))) continue;
      // Already gone from the roster (removed by hand): nothing left to undo.
      await channels.removeMember(a.channel_id, a.member_id).catch((err) => {
        if (!(isDaemonError(err) && err.status === 404)) throw err;
      });
    }
    await this.store.write(async (tx) => {
      await tx.db.deleteFrom('project_mirrored_members').where('project_id', '=', projectId).execute();
      if (desired.length)
        await tx.db
          .insertInto('project_mirrored_members')
          .values(desired.map((d) => ({ project_id: projectId, ...d })))
          .execute();
    });
  }
}
