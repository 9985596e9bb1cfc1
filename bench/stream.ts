// SSE benchmarks. Latency: S subscribers on one busy session stream while runs are submitted back
// to back (each run: several tool-call steps with streamed text, so the stream carries deltas,
// outputs, run and session updates). Publish time is the daemon's own timestamp in `run_updated`
// frames of status changes (`updated_at_ms`, taken in the committing transaction, integer ms); so
// the figure is commit-start → receive and includes up to 1 ms of timestamp truncation. The
// fan-out spread (receive − first receive of the same id) is exact. Replay: N durable events are
// seeded by cloning real event rows, then read back from a cursor over one global stream.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BenchDaemon, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { mustApi, openSse, type RawFrame, type SseConnection, tailCursor } from './lib/http.ts';
import { round, type Summary, sleep, summarize, wallMs } from './lib/stats.ts';

export interface StreamOptions {
  subscribers: number[];
  windowMs: number;
  maxRuns: number;
  replayEvents: number;
  replayTimeoutMs: number;
}

export interface LatencyLevel {
  subscribers: number;
  runs: number;
  frames_received: number;
  publish_to_receive_ms: Summary;
  fanout_spread_ms: Summary;
}

export interface ReplayResult {
  events: number;
  seconds: number;
  events_per_s: number;
  bytes_per_event: number;
  gap_frames: number;
  /** Reconnections (Last-Event-ID) the client needed to get every event. */
  reconnects: number;
  /** The first stream_gap frame, when the daemon sent one (a cut replay is a finding, not noise). */
  first_gap?: Record<string, unknown>;
}

export interface StreamResult {
  latency: LatencyLevel[];
  replay: ReplayResult;
}

const BUSY_SCRIPT = {
  default: {
    turns: [
      ...Array.from({ length: 3 }, (_, i) => ({
        text: `working on part ${i + 1} of the task`,
        tool_calls: [{ name: 'bench_noop', arguments: { part: i + 1 } }],
      })),
      { text: 'all parts are done' },
    ],
  },
};

async function openAll(url: string, n: number, onFrame: (i: number, f: RawFrame) => void) {
  const conns: SseConnection[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, (_, k) =>
      openSse(url, (f) => onFrame(i + k, f)),
    );
    const statuses = await Promise.all(batch.map((c) => c.status));
    conns.push(...batch);
    if (statuses.some((s) => s !== 200))
      throw new Error(`subscriber refused: ${statuses.find((s) => s !== 200)}`);
  }
  return conns;
}

async function latencyLevel(d: BenchDaemon, subscribers: number, windowMs: number, maxRuns: number) {
  const sid = (await mustApi(d.url, 'POST', '/v1/sessions', {})).session_id as string;
  // Per event id: the publish timestamp (or null when the frame carries none) and the first receive.
  const published = new Map<string, number | null>();
  const firstRecv = new Map<string, number>();
  const seenTransitions = new Set<string>();
  const latencies: number[] = [];
  const spreads: number[] = [];
  let frames = 0;
  let completed = 0;
  let measuring = false;
  const conns = await openAll(
    `${d.url}/v1/sessions/${sid}/stream?cursor=${await tailCursor(d.url)}`,
    subscribers,
    (_i, f) => {
      if (f.id === undefined || f.event === 'heartbeat') return;
      frames++;
      if (!published.has(f.id)) {
        let ts: number | null = null;
        if (f.event === 'run_updated') {
          const run = JSON.parse(f.data).run as { run_id: string; status: string; updated_at_ms: number };
          // Only the first frame of each status carries a fresh timestamp (output updates reuse it).
          const key = `${run.run_id}:${run.status}`;
          if (!seenTransitions.has(key)) {
            seenTransitions.add(key);
            ts = run.updated_at_ms;
          }
          if (run.status === 'completed') completed++;
        }
        published.set(f.id, ts);
        firstRecv.set(f.id, f.recvMs);
      }
      if (!measuring) return;
      const ts = published.get(f.id);
      if (ts != null) latencies.push(f.recvMs - ts);
      spreads.push(f.recvMs - firstRecv.get(f.id)!);
    },
  );
  try {
    measuring = true;
    const end = wallMs() + windowMs;
    let runs = 0;
    while (wallMs() < end && runs < maxRuns) {
      const target = completed + 1;
      await mustApi(d.url, 'POST', `/v1/sessions/${sid}/runs`, { content: `busy run ${runs}` });
      runs++;
      const deadline = Date.now() + 60_000;
      while (completed < target && Date.now() < deadline) await sleep(1);
    }
    // Let the last frames reach every subscriber.
    await sleep(Math.min(2000, 50 + subscribers * 2));
    measuring = false;
    return {
      subscribers,
      runs,
      frames_received: frames,
      publish_to_receive_ms: summarize(latencies),
      fanout_spread_ms: summarize(spreads),
    };
  } finally {
    for (const c of conns) c.close();
  }
}

