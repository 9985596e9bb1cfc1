// Session input contracts (the schema every submission to the session must match), beside the
// output contract of 0003.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m0015inputContracts: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('sessions').addColumn('input_contract', 'text').execute();
  },
};
