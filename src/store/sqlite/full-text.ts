// SQLite half of src/store/full-text.ts: an FTS5 external-content table over the indexed column,
// kept in step by three triggers, so a row and its index entry commit in one transaction.
import { type Kysely, sql } from 'kysely';
import type { FullTextSpec } from '../full-text.ts';
import type { Executor } from '../schema.ts';

export async function createFullTextIndex(db: Kysely<any>, s: FullTextSpec): Promise<void> {
  const statements = [
    `CREATE VIRTUAL TABLE ${s.index} USING fts5(${s.column}, content='${s.table}', content_rowid='${s.key}', tokenize='unicode61')`,
    `CREATE TRIGGER ${s.index}_ai AFTER INSERT ON ${s.table} BEGIN
       INSERT INTO ${s.index}(rowid, ${s.column}) VALUES (new.${s.key}, new.${s.column});
     END`,
    `CREATE TRIGGER ${s.index}_ad AFTER DELETE ON ${s.table} BEGIN
       INSERT INTO ${s.index}(${s.index}, rowid, ${s.column}) VALUES ('delete', old.${s.key}, old.${s.column});
     END`,
    `CREATE TRIGGER ${s.index}_au AFTER UPDATE OF ${s.column} ON ${s.table} BEGIN
       INSERT INTO ${s.index}(${s.index}, rowid, ${s.column}) VALUES ('delete', old.${s.key}, old.${s.column});
       INSERT INTO ${s.index}(rowid, ${s.column}) VALUES (new.${s.key}, new.${s.column});
     END`,
  ];
  for (const text of statements) await sql.raw(text).execute(db);
}

export async function fullTextKeys(
  db: Executor,
  s: FullTextSpec,
  words: readonly string[],
  limit: number,
  prefix: boolean,
): Promise<number[]> {
  // Each word is a quoted FTS5 string (letters and digits only, so no quote to escape).
  const match = words.map((w) => `"${w}"${prefix ? '*' : ''}`).join(' OR ');
  const rows = await sql<{ k: number }>`SELECT rowid AS k FROM ${sql.table(s.index)} WHERE ${sql.table(
    s.index,
  )} MATCH ${match} LIMIT ${limit}`.execute(db);
  return rows.rows.map((r) => Number(r.k));
}
