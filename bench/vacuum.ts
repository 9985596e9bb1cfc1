// Disk growth per 10,000 runs, before and after an offline `vacuum` (issue 20): a daemon on SQLite
// runs `runs` chatty runs over `sessions` sessions whose route has a small context window, so
// compaction checkpoints appear as in a long-lived deployment. Then it is stopped, the database
// bytes (file + WAL) are measured, `vacuum` runs (default event retention, journal compaction past
// checkpoints, file rewrite), and the bytes are measured again. Figures are scaled to 10k runs.
// The dropped journal entries land in <state_root>/vacuum-bak/ (meant to be deleted once checked)
// and are not counted.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vacuumStateRoot } from '../src/ops/vacuum.ts';
import { removeDir, startBenchDaemon, tempDir } from './lib/daemon.ts';
import { round } from './lib/stats.ts';

export interface VacuumBenchResult {
  store: 'sqlite';
  runs: number;
  sessions: number;
  bytes_before: number;
  bytes_after: number;
  mib_per_10k_runs_before: number;
  mib_per_10k_runs_after: number;
  journal_entries_dropped: number;
  events_dropped: number;
  vacuum_ms: number;
}

const dbBytes = (root: string) =>
  ['kheish.sqlite', 'kheish.sqlite-wal']
    .map((f) => join(root, f))
    .reduce((n, p) => n + (existsSync(p) ? statSync(p).size : 0), 0);

export async function runVacuum(opts: { runs: number; sessions: number }): Promise<VacuumBenchResult> {
  const root = tempDir('kheish-bench-vacuum-');
  const dir = tempDir('kheish-bench-vacuum-routes-');
  writeFileSync(
    join(dir, 'script.json'),
    JSON.stringify({ default: { turns: [{ text: 'x'.repeat(600) }] } }),
  );
  const routes = join(dir, 'routes.toml');
  writeFileSync(
    routes,
    `version = 1\ndefault_route = "small"\n\n[routes.small]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "script.json"\ncontext_window_tokens = 2000\n`,
  );
  const d = await startBenchDaemon({ stateRoot: root, routesFile: routes });
  try {
    const post = (path: string, body: unknown) =>
      fetch(d.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ids = Array.from({ length: opts.sessions }, (_, i) => `bench-vacuum-${i}`);
    for (const id of ids) await post('/v1/sessions', { session_id: id });
    const perSession = Math.ceil(opts.runs / opts.sessions);
    // One client per session, each waiting for its run (inline input) before the next.
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < perSession; i++) {
          const res = await post(`/v1/sessions/${id}/input`, { content: `message ${i}` });
          await res.text();
        }
      }),
    );
  } finally {
    await d.stop();
  }
  const runs = Math.ceil(opts.runs / opts.sessions) * opts.sessions;
  const before = dbBytes(root);
  const t0 = performance.now();
  const report = await vacuumStateRoot({ stateRoot: root });
  const vacuumMs = performance.now() - t0;
  const after = dbBytes(root);
  removeDir(root);
  removeDir(dir);
  const per10k = (b: number) => round(((b / runs) * 10_000) / 1048576, 1);
  return {
    store: 'sqlite',
    runs,
    sessions: opts.sessions,
    bytes_before: before,
    bytes_after: after,
    mib_per_10k_runs_before: per10k(before),
    mib_per_10k_runs_after: per10k(after),
    journal_entries_dropped: report.journal_entries_dropped,
    events_dropped: report.events_dropped,
    vacuum_ms: round(vacuumMs, 0),
  };
}
