// The shape of a migrated store, one line per column, index and trigger, read from the SQLite
// catalog or from PostgreSQL's: equal lines mean the migrations built the same schema on both.
import type Database from 'better-sqlite3';
import type pg from 'pg';

type Db = InstanceType<typeof Database>;

/**
 * Full-text indexes are dialect objects by design (src/store/full-text.ts): an FTS5 table, its
 * shadow tables and triggers on SQLite, one GIN index on PostgreSQL, all named `<index>` or
 * `<index>_*` with an index name ending in `_fts`. They are left out of the comparison.
 */
const isFullText = (line: string) => /\b\w+_fts(_\w+)?\b/.test(line);

/** One name per type on both dialects (Kysely's own tables use varchar(255)). */
const typeName = (t: string): string => {
  const x = t.toLowerCase();
  return x === 'character varying' || x === 'varchar(255)' ? 'varchar' : x;
};

export function sqliteShape(db: Db): string[] {
  const out: string[] = [];
  const tables = db
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
    .all() as Array<{ name: string }>;
  for (const { name } of tables) {
    const cols = db.prepare(`pragma table_info("${name}")`).all() as Array<{
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }>;
    const intKey =
      cols.filter((c) => c.pk).length === 1
        ? cols.find((c) => c.pk && c.type.toLowerCase() === 'integer')
        : null;
    for (const c of cols) {
      // An INTEGER PRIMARY KEY is the rowid: a 64-bit integer the database hands out.
      const type = c === intKey ? 'generated bigint' : typeName(c.type);
      const notNull = c.notnull || c.pk ? 'not null' : 'null';
      out.push(
        `column ${name}.${c.name} ${type} ${notNull} default ${c.dflt_value ?? '-'}${c.pk ? ' pk' : ''}`,
      );
    }
    for (const ix of db.prepare(`pragma index_list("${name}")`).all() as Array<{
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }>) {
      if (ix.origin === 'pk') continue;
      const on = (db.prepare(`pragma index_info("${ix.name}")`).all() as Array<{ name: string }>)
        .map((c) => c.name)
        .join(', ');
      out.push(
        `index ${ix.name} on ${name} (${on})${ix.unique ? ' unique' : ''}${ix.partial ? ' partial' : ''}`,
      );
    }
  }
  for (const t of db
    .prepare("select name, tbl_name from sqlite_master where type = 'trigger' order by name")
    .all() as Array<{ name: string; tbl_name: string }>)
    out.push(`trigger ${t.name} on ${t.tbl_name}`);
  return out.filter((l) => !isFullText(l)).sort();
}

/** The same lines for the connection's current schema. */
export async function postgresShape(client: pg.Client): Promise<string[]> {
  const out: string[] = [];
  const cols = await client.query(
    `select c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default, c.is_identity,
       exists (select 1 from information_schema.table_constraints tc
         join information_schema.key_column_usage k using (constraint_schema, constraint_name)
         where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = c.table_schema
           and k.table_name = c.table_name and k.column_name = c.column_name) as pk
     from information_schema.columns c where c.table_schema = current_schema()`,
  );
  for (const c of cols.rows) {
    const type = c.is_identity === 'YES' ? 'generated bigint' : typeName(c.data_type);
    const notNull = c.is_nullable === 'NO' ? 'not null' : 'null';
    out.push(
      `column ${c.table_name}.${c.column_name} ${type} ${notNull} default ${c.column_default ?? '-'}${c.pk ? ' pk' : ''}`,
    );
  }
  const ixs = await client.query(
    `select i.relname as name, t.relname as tbl, x.indisunique as uniq, x.indpred is not null as partial,
       (select string_agg(a.attname, ', ' order by k.n) from unnest(x.indkey) with ordinality k(attnum, n)
          join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum) as cols
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
     where t.relnamespace = current_schema()::regnamespace and not x.indisprimary`,
  );
  for (const r of ixs.rows)
    out.push(
      `index ${r.name} on ${r.tbl} (${r.cols})${r.uniq ? ' unique' : ''}${r.partial ? ' partial' : ''}`,
    );
  const triggers = await client.query(
    `select tg.tgname as name, t.relname as tbl from pg_trigger tg join pg_class t on t.oid = tg.tgrelid
     where t.relnamespace = current_schema()::regnamespace and not tg.tgisinternal`,
  );
  for (const r of triggers.rows) out.push(`trigger ${r.name} on ${r.tbl}`);
  return out.filter((l) => !isFullText(l)).sort();
}
