// The durable step on PostgreSQL, one replica: bench/step.ts's method exactly (per run, wall of a
// `steps`-step inline run − median wall of a 0-step run, over `steps`; runs interleaved, one fresh
// session each), on a fresh schema of the machine's server, dropped afterwards. Beside it, what
// the step costs the database: the PostgreSQL single-row commit floor in the same schema, write
// groups per step (counted on runs of both kinds before the timed part), and over the timed part
// the daemon's write groups per second against the server's own commit rate (pg_stat_database).
import { join } from 'node:path';
import pg from 'pg';
import { type CommitFigures, commitFigures, writeGroups } from './lib/commits.ts';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import {
  type PgFloorResult,
  runPgFloor,
  type ServerInfo,
  serverInfo,
  settledXactCount,
  withSchema,
  xactCount,
} from './lib/pg.ts';
import { median, round, sleep } from './lib/stats.ts';
import {
  type SessionJournal,
  type StepFigures,
  stepFigures,
  stepScript,
  timedInput,
  timedSteps,
  warmSteps,
} from './step.ts';

export interface StepPgOptions {
  steps: number;
  runs: number;
  warmup: number;
  budgetMs: number;
  /** Runs of each kind whose write groups are counted one by one (before the timed part). */
  countRuns: number;
  floor: { commits: number; budgetMs: number };
  settleMs?: number;
}

export interface StepPgResult extends StepFigures {
  store: 'postgres';
  replicas: 1;
  server: ServerInfo;
  floor: PgFloorResult;
  write_groups: {
    /** (median groups of a `steps`-step run − median of a 0-step run) / steps. */
    per_step: number;
    /** Medians per run, each including its session's creation. */
    per_steps_run: number;
    per_zero_run: number;
    counted_runs: number;
  };
  /** Over the timed part (runs of both kinds and their sessions' creation). */
  commits: CommitFigures;
  daemon_rss_mib: number;
}

export async function runStepPg(opts: StepPgOptions): Promise<StepPgResult> {
  const server = await serverInfo();
  return withSchema(async (schema) => {
    const floor = await runPgFloor(schema.url, opts.floor.commits, opts.floor.budgetMs);
    const dir = tempDir('kheish-bench-step-pg-');
    const daemon = await startBenchDaemon({
      stateRoot: join(dir, 'state'),
      routesFile: writeScriptedRoutes(dir, stepScript(opts.steps)),
      args: ['--database-url', schema.url, '--replica-id', 'bench-step'],
    });
    let stopped = false;
    try {
      await warmSteps(daemon, opts.warmup);
      const counted = await countGroups(daemon, opts.countRuns, opts.steps);
      const x0 = await settledXactCount(opts.settleMs);
      const g0 = await writeGroups([daemon]);
      const timed = await timedSteps(daemon, opts.runs, opts.budgetMs);
      const g1 = await writeGroups([daemon]);
      const rss = daemon.rssKiB() / 1024;
      // A backend flushes its statistics when it exits: stopping the daemon makes them current.
      stopped = true;
      const code = await daemon.stop();
      if (code !== 0) throw new Error(`step_pg daemon exited with ${code}\n${daemon.logs().slice(-2000)}`);
      await sleep(1000);
      const x1 = await xactCount();
      return {
        store: 'postgres',
        replicas: 1,
        server,
        ...stepFigures(opts.steps, timed, await pgJournals(schema.url, timed.sessions)),
        floor,
        write_groups: { ...counted, counted_runs: opts.countRuns },
        commits: commitFigures((timed.to - timed.from) / 1000, g0, g1, x0, x1),
        daemon_rss_mib: round(rss, 1),
      };
    } finally {
      if (!stopped) await daemon.stop();
      removeDir(dir);
    }
  });
}

/** Write groups of single runs of both kinds, read from /v1/status around each. */
async function countGroups(d: BenchDaemon, n: number, steps: number) {
  const full: number[] = [];
  const zero: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = await writeGroups([d]);
    await timedInput(d, 'steps');
    const b = await writeGroups([d]);
    await timedInput(d, 'zero');
    const c = await writeGroups([d]);
    full.push(b.groups - a.groups);
    zero.push(c.groups - b.groups);
  }
  const perSteps = median(full);
  const perZero = median(zero);
  return {
    per_step: round((perSteps - perZero) / steps, 3),
    per_steps_run: perSteps,
    per_zero_run: perZero,
  };
}

async function pgJournals(url: string, sessions: string[]): Promise<SessionJournal[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const out: SessionJournal[] = [];
    for (const s of sessions) {
      const run = await client.query<{ status: string }>('SELECT status FROM runs WHERE session_id = $1', [
        s,
      ]);
      const rows = await client.query<{ kind: string; t: string }>(
        'SELECT kind, created_at_ms AS t FROM journal WHERE session_id = $1 ORDER BY seq',
        [s],
      );
      out.push({
        session: s,
        status: run.rows[0]?.status,
        entries: rows.rows.map((r) => ({ kind: r.kind, t: Number(r.t) })),
      });
    }
    return out;
  } finally {
    await client.end().catch(() => undefined);
  }
}
