// What a measurement cost the database: the daemons' own count of committed write groups
// (GET /v1/status → storage.write_groups, one transaction each; summed over replicas) and, on
// PostgreSQL, the server's transaction counter (pg_stat_database), which also counts every read
// outside a write group (each one its own transaction) and anything else using the database.
import type { BenchDaemon } from './daemon.ts';
import { mustApi } from './http.ts';
import type { XactCount } from './pg.ts';
import { round } from './stats.ts';

export interface GroupCount {
  /** Write transactions committed. */
  groups: number;
  /** Writers they carried (a group commits every writer that was ready together). */
  writers: number;
}

export async function writeGroups(daemons: BenchDaemon[]): Promise<GroupCount> {
  let groups = 0;
  let writers = 0;
  for (const d of daemons) {
    const wg = (await mustApi(d.url, 'GET', '/v1/status')).storage.write_groups as GroupCount;
    groups += wg.groups;
    writers += wg.writers;
  }
  return { groups, writers };
}

export interface CommitFigures {
  seconds: number;
  write_groups: number;
  write_groups_per_s: number;
  writers_per_group: number;
  /** PostgreSQL only: pg_stat_database of the whole database over the same span. */
  db_xact_commit?: number;
  db_xact_rollback?: number;
  db_commits_per_s?: number;
  db_commits_per_write_group?: number;
}

export function commitFigures(
  seconds: number,
  g0: GroupCount,
  g1: GroupCount,
  x0?: XactCount,
  x1?: XactCount,
): CommitFigures {
  const groups = g1.groups - g0.groups;
  const out: CommitFigures = {
    seconds: round(seconds, 3),
    write_groups: groups,
    write_groups_per_s: round(groups / seconds, 1),
    writers_per_group: round((g1.writers - g0.writers) / Math.max(1, groups), 2),
  };
  if (x0 && x1) {
    const commits = x1.commit - x0.commit;
    out.db_xact_commit = commits;
    out.db_xact_rollback = x1.rollback - x0.rollback;
    out.db_commits_per_s = round(commits / seconds, 1);
    out.db_commits_per_write_group = round(commits / Math.max(1, groups), 2);
  }
  return out;
}
