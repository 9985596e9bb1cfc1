// The invariant checker of the reliability harness. It takes a snapshot of a daemon (over HTTP,
// plus a read-only look at the SQLite journal) and runs a list of checks on it; each check returns
// the violations it found. Later features add checks to INVARIANTS (e.g. "no approval resolved
// twice" once approvals exist: read them into the snapshot, add one entry) without touching the
// loops that call `checkInvariants`.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api } from '../crash/crash-kit.ts';
import type { SseFrame } from '../helpers/daemon.ts';
import { KINDS, kindOf } from './scripts.ts';
import { readSse } from './sse.ts';

export type Status =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_question'
  | 'completed'
  | 'failed'
  | 'interrupted'
  | 'cancelled';

import { LEGAL } from '../helpers/run-states-oracle.ts';

export { LEGAL };
export const TERMINAL: readonly Status[] = ['completed', 'failed', 'interrupted', 'cancelled'];

/** Run-event types that mean a status was reached; other types (output, …) carry no status. */
export const STATUS_OF_EVENT: Record<string, Status> = {
  queued: 'queued',
  started: 'running',
  resumed: 'running',
  waiting_for_approval: 'waiting_for_approval',
  waiting_for_user_question: 'waiting_for_user_question',
  completed: 'completed',
  failed: 'failed',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
};

export const legal = (from: Status, to: Status): boolean =>
  from === to || LEGAL[from].includes(to) || (from === 'running' && to === 'queued'); // restart recovery

export interface Snapshot {
  url: string;
  status: any;
  runs: Map<string, any>;
  /** Persisted run events (`event` objects), per run, oldest first. */
  runEvents: Map<string, any[]>;
  /** The global SSE log replayed from cursor 0. */
  sse: SseFrame[];
  /** Journal rows of every run (kind + parsed payload), by run, in seq order. */
  journal: Map<string, Array<{ kind: string; payload: any }>>;
  /** Runs already checked terminal in an earlier snapshot: final, so not fetched or checked again. */
  verified: ReadonlySet<string>;
}

export interface SnapshotOptions {
  verified?: ReadonlySet<string>;
  /** Replay the global stream from this cursor (default 0: the whole history). */
  sseFrom?: string;
}

export interface Ledger {
  /** Runs the daemon acknowledged with a 202 (or returned from an idempotent resubmit). */
  acked: Set<string>;
}

export interface Invariant {
  name: string;
  check(s: Snapshot, ledger: Ledger): string[];
}

export async function snapshot(
  url: string,
  stateRoot: string,
  opts: SnapshotOptions = {},
): Promise<Snapshot> {
  const verified = opts.verified ?? new Set<string>();
  const status = (await api(url, 'GET', '/v1/status')).body;
  const list = await api(url, 'GET', '/v1/runs');
  if (list.status !== 200) throw new Error(`GET /v1/runs → ${list.status}: ${list.text}`);
  const runs = new Map<string, any>((list.body as any[]).map((r) => [r.run_id, r]));
  const runEvents = new Map<string, any[]>();
  const sessions = new Set(
    [...runs.values()].filter((r) => !verified.has(r.run_id)).map((r) => r.session_id as string),
  );
  for (const sid of sessions) {
    const res = await api(url, 'GET', `/v1/sessions/${encodeURIComponent(sid)}/events`);
    if (res.status !== 200) throw new Error(`session events ${sid} → ${res.status}: ${res.text}`);
    for (const e of res.body.run_events as any[])
      runEvents.set(e.run_id, [...(runEvents.get(e.run_id) ?? []), e.event]);
  }
  const tail = BigInt(status.events?.tail_event_id_cursor ?? '0');
  const from = opts.sseFrom ?? '0';
  const sse =
    BigInt(from) >= tail
      ? []
      : (await readSse(`${url}/v1/events/stream?cursor=${from}`, { untilId: tail, timeoutMs: 30_000 }))
          .frames;
  return { url, status, runs, runEvents, sse, journal: readJournal(stateRoot), verified };
}

/** Runs of a snapshot that are terminal: later snapshots may skip them. */
export const terminalRuns = (s: Snapshot): string[] =>
  [...s.runs.values()].filter((r) => TERMINAL.includes(r.status)).map((r) => r.run_id);

