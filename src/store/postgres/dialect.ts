// Kysely's PostgreSQL dialect with an introspector that sees only the connection's schema. Kysely's
// Migrator asks the introspector whether its bookkeeping tables exist at every start, and the stock
// one reads every table of every schema in the database and calls has_schema_privilege() on each
// schema by name: a schema dropped meanwhile (another system's, a test's) fails that query with
// "schema does not exist", and the start with it. One schema is also all a daemon owns.
import {
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  PostgresIntrospector,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from 'kysely/migration';

export class SchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

interface ColumnRow {
  table: string;
  schema: string;
  table_type: string;
  column: string;
  type: string;
  type_schema: string;
  not_null: boolean;
  has_default: boolean;
  auto_incrementing: boolean;
  comment: string | null;
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  private readonly db: Kysely<any>;
  private readonly stock: PostgresIntrospector;

  constructor(db: Kysely<any>) {
    this.db = db;
    this.stock = new PostgresIntrospector(db);
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.stock.getSchemas();
  }

  /** Tables and views of current_schema() with their columns, as the stock introspector describes them. */
  async getTables(options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    const internal = options?.withInternalKyselyTables === true;
    const { rows } = await sql<ColumnRow>`
      SELECT c.relname AS table, ns.nspname AS schema, c.relkind AS table_type, a.attname AS column,
        typ.typname AS type, tns.nspname AS type_schema, a.attnotnull AS not_null,
        a.atthasdef AS has_default,
        (a.attidentity <> '' OR pg_get_serial_sequence(quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
          a.attname) IS NOT NULL) AS auto_incrementing,
        col_description(a.attrelid, a.attnum) AS comment
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
      JOIN pg_catalog.pg_type typ ON typ.oid = a.atttypid
      JOIN pg_catalog.pg_namespace tns ON tns.oid = typ.typnamespace
      WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'v', 'p', 'f')
        AND a.attnum >= 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      if (!internal && (r.table === DEFAULT_MIGRATION_TABLE || r.table === DEFAULT_MIGRATION_LOCK_TABLE))
        continue;
      let t = tables.get(r.table);
      if (!t) {
        t = {
          name: r.table,
          schema: r.schema,
          isView: r.table_type === 'v',
          isForeign: r.table_type === 'f',
          columns: [],
        };
        tables.set(r.table, t);
      }
      t.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        hasDefaultValue: r.has_default,
        isAutoIncrementing: r.auto_incrementing,
        ...(r.comment === null ? {} : { comment: r.comment }),
      });
    }
    return [...tables.values()];
  }
}