/** Clones the event rows of a few real runs until the log holds `n` rows (daemon stopped). */
function seedEvents(stateRoot: string, n: number): void {
  const db = new Database(join(stateRoot, 'kheish.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    const count = () => (db.prepare('select count(*) as n from events').get() as { n: number }).n;
    const clone = db.prepare(
      'insert into events (name, session_id, run_id, created_at_ms, data) select name, session_id, run_id, created_at_ms, data from events order by id limit ?',
    );
    for (let have = count(); have < n; have = count()) clone.run(Math.min(have, n - have));
  } finally {
    db.close();
  }
}

async function replay(opts: StreamOptions, dir: string): Promise<ReplayResult> {
  const stateRoot = join(dir, 'replay-state');
  const routesFile = writeScriptedRoutes(dir, BUSY_SCRIPT);
  const args = ['--event-history-capacity', '262144'];
  let d = await startBenchDaemon({ stateRoot, routesFile, args });
  try {
    for (let i = 0; i < 5; i++) {
      const sid = (await mustApi(d.url, 'POST', '/v1/sessions', {})).session_id as string;
      await mustApi(d.url, 'POST', `/v1/sessions/${sid}/input`, { content: 'seed' }, [200]);
    }
    await d.stop();
    seedEvents(stateRoot, opts.replayEvents);
    d = await startBenchDaemon({ stateRoot, routesFile, args });
    let events = 0;
    let bytes = 0;
    let gaps = 0;
    let reconnects = 0;
    let firstGap: Record<string, unknown> | undefined;
    let lastId = '0';
    let doneAt = 0;
    const t0 = performance.now();
    // A well-behaved client: when the stream ends early it reconnects with Last-Event-ID.
    while (events < opts.replayEvents && performance.now() - t0 < opts.replayTimeoutMs) {
      const conn = openSse(
        `${d.url}/v1/events/stream`,
        (f) => {
          if (f.event === 'stream_gap') {
            gaps++;
            firstGap ??= { ...JSON.parse(f.data), after_events: events };
          }
          if (f.id === undefined || f.event === 'heartbeat') return;
          lastId = f.id;
          if (f.event === 'stream_gap') return;
          events++;
          bytes += f.data.length;
          if (events >= opts.replayEvents && doneAt === 0) {
            doneAt = performance.now();
            conn.close();
          }
        },
        { 'last-event-id': lastId },
      );
      const timer = setTimeout(
        () => conn.close(),
        Math.max(1, opts.replayTimeoutMs - (performance.now() - t0)),
      );
      await conn.ended;
      clearTimeout(timer);
      if (events < opts.replayEvents) reconnects++;
    }
    const seconds = ((doneAt || performance.now()) - t0) / 1000;
    return {
      events,
      seconds: round(seconds, 3),
      events_per_s: round(events / seconds, 0),
      bytes_per_event: round(bytes / Math.max(1, events), 0),
      gap_frames: gaps,
      reconnects,
      ...(firstGap ? { first_gap: firstGap } : {}),
    };
  } finally {
    await d.stop();
  }
}

export async function runStream(opts: StreamOptions): Promise<StreamResult> {
  const dir = tempDir('kheish-bench-stream-');
  try {
    const d = await startBenchDaemon({
      stateRoot: join(dir, 'state'),
      routesFile: writeScriptedRoutes(dir, BUSY_SCRIPT),
    });
    const latency: LatencyLevel[] = [];
    try {
      for (const s of opts.subscribers) latency.push(await latencyLevel(d, s, opts.windowMs, opts.maxRuns));
    } finally {
      await d.stop();
    }
    return { latency, replay: await replay(opts, dir) };
  } finally {
    removeDir(dir);
  }
}
