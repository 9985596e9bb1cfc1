// Promoted procedural skill records (migration 0037, api-collab §4.6).
import type { Executor } from '../schema.ts';
import type { LearningSkillsTable, LearningSkillWorktreesTable } from '../schema-extensions.ts';

export type LearningSkillRow = LearningSkillsTable;

export const getLearningSkill = (db: Executor, name: string) =>
  db.selectFrom('learning_skills').selectAll().where('skill_name', '=', name).executeTakeFirst();

export async function listLearningSkills(
  db: Executor,
  q: { source_learning_id?: string; status?: string } = {},
): Promise<LearningSkillRow[]> {
  let s = db.selectFrom('learning_skills').selectAll().orderBy('skill_name');
  if (q.source_learning_id) s = s.where('source_learning_id', '=', q.source_learning_id);
  if (q.status) s = s.where('status', '=', q.status);
  return s.execute();
}

export async function insertLearningSkill(db: Executor, row: LearningSkillRow): Promise<void> {
  await db.insertInto('learning_skills').values(row).execute();
}

export async function updateLearningSkill(
  db: Executor,
  name: string,
  patch: Partial<LearningSkillRow>,
): Promise<void> {
  await db.updateTable('learning_skills').set(patch).where('skill_name', '=', name).execute();
}

export type LearningSkillWorktreeRow = LearningSkillWorktreesTable;

/** Records a child's worktree; a use_skill run again after a crash keeps the first row. */
export async function insertLearningSkillWorktree(
  db: Executor,
  row: LearningSkillWorktreeRow,
): Promise<void> {
  await db
    .insertInto('learning_skill_worktrees')
    .values(row)
    .onConflict((oc) => oc.column('spawn_request_id').doNothing())
    .execute();
}

export const getLearningSkillWorktree = (db: Executor, spawnRequestId: string) =>
  db
    .selectFrom('learning_skill_worktrees')
    .selectAll()
    .where('spawn_request_id', '=', spawnRequestId)
    .executeTakeFirst();
