// PostgreSQL DDL of the migrations (same exports as ../sqlite/ddl.ts): the same tables, counters and
// behaviour as on SQLite, in PostgreSQL's terms (identity columns, plpgsql trigger functions).
import { type ColumnDataType, type CreateTableBuilder, type Expression, sql } from 'kysely';
import type { CounterSyntax, CounterTrigger } from '../dialect.ts';

/**
 * A bigint identity primary key. Like SQLite's AUTOINCREMENT, a sequence never hands out an id
 * twice; unlike it, ids of rolled-back inserts are skipped (a gap, never a reuse).
 */
export function addAutoIncrementId<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  column: string,
): CreateTableBuilder<T, C> {
  return table.addColumn(column, 'bigint', (c) =>
    c.primaryKey().generatedByDefaultAsIdentity(),
  ) as CreateTableBuilder<T, C>;
}

/**
 * Type of `counters.name`: byte order whatever the database's collation, so the prefix ranges of
 * repos/counters.ts (`name >= 'runs:status:' AND name < 'runs:status;'`) select what they do on
 * SQLite (a linguistic collation ignores punctuation and would not).
 */
export const counterNameType: ColumnDataType | Expression<unknown> = sql`text collate "C"`;

/**
 * What SQLite has built in, for the counter triggers: `kheish_jsonb_or_null` is json_valid (PG 15
 * has no IS JSON), `kheish_usage_number` is `coalesce(j ->> '$.k', 0)`, and `kheish_usage_nanousd`
 * is SQLite's `CAST(round(cost * 1e9) AS INTEGER)`: doubles, rounded half away from zero.
 */
export const counterHelpers: readonly string[] = [
  `CREATE OR REPLACE FUNCTION kheish_jsonb_or_null(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
   BEGIN
     IF t IS NULL THEN RETURN NULL; END IF;
     BEGIN
       RETURN t::jsonb;
     EXCEPTION WHEN others THEN
       RETURN NULL;
     END;
   END $$`,
  `CREATE OR REPLACE FUNCTION kheish_usage_number(j jsonb, k text) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
     SELECT CASE jsonb_typeof(j -> k)
       WHEN 'number' THEN (j ->> k)::numeric
       WHEN 'boolean' THEN CASE WHEN (j -> k)::boolean THEN 1 ELSE 0 END
       ELSE 0 END $$`,
  `CREATE OR REPLACE FUNCTION kheish_usage_nanousd(j jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
     SELECT CAST(sign(x) * trunc(abs(x) + 0.5) AS bigint)
     FROM (SELECT kheish_usage_number(j, 'cost_usd')::float8 * 1e9::float8 AS x) AS c $$`,
];

export const counterSyntax: CounterSyntax = {
  bump: (name, delta) =>
    `INSERT INTO counters (name, value) SELECT ${name}, d FROM (SELECT ${delta} AS d) AS delta WHERE d <> 0
   ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value;`,
  int: (condition) => `(${condition})::int`,
  isNot: (a, b) => `${a} IS DISTINCT FROM ${b}`,
  valid: (text) => `kheish_jsonb_or_null(${text})`,
  field: (json, path) => `kheish_usage_number(${json}, '${path}')`,
  nano: (json) => `kheish_usage_nanousd(${json})`,
};

/**
 * A row trigger and its function (named alike). The function keeps the search_path of the
 * migration, so a session with another search_path (psql, a maintenance script) still counts in
 * this schema's counters.
 */
export const createTrigger = (t: CounterTrigger): string[] => [
  `CREATE OR REPLACE FUNCTION ${t.name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
   BEGIN
     ${t.body.join('\n')}
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER ${t.name} ${t.on} FOR EACH ROW${t.when ? ` WHEN (${t.when})` : ''} EXECUTE FUNCTION ${t.name}()`,
];

export const dropTrigger = (t: CounterTrigger): string => `DROP TRIGGER IF EXISTS ${t.name} ON ${t.table}`;
