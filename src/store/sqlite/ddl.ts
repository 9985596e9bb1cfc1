// SQLite DDL of the migrations (same exports as ../postgres/ddl.ts). What these functions produce
// is what every existing SQLite database already holds: the text of a trigger is stored in
// sqlite_master, so changing a single character here would make new databases differ from old ones.
import type { ColumnDataType, CreateTableBuilder, Expression } from 'kysely';
import type { CounterSyntax, CounterTrigger } from '../dialect.ts';

/** An `INTEGER PRIMARY KEY AUTOINCREMENT` column: ids only grow, even after the last row is deleted. */
export function addAutoIncrementId<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  column: string,
): CreateTableBuilder<T, C> {
  return table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement()) as CreateTableBuilder<
    T,
    C
  >;
}

/** Type of `counters.name`: SQLite compares text byte by byte already. */
export const counterNameType: ColumnDataType | Expression<unknown> = 'text';

/** Functions the counter triggers call (none: SQLite has json_valid and `->>` built in). */
export const counterHelpers: readonly string[] = [];

/** The valid JSON text, else NULL: a malformed usage counts as none instead of failing a run write. */
const valid = (text: string) => `CASE WHEN json_valid(${text}) THEN ${text} END`;
/** A usage field of a valid JSON text, or 0. */
const field = (json: string, path: string) => `coalesce(${json} ->> '$.${path}', 0)`;

export const counterSyntax: CounterSyntax = {
  bump: (name, delta) =>
    `INSERT INTO counters (name, value) SELECT ${name}, d FROM (SELECT ${delta} AS d) WHERE d <> 0
   ON CONFLICT (name) DO UPDATE SET value = value + excluded.value;`,
  int: (condition) => `(${condition})`,
  isNot: (a, b) => `${a} IS NOT ${b}`,
  valid,
  field,
  nano: (json) => `CAST(round(${field(json, 'cost_usd')} * 1e9) AS INTEGER)`,
};

/** One trigger, one statement. */
export const createTrigger = (t: CounterTrigger): string[] => [
  `CREATE TRIGGER ${t.name} ${t.on}${t.when ? ` WHEN ${t.when}` : ''} BEGIN ${t.body.join('\n')} END`,
];

export const dropTrigger = (t: CounterTrigger): string => `DROP TRIGGER IF EXISTS ${t.name}`;
