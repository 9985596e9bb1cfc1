// Full-text search inside the store, one small interface over two dialects: SQLite FTS5 (an
// external-content table kept in step by triggers) and PostgreSQL text search (a GIN index on
// `to_tsvector('simple', column)`). The index only narrows candidates by query terms; ranking stays
// in TypeScript (deterministic term scoring), so both stores order results the same way.
// The indexed column holds `textTokens(...)` joined by spaces, so both dialects index the same
// words whatever their tokenizers do with accents or punctuation. Recovered run memory uses it now;
// `/v1/learnings?query=` can reuse it with its own spec.
import type { Kysely } from 'kysely';
import { dialectOf } from './dialect.ts';
import * as postgres from './postgres/full-text.ts';
import type { Executor } from './schema.ts';
import * as sqlite from './sqlite/full-text.ts';

/** Which text of which table is indexed, and the integer key its rows are found by. */
export interface FullTextSpec {
  /** Also the prefix of every object the index creates (`<index>`, `<index>_*`). */
  index: string;
  table: string;
  /** An integer column unique per row (SQLite's content_rowid). */
  key: string;
  column: string;
}

/** Word tokens as both indexes see them: letters and digits, lower-cased, accents dropped. */
export function textTokens(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Creates the index and whatever keeps it in step with the table (a migration step). */
export async function createFullTextIndex(db: Kysely<any>, spec: FullTextSpec): Promise<void> {
  await (dialectOf(db) === 'postgres' ? postgres : sqlite).createFullTextIndex(db, spec);
}

/**
 * Keys of the rows whose text holds at least one of `terms` (already tokens of `textTokens`); at
 * most `limit`. With `prefix`, a term also finds the words it begins (callers that compare stemmed
 * words look up the stem: `certificat` finds `certificates`).
 */
export async function fullTextKeys(
  db: Executor,
  spec: FullTextSpec,
  terms: readonly string[],
  limit: number,
  prefix = false,
): Promise<number[]> {
  const words = [...new Set(terms.filter((t) => /^[\p{L}\p{N}]+$/u.test(t)))];
  if (words.length === 0) return [];
  return (dialectOf(db as Kysely<any>) === 'postgres' ? postgres : sqlite).fullTextKeys(
    db,
    spec,
    words,
    limit,
    prefix,
  );
}
