// PostgreSQL half of src/store/full-text.ts: a GIN index on the `simple` text-search vector of the
// column (no stemming, no stop words: the same tokens as SQLite's unicode61), used by `@@`.
import { type Kysely, sql } from 'kysely';
import type { FullTextSpec } from '../full-text.ts';
import type { Executor } from '../schema.ts';

const vector = (s: FullTextSpec) => `to_tsvector('simple'::regconfig, ${s.column})`;

export async function createFullTextIndex(db: Kysely<any>, s: FullTextSpec): Promise<void> {
  await sql.raw(`CREATE INDEX ${s.index} ON ${s.table} USING gin (${vector(s)})`).execute(db);
}

export async function fullTextKeys(
  db: Executor,
  s: FullTextSpec,
  words: readonly string[],
  limit: number,
  prefix: boolean,
): Promise<number[]> {
  // Letters and digits only: each word is a valid tsquery lexeme as is.
  const query = words.map((w) => (prefix ? `${w}:*` : w)).join(' | ');
  const rows = await sql<{ k: string | number }>`SELECT ${sql.ref(s.key)} AS k FROM ${sql.table(s.table)}
    WHERE ${sql.raw(vector(s))} @@ to_tsquery('simple'::regconfig, ${query}) LIMIT ${limit}`.execute(db);
  return rows.rows.map((r) => Number(r.k));
}
