// `sessions vacuum <id>` and `kheish-daemon vacuum`: offline compaction under the state-root lock
// (ops-runtime §12, §17, #43). What a journal keeps is everything the daemon can still load or
// show; what goes is only what a compaction checkpoint already replaced (decision #547):
// - journal entries at or before the latest `compaction_boundary`'s `upto_seq`, of runs that are
//   terminal; `input_received` entries (derivations read them) and the latest boundary itself
//   stay; older boundaries are superseded by it. The model's context (readWindow) is unchanged.
// - the dropped entries are written first, fsynced, to `<state_root>/vacuum-bak/<session>.jsonl`
//   (the spec's `.vacuum-bak`); a second vacuum refuses while that file exists.
// - `vacuum` also applies the event-log retention the live daemon applies (the newest
//   --keep-events events stay; a replay from before them gets `stream_gap`), then VACUUMs the
//   SQLite file so the freed pages go back to the file system.
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { sseIdOf } from '../store/event-log.ts';
import { TERMINAL_STATUSES } from '../store/repos/runs.ts';
import type { Store } from '../store/store.ts';
import { OPS_EXIT, OpsError } from './errors.ts';
import { fsyncDir, writeDurable } from './files.ts';
import { lockForMaintenance } from './state-lock.ts';

export const DEFAULT_KEEP_EVENTS = 2048;

export interface SessionVacuumReport {
  session_id: string;
  /** Journal payload bytes of the session before and after. */
  bytes_before: number;
  bytes_after: number;
  kept_by_type: Record<string, number>;
  dropped_by_type: Record<string, number>;
  /** The SQL store keeps metadata as rows updated in place: nothing superseded to drop (#548). */
  metadata_keys_kept: number;
  metadata_records_dropped: number;
  /** Transactions leave no torn tail (#548). */
  torn_tail_dropped: boolean;
  /** The dropped entries, one JSON line each; null when nothing was dropped. */
  backup_path: string | null;
}

export interface VacuumReport {
  state_root: string;
  dialect: 'sqlite' | 'postgres';
  /** Database bytes on disk (SQLite file + WAL); null on PostgreSQL. */
  bytes_before: number | null;
  bytes_after: number | null;
  sessions: SessionVacuumReport[];
  journal_entries_dropped: number;
  events_dropped: number;
  events_retained: number;
  /** SSE id of the oldest event still replayable ("0" when the log is empty). */
  oldest_replayable_event_id: string;
}

export interface VacuumOptions {
  stateRoot: string;
  databaseUrl?: string | null;
  signal?: AbortSignal;
}

