// Turns a result document into the markdown table printed at the end of `npm run bench` (and
// pasted into docs/performance.md). Ratios: our figure divided by the single-row commit of its
// store (the physical floor: SQLite at the same synchronous, or PostgreSQL) and by LangGraph.js
// measured the same way in the same run.
import type { AssetsResult } from './assets.ts';
import type { DeliveriesResult } from './deliveries.ts';
import type { ExternalResult } from './external.ts';
import type { FloorResult } from './floor.ts';
import type { HistoryResult } from './history.ts';
import type { HttpFloorResult } from './http-floor.ts';
import type { IngressBenchResult } from './ingress.ts';
import type { LangGraphResult } from './langgraph.ts';
import { fmt, markdownTable, type Row, ratio } from './lib/report.ts';
import type { MemoryBenchResult } from './memory.ts';
import type { ProfileResult } from './profile-run.ts';
import type { ScaleResult } from './scale.ts';
import type { StepResult } from './step.ts';
import type { StepPgResult } from './step-pg.ts';
import type { StreamResult } from './stream.ts';
import { stepPgRows, throughputPgRows } from './table-pg.ts';
import type { ThroughputResult } from './throughput.ts';
import type { ThroughputPgResult } from './throughput-pg.ts';
import type { TracingResult } from './tracing.ts';
import type { VacuumBenchResult } from './vacuum.ts';

interface Doc {
  date: string;
  commit: string;
  mode: string;
  machine: object;
  results: Record<string, any>;
}

