// Preloaded into the daemon (node --import) by `bench/run.ts --profile` only: counts the SQL
// statements better-sqlite3 executes, by leading keyword, and times the preparation and the
// execution of each (native time, fsync included, which a CPU profile cannot split out). Writes
// { counts, prepare_ms, exec_ms } to $KHEISH_BENCH_SQL_COUNTS on SIGUSR2 and at exit.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Fn = (...args: unknown[]) => unknown;
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { prototype: { prepare: Fn } };
const out = process.env.KHEISH_BENCH_SQL_COUNTS;
const counts: Record<string, number> = {};
const prepareMs: Record<string, number> = {};
const execMs: Record<string, number> = {};
const keyword = new WeakMap<object, string>();
const add = (m: Record<string, number>, k: string, v: number) => {
  m[k] = (m[k] ?? 0) + v;
};
let patchedStatement = false;

function patchStatement(proto: Record<string, Fn>): void {
  for (const method of ['run', 'all', 'get', 'iterate']) {
    const original = proto[method];
    if (typeof original !== 'function') continue;
    proto[method] = function timed(this: object, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const word = keyword.get(this) ?? '?';
        add(execMs, word, performance.now() - t0);
        // Executions, not preparations: the daemon reuses compiled statements (store/sqlite/open.ts).
        add(counts, word, 1);
      }
    };
  }
}

const originalPrepare = Database.prototype.prepare;
Database.prototype.prepare = function prepare(this: unknown, sql: unknown) {
  const word = /^\s*(\w+)/.exec(String(sql))?.[1]?.toLowerCase() ?? '?';
  const t0 = performance.now();
  const stmt = originalPrepare.call(this, sql) as object;
  add(prepareMs, word, performance.now() - t0);
  keyword.set(stmt, word);
  if (!patchedStatement) {
    patchedStatement = true;
    patchStatement(Object.getPrototypeOf(stmt));
  }
  return stmt;
};

const dump = () => {
  if (out) writeFileSync(out, JSON.stringify({ counts, prepare_ms: prepareMs, exec_ms: execMs }));
};
process.on('SIGUSR2', dump);
process.on('exit', dump);
