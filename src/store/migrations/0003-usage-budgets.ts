// Usage accounting on runs, typed failure codes, and session-level budgets and output contracts.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0003usageBudgets: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('runs').addColumn('usage', 'text').execute();
    await db.schema.alterTable('runs').addColumn('error_code', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('budget', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('output_contract', 'text').execute();
  },
};
