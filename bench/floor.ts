// The physical floor: a bare better-sqlite3 loop of single-row autocommit INSERTs in WAL mode, on
// the same disk as the daemon's state root. With synchronous=FULL every commit waits for an fsync
// of the WAL, which is the least a durable step can cost. Runs in a child process (bench/lib/child.ts).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { removeDir, tempDir } from './lib/daemon.ts';
import { Budget, type Summary, summarize } from './lib/stats.ts';

export interface FloorOptions {
  sync: 'FULL' | 'NORMAL';
  commits: number;
  budgetMs: number;
  payloadBytes?: number;
  dir?: string;
}

export interface FloorResult {
  sync: string;
  payload_bytes: number;
  sqlite_version: string;
  commit_ms: Summary;
}

export function runFloor(opts: FloorOptions): FloorResult {
  const dir = opts.dir ?? tempDir('kheish-floor-');
  const db = new Database(join(dir, 'floor.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.sync}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (payload) VALUES (?)');
    const payload = 'x'.repeat(opts.payloadBytes ?? 100);
    for (let i = 0; i < 50; i++) insert.run(payload);
    const samples: number[] = [];
    const budget = new Budget(opts.budgetMs);
    while (samples.length < opts.commits && !budget.expired) {
      const t0 = performance.now();
      insert.run(payload);
      samples.push(performance.now() - t0);
    }
    const version = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    return {
      sync: opts.sync,
      payload_bytes: payload.length,
      sqlite_version: version,
      commit_ms: summarize(samples),
    };
  } finally {
    db.close();
    if (!opts.dir) removeDir(dir);
  }
}
