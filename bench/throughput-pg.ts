// Throughput by store: bench/throughput.ts's closed loop (same levels, window and one-turn runs) on
// SQLite (FULL), on PostgreSQL with one replica and on PostgreSQL with two replicas (two daemons
// on one schema; client w submits to replica w % 2 and waits on that replica's own global stream,
// so half the sessions go to each and a completion has to reach the replica the client is on).
// The three variants run back to back so they see the same machine; each level runs on its own
// daemons, warmed up and stopped after it. Per level, what it cost the database: the daemons'
// write groups per second and, on PostgreSQL, the server's own commit rate (pg_stat_database).
import { join } from 'node:path';
import { type CommitFigures, commitFigures, writeGroups } from './lib/commits.ts';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import {
  adminQuery,
  type ServerInfo,
  serverInfo,
  settledXactCount,
  withSchema,
  type XactCount,
  xactCount,
} from './lib/pg.ts';
import { round, sleep } from './lib/stats.ts';
import {
  createSessions,
  ONE_TURN_SCRIPT,
  openTarget,
  runLevel,
  type Target,
  type ThroughputLevel,
} from './throughput.ts';

export interface ThroughputPgOptions {
  levels: number[];
  windowMs: number;
  maxRunsPerLevel: number;
  warmupMs: number;
  settleMs?: number;
}

export interface StoreLevel extends ThroughputLevel {
  /** Rates over the level's window (first submit → last completion); the server's counter also
   * covers the daemons' stop right after it. */
  commits: CommitFigures;
}

export interface StoreVariant {
  store: 'sqlite' | 'postgres';
  replicas: number;
  sync?: 'FULL';
  levels: StoreLevel[];
  /** PostgreSQL: runs each replica executed (its run leases), warm-up included. */
  runs_by_replica?: Record<string, number>;
  daemon_rss_mib: number[];
}

export interface ThroughputPgResult {
  server: ServerInfo;
  variants: StoreVariant[];
}

export async function runThroughputPg(opts: ThroughputPgOptions): Promise<ThroughputPgResult> {
  const server = await serverInfo();
  const variants: StoreVariant[] = [await runVariant(opts, null, 1)];
  for (const replicas of [1, 2]) variants.push(await withSchema((s) => runVariant(opts, s.url, replicas)));
  return { server, variants };
}

async function runVariant(
  opts: ThroughputPgOptions,
  url: string | null,
  replicas: number,
): Promise<StoreVariant> {
  const levels: StoreLevel[] = [];
  let rss: number[] = [];
  for (const c of opts.levels) {
    const r = await runStoreLevel(opts, url, replicas, c);
    levels.push(r.level);
    rss = r.rss;
  }
  const variant: StoreVariant = {
    store: url ? 'postgres' : 'sqlite',
    replicas,
    ...(url ? {} : { sync: 'FULL' as const }),
    levels,
    daemon_rss_mib: rss,
  };
  if (url) {
    const rows = await adminQuery<{ replica_id: string; n: string }>(
      'SELECT replica_id, count(*) AS n FROM run_leases GROUP BY replica_id ORDER BY replica_id',
      [],
      url,
    );
    variant.runs_by_replica = Object.fromEntries(rows.map((r) => [r.replica_id, Number(r.n)]));
    // Two replicas that did not both execute runs would not measure what the figure says.
    const idle = replicaIds(replicas).filter((id) => !variant.runs_by_replica![id]);
    if (idle.length) throw new Error(`replicas that executed no run: ${idle.join(', ')}`);
  }
  return variant;
}

const replicaIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `bench-${i}`);

/**
 * One level on its own daemons (warmed up, then stopped): a backend flushes its statistics when it
 * exits, so after the stop the server's counter holds exactly what it did before, and the wait
 * for the statistics (before the level) falls outside the span counted.
 */
async function runStoreLevel(
  opts: ThroughputPgOptions,
  url: string | null,
  replicas: number,
  concurrency: number,
): Promise<{ level: StoreLevel; rss: number[] }> {
  const dirs: string[] = [];
  const daemons: BenchDaemon[] = [];
  const targets: Target[] = [];
  let stopped = false;
  const stopAll = async () => {
    stopped = true;
    for (const t of targets) t.close();
    for (const d of daemons) {
      const code = await d.stop();
      if (code !== 0) process.stderr.write(`[bench] throughput_pg daemon exited with ${code}\n`);
    }
  };
  try {
    for (const id of replicaIds(replicas)) {
      const dir = tempDir('kheish-bench-tput-pg-');
      dirs.push(dir);
      daemons.push(
        await startBenchDaemon({
          stateRoot: join(dir, 'state'),
          routesFile: writeScriptedRoutes(dir, ONE_TURN_SCRIPT),
          ...(url
            ? { args: ['--database-url', url, '--replica-id', id] }
            : { env: { KHEISH_SQLITE_SYNCHRONOUS: 'FULL' } }),
        }),
      );
    }
    for (const d of daemons) targets.push(await openTarget(d));
    if (opts.warmupMs > 0) await runLevel(targets, 10, opts.warmupMs, opts.maxRunsPerLevel);
    const sessions = await createSessions(targets, concurrency);
    const x0: XactCount | undefined = url ? await settledXactCount(opts.settleMs) : undefined;
    const g0 = await writeGroups(daemons);
    const level = await runLevel(targets, concurrency, opts.windowMs, opts.maxRunsPerLevel, sessions);
    const g1 = await writeGroups(daemons);
    const rss = daemons.map((d) => round(d.rssKiB() / 1024, 1));
    await stopAll();
    let x1: XactCount | undefined;
    if (url) {
      await sleep(1000);
      x1 = await xactCount();
    }
    return { level: { ...level, commits: commitFigures(level.window_s, g0, g1, x0, x1) }, rss };
  } finally {
    if (!stopped) await stopAll();
    for (const dir of dirs) removeDir(dir);
  }
}
