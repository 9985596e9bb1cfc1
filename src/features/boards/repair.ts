// Startup repair of board revisions (api-collab §5): every accepted revision is revalidated (render
// still a readable image with intact bytes, state envelope, embedded assets, parent chain); what
// fails is quarantined, and so is anything off the single chain reachable from the board's one
// root (forks, extra roots, cycles, orphans). The board's tip becomes that chain's last revision,
// never the newest by time. Quarantine is a status, not a deletion: the rows stay for inspection.

import type { BoardRevisionRow } from '../../store/repos/boards.ts';
import {
  boardIds,
  getBoard,
  listRevisions,
  quarantineRevision,
  updateBoard,
} from '../../store/repos/boards.ts';
import type { BoardsService } from './service.ts';

interface Verdict {
  revision_id: string;
  reason: string;
}

/** The single linear chain from the one root; everything else is quarantined with a reason. */
async function walk(
  boards: BoardsService,
  boardId: string,
  rows: BoardRevisionRow[],
): Promise<{ tip: string | null; bad: Verdict[] }> {
  const accepted = rows.filter((r) => r.status === 'accepted');
  const bad: Verdict[] = [];
  const onChain = new Set<string>();
  const roots = accepted.filter((r) => r.previous_revision_id === null);
  let tip: string | null = null;
  if (roots.length === 1) {
    let current: BoardRevisionRow | undefined = roots[0];
    let parent: string | null = null;
    while (current) {
      const problem = await boards
        .checkAssets(boardId, parent, current.render_asset_id, current.state_asset_id)
        .then(() => null)
        .catch((e: Error) => e.message);
      if (problem) {
        bad.push({ revision_id: current.revision_id, reason: `invalid: ${problem}` });
        break;
      }
      onChain.add(current.revision_id);
      tip = current.revision_id;
      parent = current.revision_id;
      const children = accepted.filter(
        (r) => r.previous_revision_id === parent && !onChain.has(r.revision_id),
      );
      if (children.length > 1) break; // a fork: no branch is the history
      current = children[0];
    }
  }
  const flagged = new Set(bad.map((b) => b.revision_id));
  for (const r of accepted) {
    if (onChain.has(r.revision_id) || flagged.has(r.revision_id)) continue;
    const reason =
      roots.length > 1
        ? 'non-linear history: several roots'
        : roots.length === 0
          ? 'non-linear history: no root (a cycle or a missing parent)'
          : 'non-linear history: a fork, or unreachable from the root through valid revisions';
    bad.push({ revision_id: r.revision_id, reason });
  }
  return { tip, bad };
}

export async function repairBoards(boards: BoardsService): Promise<void> {
  const db = boards.store.db;
  const ids = await boardIds(db);
  let checked = 0;
  let quarantined = 0;
  for (const boardId of ids) {
    const rows = await listRevisions(db, boardId);
    checked += rows.filter((r) => r.status === 'accepted').length;
    const { tip, bad } = await walk(boards, boardId, rows);
    quarantined += bad.length;
    const board = await getBoard(db, boardId);
    if (!bad.length && board?.tip_revision_id === tip) continue;
    await boards.store.write(async (tx) => {
      for (const b of bad) await quarantineRevision(tx.db, b.revision_id, b.reason);
      await updateBoard(tx.db, boardId, { tip_revision_id: tip });
    });
  }
  boards.repair = {
    checked_revisions: checked,
    quarantined_revisions: quarantined,
    boards: ids.length,
    at_ms: Date.now(),
  };
}