export function renderTable(doc: Doc): string {
  // A benchmark that failed left { error } behind: it simply has no rows.
  const r = Object.fromEntries(
    Object.entries(doc.results).filter(([, v]) => !(v as { error?: string })?.error),
  );
  const floor = r.floor as { full: FloorResult; normal: FloorResult } | undefined;
  const lg = r.langgraph as { full: LangGraphResult; normal?: LangGraphResult } | undefined;
  const step = r.step as { full: StepResult; normal?: StepResult } | undefined;
  const rows: Row[] = [];
  const f = floor?.full.commit_ms;
  if (floor) {
    rows.push({
      benchmark: 'SQLite floor',
      metric: 'FULL commit p50 / p99 ms',
      value: `${fmt(f?.p50, 3)} / ${fmt(f?.p99, 3)}`,
    });
    rows.push({
      benchmark: 'SQLite floor',
      metric: 'NORMAL commit p50 / p99 ms',
      value: `${fmt(floor.normal.commit_ms.p50, 3)} / ${fmt(floor.normal.commit_ms.p99, 3)}`,
    });
  }
  const stepRows = (
    label: string,
    s: StepResult | LangGraphResult,
    fl: FloorResult['commit_ms'] | undefined,
    peer?: LangGraphResult,
  ) => {
    rows.push({
      benchmark: label,
      metric: 'ms per step, p50',
      value: fmt(s.step_ms.p50, 3),
      vsFloor: ratio(s.step_ms.p50, fl?.p50),
      vsPeer: peer ? ratio(s.step_ms.p50, peer.step_ms.p50) : '',
    });
    rows.push({
      benchmark: label,
      metric: 'ms per step, p99',
      value: fmt(s.step_ms.p99, 3),
      vsFloor: ratio(s.step_ms.p99, fl?.p99),
      vsPeer: peer ? ratio(s.step_ms.p99, peer.step_ms.p99) : '',
    });
  };
  const n = floor?.normal.commit_ms;
  if (lg) stepRows('LangGraph.js + SqliteSaver, FULL', lg.full, f);
  if (step) stepRows('kheish step, FULL', step.full, f, lg?.full);
  if (lg?.normal) stepRows('LangGraph.js + SqliteSaver, NORMAL', lg.normal, n);
  if (step?.normal) stepRows('kheish step, NORMAL', step.normal, n, lg?.normal);
  if (step)
    rows.push({
      benchmark: 'kheish step, FULL',
      metric: 'single steps from the journal, p50 / p99 ms (1 ms clock)',
      value: `${fmt(step.full.step_interval_ms_journal.p50)} / ${fmt(step.full.step_interval_ms_journal.p99)}`,
    });
  if (r.step_pg) rows.push(...stepPgRows(r.step_pg as StepPgResult, step?.full));

  const history = r.history as HistoryResult | undefined;
  if (history) {
    const label = `history, ${history.sync}`;
    rows.push({
      benchmark: label,
      metric: `${history.steps_per_run}-step run p50 ms: fresh session / session holding ${history.history_runs} runs`,
      value: `${fmt(history.fresh_run_ms.p50, 1)} / ${fmt(history.history_run_ms.p50, 1)}`,
    });
    rows.push({
      benchmark: label,
      metric: 'old ÷ fresh, p50 (target ≤ 1.2×)',
      value: ratio(history.history_run_ms.p50, history.fresh_run_ms.p50, 2),
    });
  }

  const tput = r.throughput as
    | { full: ThroughputResult; normal: ThroughputResult; http_floor?: HttpFloorResult }
    | undefined;
  const httpFloor = tput?.http_floor;
  for (const l of httpFloor?.levels ?? [])
    rows.push({
      benchmark: `HTTP floor: node:http + 1 SQLite ${httpFloor!.sync} commit per request`,
      metric: `requests/s with ${l.concurrency} clients (request p50 / p99 ms; server CPU ms per request)`,
      value: `${fmt(l.requests_per_s, 1)} (${fmt(l.request_ms.p50)} / ${fmt(l.request_ms.p99)}; ${fmt(l.server_cpu_ms_per_request, 3)})`,
    });
  for (const t of tput ? [tput.full, tput.normal] : []) {
    for (const l of t.levels)
      rows.push({
        benchmark: `throughput, ${t.sync}`,
        metric: `runs/s with ${l.concurrency} sessions (submit→completed p50 / p99 ms)`,
        value: `${fmt(l.runs_per_s, 1)} (${fmt(l.submit_to_completed_ms.p50, 1)} / ${fmt(l.submit_to_completed_ms.p99, 1)})`,
      });
    for (const f of httpFloor?.sync === t.sync ? httpFloor.levels : []) {
      const same = t.levels.find((l) => l.concurrency === f.concurrency);
      if (same)
        rows.push({
          benchmark: `throughput, ${t.sync}`,
          metric: `runs/s ÷ HTTP floor requests/s, ${f.concurrency} sessions`,
          value: ratio(same.runs_per_s, f.requests_per_s, 2),
        });
    }
    rows.push({
      benchmark: `throughput, ${t.sync}`,
      metric: `daemon CPU ms per run with ${t.levels.map((l) => l.concurrency).join(' / ')} sessions (target ≤ 1.5)`,
      value: t.levels.map((l) => fmt(l.daemon_cpu_ms_per_run)).join(' / '),
    });
  }

  if (r.throughput_pg) rows.push(...throughputPgRows(r.throughput_pg as ThroughputPgResult));

  const stream = r.stream as StreamResult | undefined;
  for (const l of stream?.latency ?? [])
    rows.push({
      benchmark: 'SSE latency',
      metric: `publish→receive p50 / p99 ms, ${l.subscribers} subscribers (fan-out spread p99)`,
      value: `${fmt(l.publish_to_receive_ms.p50)} / ${fmt(l.publish_to_receive_ms.p99)} (${fmt(l.fanout_spread_ms.p99)})`,
    });
  if (stream)
    rows.push({
      benchmark: 'SSE replay',
      metric: `${stream.replay.events} events from a cursor, events/s (reconnects)`,
      value: `${fmt(stream.replay.events_per_s, 0)} (${stream.replay.reconnects})`,
    });

  const scale = r.scale as ScaleResult | undefined;
  if (scale) {
    const label = `scale, ${scale.sessions} sessions / ${scale.journal_rows} journal rows`;
    rows.push({
      benchmark: label,
      metric: 'restart → ready ms (empty state)',
      value: `${fmt(scale.seeded.ready_ms, 0)} (${fmt(scale.empty.ready_ms, 0)})`,
    });
    rows.push({
      benchmark: label,
      metric: 'RSS at ready MiB (empty state)',
      value: `${fmt(scale.seeded.rss_mib, 1)} (${fmt(scale.empty.rss_mib, 1)})`,
    });
    rows.push({
      benchmark: label,
      metric: 'RSS per idle session KiB: seeded / read / created',
      value: `${fmt(scale.rss_per_seeded_session_kib)} / ${fmt(scale.rss_per_touched_session_kib)} / ${fmt(scale.rss_per_created_session_kib)}`,
    });
    rows.push({
      benchmark: label,
      metric: `GET /v1/status ms at ${scale.runs} runs, median of ${scale.seeded.status_ms_samples?.length ?? 1} (target < 5)`,
      value: fmt(scale.seeded.status_ms, 1),
    });
  }
  const profile = r.profile as ProfileResult | undefined;
  if (profile) {
    const sql = profile.sql_per_step;
    rows.push({
      benchmark: 'profile (FULL step)',
      metric: 'per step: SQL statements; ms preparing / executing (commit)',
      value: `${sql.statements.total}; ${fmt(sql.prepare_ms.total, 3)} / ${fmt(sql.exec_ms.total, 3)} (${fmt(sql.exec_ms.commit, 3)})`,
    });
    rows.push({
      benchmark: 'profile (FULL step)',
      metric: 'busiest area of the CPU profile',
      value: `${profile.profile.by_area[0]?.frame} ${profile.profile.by_area[0]?.pct}%`,
    });
  }
  for (const a of (r.assets as AssetsResult | undefined)?.sizes ?? [])
    rows.push({
      benchmark: 'asset upload (POST /v1/assets, SQLite)',
      metric: `MiB/s for ${a.size_mib} MiB (upload p50 ms; bare write + fsync MiB/s; ratio)`,
      value: `${fmt(a.daemon_mib_s, 1)} (${fmt(a.upload_ms.p50, 1)}; ${fmt(a.floor_mib_s, 1)}; ${fmt(a.ratio, 3)})`,
    });
  const vac = r.vacuum as VacuumBenchResult | undefined;
  if (vac?.runs)
    rows.push({
      benchmark: 'disk growth per 10k runs (SQLite)',
      metric: `MiB before / after \`vacuum\` (${vac.runs} runs measured; vacuum s)`,
      value: `${fmt(vac.mib_per_10k_runs_before, 1)} / ${fmt(vac.mib_per_10k_runs_after, 1)} (${fmt(vac.vacuum_ms / 1000, 1)})`,
    });
  const ingress = r.ingress as IngressBenchResult | undefined;
  if (ingress) {
    rows.push({
      benchmark: 'connector ingress (HTTP, SQLite)',
      metric: 'event → 202 p50 ms (plain run submit p50 ms; ratio)',
      value: `${fmt(ingress.accept_ms.p50, 2)} (${fmt(ingress.submit_ms.p50, 2)}; ${fmt(ingress.accept_ratio, 3)})`,
    });
    rows.push({
      benchmark: 'connector ingress (HTTP, SQLite)',
      metric: `events/s at ${ingress.concurrency} clients (plain submits/s; ratio)`,
      value: `${fmt(ingress.ingress.per_s, 0)} (${fmt(ingress.submit.per_s, 0)}; ${fmt(ingress.throughput_ratio, 3)})`,
    });
    rows.push({
      benchmark: 'connector ingress (HTTP, SQLite)',
      metric: 'event → answer at the reply URL, p50 / p99 ms',
      value: `${fmt(ingress.end_to_end_ms.p50, 1)} / ${fmt(ingress.end_to_end_ms.p99, 1)}`,
    });
  }
  const dl = r.deliveries as DeliveriesResult | undefined;
  if (dl?.latency_ms)
    rows.push(
      {
        benchmark: 'output delivery (output persisted → receiver, http plugin, SQLite)',
        metric: 'latency p50 / p90 ms (bare POST p50 ms)',
        value: `${fmt(dl.latency_ms.p50, 1)} / ${fmt(dl.latency_ms.p90, 1)} (${fmt(dl.bare_post_ms.p50, 2)})`,
      },
      {
        benchmark: 'output delivery (output persisted → receiver, http plugin, SQLite)',
        metric: `deliveries/s over ${dl.throughput.sessions} targets (bare POST/s)`,
        value: `${fmt(dl.throughput.per_s, 1)} (${fmt(dl.bare_throughput_per_s, 1)})`,
      },
    );
  const ext = r.external as ExternalResult | undefined;
  if (ext) {
    rows.push({
      benchmark: 'external connector (event → run → /deliver, SQLite)',
      metric: 'ingress answer p50 / p99 ms; event sent → answer committed at the sidecar p50 / p99 ms',
      value: `${fmt(ext.ingress_ms.p50, 1)} / ${fmt(ext.ingress_ms.p99, 1)}; ${fmt(ext.end_to_end_ms.p50, 1)} / ${fmt(ext.end_to_end_ms.p99, 1)}`,
    });
    rows.push({
      benchmark: 'external connector (event → run → /deliver, SQLite)',
      metric: `events/s to committed answers, ${ext.concurrency} senders`,
      value: fmt(ext.events_per_s, 1),
    });
  }
  const tr = r.tracing as TracingResult | undefined;
  if (tr?.ratio)
    rows.push({
      benchmark: 'OpenTelemetry traces (durable step, SQLite FULL)',
      metric: 'step p50 ms: no OTEL_* / tracing off / on (ratios off, on to no OTEL_*)',
      value: `${fmt(tr.step_ms.baseline.p50, 2)} / ${fmt(tr.step_ms.off.p50, 2)} / ${fmt(tr.step_ms.on.p50, 2)} (${fmt(tr.ratio.off, 3)}, ${fmt(tr.ratio.on, 3)})`,
    });
  const mem = r.memory as MemoryBenchResult | undefined;
  if (mem?.precision_at_5)
    rows.push({
      benchmark: `memory search, lexical (${mem.learnings} learnings + ${mem.runs} runs, ${mem.queries} labelled queries, SQLite FTS5)`,
      metric: 'precision@5 learnings / recovered runs / mixed; query p50 ms',
      value: `${fmt(mem.precision_at_5.learnings, 3)} / ${fmt(mem.precision_at_5.recovered_runs, 3)} / ${fmt(mem.precision_at_5.mixed, 3)}; ${fmt(mem.query_ms.p50, 2)}`,
    });
  const m = doc.machine as Record<string, unknown>;
  const head = `${doc.mode} run ${doc.date} at ${doc.commit} on ${m.cpu} ×${m.cores}, ${m.mem_gib} GiB, ${m.tmp_fs}, Node ${m.node}, load ${m.load_avg_1m_at_start}`;
  return `${head}\n\n${markdownTable(rows)}`;
}
