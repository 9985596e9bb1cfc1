// The PostgreSQL rows of the markdown table (bench/table.ts): the step on one replica beside the
// PostgreSQL commit floor, and throughput by store, each with what it cost the database (write
// groups per second from the daemons, commits per second from the server).
import type { CommitFigures } from './lib/commits.ts';
import { fmt, type Row, ratio } from './lib/report.ts';
import type { StepResult } from './step.ts';
import type { StepPgResult } from './step-pg.ts';
import type { StoreVariant, ThroughputPgResult } from './throughput-pg.ts';

const dbRate = (c: CommitFigures): string =>
  c.db_commits_per_s === undefined
    ? 'n/a'
    : `${fmt(c.db_commits_per_s, 1)} (${fmt(c.db_commits_per_write_group)} per write group)`;

export function stepPgRows(s: StepPgResult, sqliteStep?: StepResult): Row[] {
  const label = 'kheish step, PostgreSQL, 1 replica';
  const f = s.floor.commit_ms;
  const rows: Row[] = [
    {
      benchmark: `PostgreSQL floor (${s.server.version}, synchronous_commit ${s.server.synchronous_commit})`,
      metric: 'single-row INSERT commit p50 / p99 ms, 1 client over loopback',
      value: `${fmt(f.p50, 3)} / ${fmt(f.p99, 3)}`,
    },
    {
      benchmark: 'PostgreSQL floor',
      metric: 'round trip (SELECT 1) p50 / p99 ms',
      value: `${fmt(s.floor.roundtrip_ms.p50, 3)} / ${fmt(s.floor.roundtrip_ms.p99, 3)}`,
    },
    {
      benchmark: label,
      metric: 'ms per step, p50',
      value: fmt(s.step_ms.p50, 3),
      vsFloor: ratio(s.step_ms.p50, f.p50),
    },
    {
      benchmark: label,
      metric: 'ms per step, p99',
      value: fmt(s.step_ms.p99, 3),
      vsFloor: ratio(s.step_ms.p99, f.p99),
    },
  ];
  if (sqliteStep)
    rows.push({
      benchmark: label,
      metric: 'step p50 ÷ kheish step FULL on SQLite p50',
      value: ratio(s.step_ms.p50, sqliteStep.step_ms.p50, 2),
    });
  rows.push(
    {
      benchmark: label,
      metric: 'single steps from the journal, p50 / p99 ms (1 ms clock)',
      value: `${fmt(s.step_interval_ms_journal.p50)} / ${fmt(s.step_interval_ms_journal.p99)}`,
    },
    {
      benchmark: label,
      metric: `write groups per step (per ${s.steps_per_run}-step run / per 0-step run, session creation included)`,
      value: `${fmt(s.write_groups.per_step)} (${s.write_groups.per_steps_run} / ${s.write_groups.per_zero_run})`,
    },
    {
      benchmark: label,
      metric: 'steps/s at the p50 step (1000 ÷ p50)',
      value: fmt(1000 / s.step_ms.p50, 1),
    },
    {
      benchmark: label,
      metric: 'during the timed runs: write groups/s; PostgreSQL commits/s (per write group)',
      value: `${fmt(s.commits.write_groups_per_s, 1)}; ${dbRate(s.commits)}`,
    },
  );
  return rows;
}

const variantLabel = (v: StoreVariant): string =>
  v.store === 'sqlite'
    ? `throughput by store, SQLite ${v.sync ?? ''}`.trim()
    : `throughput by store, PostgreSQL, ${v.replicas} replica${v.replicas > 1 ? 's' : ''}`;

export function throughputPgRows(t: ThroughputPgResult): Row[] {
  const rows: Row[] = [];
  for (const v of t.variants) {
    const label = variantLabel(v);
    for (const l of v.levels)
      rows.push({
        benchmark: label,
        metric: `runs/s with ${l.concurrency} sessions (submit→completed p50 / p99 ms)`,
        value: `${fmt(l.runs_per_s, 1)} (${fmt(l.submit_to_completed_ms.p50, 1)} / ${fmt(l.submit_to_completed_ms.p99, 1)})`,
      });
    const pg = v.store === 'postgres';
    for (const l of v.levels)
      rows.push({
        benchmark: label,
        metric: `${l.concurrency} sessions: write groups per run; write groups/s${pg ? '; PostgreSQL commits/s (per write group)' : ''}`,
        value: `${fmt(l.commits.write_groups / Math.max(1, l.completed))}; ${fmt(l.commits.write_groups_per_s, 1)}${pg ? `; ${dbRate(l.commits)}` : ''}`,
      });
    rows.push({
      benchmark: label,
      metric: `daemon CPU ms per run, all replicas, with ${v.levels.map((l) => l.concurrency).join(' / ')} sessions`,
      value: v.levels.map((l) => fmt(l.daemon_cpu_ms_per_run)).join(' / '),
    });
    if (v.runs_by_replica && v.replicas > 1)
      rows.push({
        benchmark: label,
        metric: 'runs executed by each replica (warm-up included)',
        value: Object.entries(v.runs_by_replica)
          .map(([id, n]) => `${id}: ${n}`)
          .join(', '),
      });
  }
  return rows;
}
