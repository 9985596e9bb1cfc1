// Scale: restart-to-ready time and memory with many sessions and a large journal. The state file
// is made by the daemon itself (it migrates the schema and records a few real runs, whose rows
// serve as templates), then bulk-filled with better-sqlite3 while the daemon is stopped: S sessions
// × R completed runs × (1 input + 2·steps + 1 answer) journal rows, with their run events and
// outputs. Then the daemon is restarted on it several times.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { api, mustApi } from './lib/http.ts';
import { median, round, sleep } from './lib/stats.ts';

export interface ScaleOptions {
  sessions: number;
  runsPerSession: number;
  /** Tool steps per seeded run: journal rows per run = 2 + 2·steps. */
  stepsPerRun: number;
  restarts: number;
  touchSessions: number;
  createSessions: number;
}

export interface ScaleResult {
  sessions: number;
  runs: number;
  journal_rows: number;
  db_mib: number;
  seed_s: number;
  empty: { ready_ms: number; rss_mib: number };
  seeded: {
    ready_ms: number;
    ready_ms_runs: number[];
    rss_mib: number;
    /** Median of the samples; the first one, right after ready, is also among them. */
    status_ms: number;
    status_ms_samples: number[];
  };
  rss_per_seeded_session_kib: number;
  rss_per_touched_session_kib: number;
  rss_per_created_session_kib: number;
  first_run_on_old_session_ms: number;
}

const mib = (kib: number) => round(kib / 1024, 1);

