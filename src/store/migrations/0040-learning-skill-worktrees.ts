// The worktree of each promoted procedure's child (issue 19, decision 537): written before the
// child is spawned and read when an executor loads one of the child's runs, so its file and shell
// tools stay rooted in the worktree across restarts.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0040learningSkillWorktrees: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('learning_skill_worktrees')
      .addColumn('spawn_request_id', 'text', (c) => c.primaryKey())
      .addColumn('parent_run_id', 'text', (c) => c.notNull())
      .addColumn('tool_call_id', 'text', (c) => c.notNull())
      .addColumn('skill_name', 'text', (c) => c.notNull())
      .addColumn('worktree_path', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
};
