// Board and board revision rows (migration 0034, api-collab §5).
import type { Executor } from '../schema.ts';
import type { BoardRevisionsTable, BoardsTable } from '../schema-extensions.ts';

export type BoardRow = BoardsTable;
export type BoardRevisionRow = BoardRevisionsTable;

export const getBoard = (db: Executor, id: string) =>
  db.selectFrom('boards').selectAll().where('board_id', '=', id).executeTakeFirst();

export async function listBoards(db: Executor, q: { query?: string; owner_session_id?: string }) {
  let s = db.selectFrom('boards').selectAll().orderBy('board_id');
  if (q.owner_session_id) s = s.where('owner_session_id', '=', q.owner_session_id);
  const rows = await s.execute();
  const needle = q.query?.toLowerCase();
  return needle
    ? rows.filter(
        (r) => r.board_id.toLowerCase().includes(needle) || r.display_name.toLowerCase().includes(needle),
      )
    : rows;
}

export const getRevision = (db: Executor, boardId: string, revisionId: string) =>
  db
    .selectFrom('board_revisions')
    .selectAll()
    .where('board_id', '=', boardId)
    .where('revision_id', '=', revisionId)
    .executeTakeFirst();

export const getRevisionByClientId = (db: Executor, boardId: string, clientId: string) =>
  db
    .selectFrom('board_revisions')
    .selectAll()
    .where('board_id', '=', boardId)
    .where('client_revision_id', '=', clientId)
    .executeTakeFirst();

export const listRevisions = (db: Executor, boardId: string) =>
  db
    .selectFrom('board_revisions')
    .selectAll()
    .where('board_id', '=', boardId)
    .orderBy('sequence')
    .orderBy('revision_id')
    .execute();

export async function revisionCounts(db: Executor, boardId: string) {
  const rows = await db
    .selectFrom('board_revisions')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('board_id', '=', boardId)
    .groupBy('status')
    .execute();
  const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { accepted: of('accepted'), quarantined: of('quarantined') };
}

export const boardIds = async (db: Executor) =>
  (await db.selectFrom('boards').select('board_id').orderBy('board_id').execute()).map((r) => r.board_id);

export const insertBoard = (db: Executor, row: BoardRow) => db.insertInto('boards').values(row).execute();

export const updateBoard = (db: Executor, id: string, patch: Partial<BoardRow>) =>
  db.updateTable('boards').set(patch).where('board_id', '=', id).execute();

/** The highest sequence number the board ever used (0 before the first revision). */
export async function maxSequence(db: Executor, boardId: string): Promise<number> {
  const top = await db
    .selectFrom('board_revisions')
    .select((eb) => eb.fn.max('sequence').as('s'))
    .where('board_id', '=', boardId)
    .executeTakeFirst();
  return Number(top?.s ?? 0);
}

export const insertRevision = (db: Executor, row: BoardRevisionRow) =>
  db.insertInto('board_revisions').values(row).execute();

export const quarantineRevision = (db: Executor, revisionId: string, reason: string) =>
  db
    .updateTable('board_revisions')
    .set({ status: 'quarantined', quarantine_reason: reason })
    .where('revision_id', '=', revisionId)
    .execute();