/** Opens the store of a stopped daemon under its lock; refuses while a daemon holds the root. */
async function withMaintenanceStore<T>(
  o: VacuumOptions,
  command: string,
  fn: (store: Store, root: string) => Promise<T>,
): Promise<T> {
  const root = resolve(o.stateRoot);
  if (!o.databaseUrl && !existsSync(join(root, 'kheish.sqlite')))
    throw new OpsError(
      `no daemon state at ${root} (kheish.sqlite is missing)`,
      "pass the daemon's --state-root",
    );
  const lock = lockForMaintenance(root, command);
  try {
    const { Store } = await import('../store/store.ts');
    const store = await Store.open({ stateRoot: root, databaseUrl: o.databaseUrl ?? null });
    try {
      return await fn(store, root);
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
}

export function vacuumSession(o: VacuumOptions & { sessionId: string }): Promise<SessionVacuumReport> {
  return withMaintenanceStore(o, 'sessions vacuum', async (store, root) => {
    const known = await store.db
      .selectFrom('sessions')
      .select('session_id')
      .where('session_id', '=', o.sessionId)
      .executeTakeFirst();
    if (!known)
      throw new OpsError(
        `no session ${o.sessionId} in ${root}`,
        'list sessions with `kheish-daemon sessions list` (daemon running)',
        OPS_EXIT.notFound,
      );
    refuseExistingBackups(root, [o.sessionId]);
    const report = await compactSession(store, root, o.sessionId, o.signal);
    if (store.dialect === 'sqlite') await reclaim(store);
    return report;
  });
}

export function vacuumStateRoot(o: VacuumOptions & { keepEvents?: number }): Promise<VacuumReport> {
  const keep = o.keepEvents ?? DEFAULT_KEEP_EVENTS;
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new OpsError('--keep-events must be a whole number of at least 1');
  return withMaintenanceStore(o, 'vacuum', async (store, root) => {
    const before = databaseBytes(store, root);
    const ids = (
      await store.db
        .selectFrom('journal')
        .select('session_id')
        .distinct()
        .where('kind', '=', 'compaction_boundary')
        .orderBy('session_id')
        .execute()
    ).map((r) => r.session_id);
    refuseExistingBackups(root, ids);
    const sessions: SessionVacuumReport[] = [];
    for (const id of ids) {
      const r = await compactSession(store, root, id, o.signal);
      if (r.backup_path) sessions.push(r);
    }
    o.signal?.throwIfAborted();
    const events = await pruneEvents(store, keep);
    if (store.dialect === 'sqlite') await reclaim(store);
    else await sql`VACUUM (ANALYZE) journal, events`.execute(store.db);
    return {
      state_root: root,
      dialect: store.dialect,
      bytes_before: before,
      bytes_after: databaseBytes(store, root),
      sessions,
      journal_entries_dropped: sessions.reduce((n, s) => n + sum(s.dropped_by_type), 0),
      ...events,
    };
  });
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

const backupPathOf = (root: string, sessionId: string) =>
  join(root, 'vacuum-bak', `${encodeURIComponent(sessionId)}.jsonl`);

function refuseExistingBackups(root: string, sessionIds: string[]): void {
  const existing = sessionIds.map((id) => backupPathOf(root, id)).filter((p) => existsSync(p));
  if (existing.length > 0)
    throw new OpsError(
      `an earlier vacuum's backup is still there: ${existing.join(', ')}`,
      'check the daemon runs well since that vacuum, delete the file(s), then vacuum again',
      OPS_EXIT.conflict,
    );
}

async function compactSession(
  store: Store,
  root: string,
  sessionId: string,
  signal?: AbortSignal,
): Promise<SessionVacuumReport> {
  signal?.throwIfAborted();
  const db = store.db;
  const bytesOf = async () =>
    Number(
      (
        await db
          .selectFrom('journal')
          .select(sql<number>`coalesce(sum(length(payload)), 0)`.as('n'))
          .where('session_id', '=', sessionId)
          .executeTakeFirst()
      )?.n ?? 0,
    );
  const bytesBefore = await bytesOf();
  const boundary = await db
    .selectFrom('journal')
    .select(['seq', 'payload'])
    .where('session_id', '=', sessionId)
    .where('kind', '=', 'compaction_boundary')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const upto = boundary ? Number((JSON.parse(boundary.payload) as { upto_seq?: unknown }).upto_seq) : 0;
  const dropped =
    boundary && Number.isSafeInteger(upto)
      ? await db
          .selectFrom('journal')
          .selectAll()
          .where('session_id', '=', sessionId)
          .where('seq', '<=', upto)
          .where('seq', '<', Number(boundary.seq))
          .where('kind', '<>', 'input_received')
          .where('run_id', 'in', (eb) =>
            eb
              .selectFrom('runs')
              .select('run_id')
              .where('status', 'in', [...TERMINAL_STATUSES]),
          )
          .orderBy('seq')
          .execute()
      : [];
  let backupPath: string | null = null;
  if (dropped.length > 0) {
    backupPath = backupPathOf(root, sessionId);
    await mkdir(join(root, 'vacuum-bak'), { recursive: true, mode: 0o700 });
    // Durable before a single row goes: the entries can always be read back.
    await writeDurable(
      backupPath,
      dropped.map((r) => `${JSON.stringify({ ...r, seq: Number(r.seq) })}\n`).join(''),
    );
    await fsyncDir(join(root, 'vacuum-bak'));
    try {
      await store.write(async (tx) => {
        for (let i = 0; i < dropped.length; i += 500) {
          const seqs = dropped.slice(i, i + 500).map((r) => Number(r.seq));
          await tx.db
            .deleteFrom('journal')
            .where('session_id', '=', sessionId)
            .where('seq', 'in', seqs)
            .execute();
        }
      });
    } catch (err) {
      await rm(backupPath, { force: true });
      throw err;
    }
  }
  const kept = await db
    .selectFrom('journal')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('session_id', '=', sessionId)
    .groupBy('kind')
    .execute();
  const droppedByType: Record<string, number> = {};
  for (const r of dropped) droppedByType[r.kind] = (droppedByType[r.kind] ?? 0) + 1;
  return {
    session_id: sessionId,
    bytes_before: bytesBefore,
    bytes_after: await bytesOf(),
    kept_by_type: Object.fromEntries(kept.map((r) => [r.kind, Number(r.n)])),
    dropped_by_type: droppedByType,
    metadata_keys_kept: 0,
    metadata_records_dropped: 0,
    torn_tail_dropped: false,
    backup_path: backupPath,
  };
}

/** The live daemon's retention (event-log.ts maybePrune), applied once: the newest `keep` stay. */
async function pruneEvents(store: Store, keep: number) {
  const max = Number(
    (
      await store.db
        .selectFrom('events')
        .select((eb) => eb.fn.max('id').as('m'))
        .executeTakeFirst()
    )?.m ?? 0,
  );
  const cutoff = max - keep;
  let dropped = 0;
  if (cutoff > 0)
    dropped = await store.write(async (tx) => {
      const r = await tx.db.deleteFrom('events').where('id', '<=', cutoff).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  const left = await store.db
    .selectFrom('events')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('id').as('min')])
    .executeTakeFirst();
  return {
    events_dropped: dropped,
    events_retained: Number(left?.n ?? 0),
    oldest_replayable_event_id: left?.min == null ? '0' : sseIdOf(Number(left.min)).toString(),
  };
}

/** Checkpoints the WAL and rewrites the file without its free pages. */
async function reclaim(store: Store): Promise<void> {
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db);
  await sql`VACUUM`.execute(store.db);
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db);
}

function databaseBytes(store: Store, root: string): number | null {
  if (store.dialect !== 'sqlite') return null;
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return size(join(root, 'kheish.sqlite')) + size(join(root, 'kheish.sqlite-wal'));
}