function readJournal(stateRoot: string): Snapshot['journal'] {
  const db = new Database(join(stateRoot, 'kheish.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const out: Snapshot['journal'] = new Map();
    const rows = db
      .prepare('select run_id, kind, payload from journal order by session_id, seq')
      .all() as Array<{
      run_id: string | null;
      kind: string;
      payload: string;
    }>;
    for (const r of rows) {
      if (r.run_id === null) continue;
      const list = out.get(r.run_id) ?? [];
      list.push({ kind: r.kind, payload: JSON.parse(r.payload) });
      out.set(r.run_id, list);
    }
    return out;
  } finally {
    db.close();
  }
}

const count = <T>(xs: T[], x: T) => xs.filter((y) => y === x).length;

export const INVARIANTS: Invariant[] = [
  {
    name: 'every acknowledged run exists',
    check: (s, l) =>
      [...l.acked].filter((id) => !s.runs.has(id)).map((id) => `acknowledged run ${id} is missing`),
  },
  {
    name: 'run events follow the transition table',
    check: (s) => {
      const out: string[] = [];
      for (const [id, run] of s.runs) {
        if (s.verified.has(id)) continue;
        const types = (s.runEvents.get(id) ?? []).map((e) => String(e.type));
        const where = `run ${id} (${run.status}) events [${types.join(',')}]`;
        if (types[0] !== 'accepted' || types[1] !== 'queued')
          out.push(`${where}: must start accepted, queued`);
        if (count(types, 'accepted') !== 1) out.push(`${where}: accepted ${count(types, 'accepted')} times`);
        let cur: Status | null = null;
        for (const t of types) {
          const next = STATUS_OF_EVENT[t];
          if (cur && TERMINAL.includes(cur)) out.push(`${where}: ${t} after terminal ${cur}`);
          if (!next) continue;
          if (cur && !legal(cur, next)) out.push(`${where}: illegal ${cur} → ${next}`);
          cur = next;
        }
        if (cur !== run.status) out.push(`${where}: view says ${run.status}, events end at ${cur}`);
      }
      return out;
    },
  },
  {
    name: 'SSE run_updated frames follow the transition table',
    check: (s) => {
      const last = new Map<string, Status>();
      const out: string[] = [];
      for (const f of s.sse) {
        if (f.event !== 'run_updated') continue;
        const { run_id, status } = f.data.run as { run_id: string; status: Status };
        const prev = last.get(run_id);
        if (prev && !legal(prev, status)) out.push(`run ${run_id}: SSE ${prev} → ${status} at id ${f.id}`);
        last.set(run_id, status);
      }
      for (const [id, st] of last)
        if (s.runs.get(id) && s.runs.get(id).status !== st)
          out.push(`run ${id}: last SSE status ${st}, view says ${s.runs.get(id).status}`);
      return out;
    },
  },
  {
    name: 'event ids strictly increase, no duplicates, no gaps on replay',
    check: (s) => {
      const out: string[] = [];
      let prev = -1n;
      for (const f of s.sse) {
        if (f.event === 'stream_gap') out.push(`replay from 0 has a stream_gap: ${JSON.stringify(f.data)}`);
        if (f.id === undefined) continue;
        const id = BigInt(f.id);
        if (id <= prev) out.push(`SSE id ${id} after ${prev}`);
        prev = id;
      }
      return out;
    },
  },
  {
    name: 'no tool call has two results',
    check: (s) => {
      const out: string[] = [];
      for (const [runId, rows] of s.journal) {
        const results = rows
          .filter((r) => r.kind === 'tool_result')
          .map((r) => String(r.payload.tool_call_id));
        const started = rows
          .filter((r) => r.kind === 'tool_call_started')
          .map((r) => String(r.payload.tool_call_id));
        for (const id of new Set(results))
          if (count(results, id) > 1)
            out.push(`run ${runId}: tool call ${id} has ${count(results, id)} results`);
        for (const id of new Set(started))
          if (count(started, id) > 1)
            out.push(`run ${runId}: tool call ${id} started ${count(started, id)} times`);
      }
      return out;
    },
  },
  {
    name: 'a completed run produced exactly its scripted outputs (nothing twice)',
    check: (s) => {
      const out: string[] = [];
      for (const [id, run] of s.runs) {
        const kind = kindOf(run.request?.text_preview);
        if (run.status !== 'completed' || !kind) continue;
        const got = (run.outputs ?? []).map((o: any) => o.content);
        const want = KINDS[kind].outputs;
        if (JSON.stringify(got) !== JSON.stringify(want))
          out.push(`run ${id} (${kind}): outputs ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
      return out;
    },
  },
  {
    name: 'one active run per session',
    check: (s) => {
      const active = new Map<string, string[]>();
      for (const r of s.runs.values())
        if (!TERMINAL.includes(r.status) && r.status !== 'queued')
          active.set(r.session_id, [...(active.get(r.session_id) ?? []), r.run_id]);
      return [...active]
        .filter(([, ids]) => ids.length > 1)
        .map(([sid, ids]) => `session ${sid}: active ${ids}`);
    },
  },
];

/** Runs every invariant; returns the violations prefixed by the invariant's name. */
export function checkInvariants(s: Snapshot, ledger: Ledger, extra: Invariant[] = []): string[] {
  return [...INVARIANTS, ...extra].flatMap((inv) => inv.check(s, ledger).map((v) => `[${inv.name}] ${v}`));
}