function seed(stateRoot: string, opts: ScaleOptions): { runs: number; journal: number } {
  const db = new Database(join(stateRoot, 'kheish.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  try {
    const tSession = db.prepare('select * from sessions order by created_at_ms limit 1').get() as Record<
      string,
      unknown
    >;
    const tRun = db.prepare("select * from runs where status = 'completed' limit 1").get() as Record<
      string,
      unknown
    >;
    const tJournal = db
      .prepare('select * from journal where run_id = ? order by seq')
      .all(tRun.run_id) as Array<Record<string, unknown>>;
    const tEvents = db
      .prepare('select * from run_events where run_id = ? order by id')
      .all(tRun.run_id) as Array<Record<string, unknown>>;
    const tOutput = db.prepare('select * from outputs where run_id = ?').get(tRun.run_id) as Record<
      string,
      unknown
    >;
    let seq = (db.prepare('select max(queue_seq) as m from runs').get() as { m: number }).m;
    const insert = (table: string, row: Record<string, unknown>) => {
      const cols = Object.keys(row).filter((c) => c !== 'id');
      return db.prepare(
        `insert into ${table} (${cols.join(',')}) values (${cols.map((c) => `@${c}`).join(',')})`,
      );
    };
    const insSession = insert('sessions', tSession);
    const insRun = insert('runs', tRun);
    const insJournal = insert('journal', tJournal[0]!);
    const insEvent = insert('run_events', tEvents[0]!);
    const insOutput = insert('outputs', tOutput);
    const [input, ...rest] = tJournal;
    const call = rest.find(
      (r) => r.kind === 'assistant_message' && String(r.payload).includes('tool_calls":[{'),
    )!;
    const result = rest.find((r) => r.kind === 'tool_result')!;
    const answer = rest.at(-1)!;
    let runs = 0;
    let journal = 0;
    const now = Date.now() - 86_400_000;
    const fill = db.transaction((from: number, to: number) => {
      for (let s = from; s < to; s++) {
        const sid = `seed-${s}`;
        // Every agent has exactly one session (sessions.agent_id is unique).
        const agentId = `agent-seed-${s}`;
        insSession.run({
          ...tSession,
          session_id: sid,
          agent_id: agentId,
          created_at_ms: now + s,
          updated_at_ms: now + s,
        });
        let jseq = 0;
        for (let r = 0; r < opts.runsPerSession; r++) {
          const rid = `run-seed-${s}-${r}`;
          const base = { session_id: sid, run_id: rid };
          insRun.run({ ...tRun, ...base, agent_id: agentId, queue_seq: ++seq, idempotency_key_hash: null });
          const rows = [
            input!,
            ...Array.from({ length: opts.stepsPerRun }, () => [call, result]).flat(),
            answer,
          ];
          for (const row of rows) insJournal.run({ ...row, ...base, seq: ++jseq });
          for (const ev of tEvents) insEvent.run({ ...ev, ...base, agent_id: agentId });
          insOutput.run({ ...tOutput, ...base });
          runs++;
          journal += rows.length;
        }
      }
    });
    for (let s = 0; s < opts.sessions; s += 500) fill(s, Math.min(opts.sessions, s + 500));
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { runs, journal };
  } finally {
    db.close();
  }
}

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const dir = tempDir('kheish-bench-scale-');
  const stateRoot = join(dir, 'state');
  const steps = Array.from({ length: opts.stepsPerRun }, () => ({
    tool_calls: [{ name: 'bench_noop', arguments: {} }],
  }));
  const routesFile = writeScriptedRoutes(dir, { default: { turns: [...steps, { text: 'done' }] } });
  let running: BenchDaemon | undefined;
  const start = async () => {
    running = await startBenchDaemon({ stateRoot, routesFile, readyTimeoutMs: 300_000 });
    return running;
  };
  try {
    let d = await start();
    for (let i = 0; i < 3; i++) {
      const sid = (await mustApi(d.url, 'POST', '/v1/sessions', {})).session_id as string;
      await mustApi(d.url, 'POST', `/v1/sessions/${sid}/input`, { content: 'template' }, [200]);
    }
    await d.stop();
    d = await start();
    await sleep(200);
    const empty = { ready_ms: round(d.readyMs, 1), rss_mib: mib(d.rssKiB()) };
    await d.stop();

    const t0 = performance.now();
    const counts = seed(stateRoot, opts);
    const seedS = (performance.now() - t0) / 1000;

    const readies: number[] = [];
    let rssSeeded = 0;
    for (let i = 0; i < opts.restarts; i++) {
      d = await start();
      readies.push(d.readyMs);
      await sleep(200);
      rssSeeded = d.rssKiB();
      if (i < opts.restarts - 1) await d.stop();
    }
    // Several samples: one call right after ready can be a cold outlier either way.
    const statusSamples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ts = performance.now();
      await mustApi(d.url, 'GET', '/v1/status');
      statusSamples.push(performance.now() - ts);
    }

    // Sessions load lazily: reading some old ones, then creating new idle ones, and what it costs.
    const before = d.rssKiB();
    for (let i = 0; i < opts.touchSessions; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, opts.touchSessions - i) }, (_, k) =>
          api(
            d.url,
            'GET',
            `/v1/sessions/seed-${Math.floor(((i + k) * opts.sessions) / opts.touchSessions)}`,
          ),
        ),
      );
    }
    await sleep(200);
    const afterTouch = d.rssKiB();
    for (let i = 0; i < opts.createSessions; i += 20)
      await Promise.all(
        Array.from({ length: Math.min(20, opts.createSessions - i) }, () =>
          mustApi(d.url, 'POST', '/v1/sessions', {}),
        ),
      );
    await sleep(200);
    const afterCreate = d.rssKiB();
    const tr = performance.now();
    await mustApi(d.url, 'POST', `/v1/sessions/seed-${opts.sessions - 1}/input`, { content: 'again' }, [200]);
    const firstRunMs = performance.now() - tr;
    await d.stop();
    return {
      sessions: opts.sessions,
      runs: counts.runs,
      journal_rows: counts.journal,
      db_mib: mib(statSync(join(stateRoot, 'kheish.sqlite')).size / 1024),
      seed_s: round(seedS, 2),
      empty,
      seeded: {
        ready_ms: round(median(readies), 1),
        ready_ms_runs: readies.map((r) => round(r, 1)),
        rss_mib: mib(rssSeeded),
        status_ms: round(median(statusSamples), 2),
        status_ms_samples: statusSamples.map((ms) => round(ms, 2)),
      },
      rss_per_seeded_session_kib: round((rssSeeded - empty.rss_mib * 1024) / opts.sessions, 3),
      rss_per_touched_session_kib: round((afterTouch - before) / Math.max(1, opts.touchSessions), 3),
      rss_per_created_session_kib: round((afterCreate - afterTouch) / Math.max(1, opts.createSessions), 3),
      first_run_on_old_session_ms: round(firstRunMs, 2),
    };
  } finally {
    await running?.kill();
    removeDir(dir);
  }
}
