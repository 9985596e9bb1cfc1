// The tail of each session's journal, kept in memory in step with commits, so that a step costs
// the same in a session's thousandth run as in its first: the next `seq` comes from a counter
// (no max(seq) query before an insert), and the context the model sees comes from a bounded
// window (the latest compaction summary and at most `CONTEXT_MAX_ENTRIES` entries after what it
// covers) that is read once and then extended by each commit, not re-read per turn.
// Valid as such when this process is the only writer (the SQLite state root lock). With replicas
// on PostgreSQL (`shared`), another replica may append to a session too: the next seq is then read
// under the write lock (store.ts) and a window catches up with what others appended before use.
import { insertJournalRows, type JournalEntry, journalAfter, readWindow } from './repos/journal.ts';
import type { Db } from './schema.ts';
import type { WriteTx } from './store.ts';

/** Entries the model sees at most when no compaction summary covers them (docs/decisions.md). */
export const CONTEXT_MAX_ENTRIES = positiveInt(process.env.KHEISH_CONTEXT_MAX_ENTRIES, 1000);
/** Sessions whose window stays in memory (least recently used dropped first). */
const WINDOW_SESSIONS = 256;
/** Sessions whose last seq stays in memory. */
const SEQ_SESSIONS = 50_000;

export interface JournalInput {
  kind: string;
  payload: Record<string, unknown>;
}

export class JournalTails {
  private readonly db: Db;
  /** Last seq handed out per session (committed, or pending in the open group). */
  private readonly seqs = new Map<string, number>();
  private readonly windows = new Map<string, SessionWindow>();
  private readonly shared: boolean;

  constructor(db: Db, opts: { shared?: boolean } = {}) {
    this.db = db;
    this.shared = opts.shared ?? false;
  }

  /** Appends entries to a session's journal in `tx`; the window follows once it commits. */
  async append(
    tx: WriteTx,
    sessionId: string,
    runId: string | null,
    inputs: JournalInput[],
  ): Promise<JournalEntry[]> {
    if (inputs.length === 0) return [];
    let last = this.shared ? undefined : this.seqs.get(sessionId);
    if (last === undefined) last = await maxSeq(tx, sessionId);
    this.remember(this.seqs, sessionId, last + inputs.length, SEQ_SESSIONS);
    // A rolled-back writer leaves the counter unknown: the next append asks the database again.
    tx.onRollback(() => this.seqs.delete(sessionId));
    const entries: JournalEntry[] = inputs.map((e, i) => ({
      session_id: sessionId,
      seq: last + i + 1,
      run_id: runId,
      kind: e.kind,
      created_at_ms: tx.now,
      payload: e.payload,
    }));
    await insertJournalRows(tx.db, entries);
    tx.afterCommit(() => this.windows.get(sessionId)?.add(entries));
    return entries;
  }

  /** The session's context window: read once, then kept current by every commit. */
  async window(sessionId: string): Promise<readonly JournalEntry[]> {
    let w = this.windows.get(sessionId);
    if (!w) {
      w = new SessionWindow();
      this.remember(this.windows, sessionId, w, WINDOW_SESSIONS);
      // Registered before the read: entries committed while it runs are buffered, not lost.
      w.load(readWindow(this.db, sessionId, CONTEXT_MAX_ENTRIES)).catch(() => this.windows.delete(sessionId));
    } else {
      this.remember(this.windows, sessionId, w, WINDOW_SESSIONS);
      if (this.shared) await w.catchUp((after) => journalAfter(this.db, sessionId, after));
    }
    return w.entries();
  }

  private remember<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > cap) map.delete(map.keys().next().value as string);
  }
}

async function maxSeq(tx: WriteTx, sessionId: string): Promise<number> {
  const r = await tx.db
    .selectFrom('journal')
    .select((eb) => eb.fn.max('seq').as('max'))
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  return Number(r?.max ?? 0);
}

/**
 * The latest compaction boundary (if any) and the entries after what it covers, in seq order,
 * at most CONTEXT_MAX_ENTRIES besides the boundary, never starting with an orphan tool result.
 */
class SessionWindow {
  private list: JournalEntry[] = [];
  private buffered: JournalEntry[] | null = [];
  private ready: Promise<void> = Promise.resolve();

  load(rows: Promise<JournalEntry[]>): Promise<void> {
    this.ready = rows.then((loaded) => {
      const lastLoaded = loaded.length ? loaded[loaded.length - 1]!.seq : 0;
      const late = (this.buffered ?? []).filter((e) => e.seq > lastLoaded);
      this.buffered = null;
      this.add([...loaded, ...late]);
    });
    return this.ready;
  }

  /** Adds what was committed after the newest entry held (by another replica). */
  async catchUp(read: (afterSeq: number) => Promise<JournalEntry[]>): Promise<void> {
    await this.ready;
    const newest = this.list.reduce((m, e) => Math.max(m, e.seq), 0);
    const missing = await read(newest);
    // Entries this process committed meanwhile arrive through add() too: keep each seq once.
    const held = this.list.reduce((m, e) => Math.max(m, e.seq), 0);
    this.add(missing.filter((e) => e.seq > held));
  }

  async entries(): Promise<readonly JournalEntry[]> {
    await this.ready;
    return this.list;
  }

  add(entries: JournalEntry[]): void {
    if (this.buffered) {
      this.buffered.push(...entries);
      return;
    }
    if (entries.length === 0) return;
    // A new array, so a caller holding the previous one (a model call in flight) is unaffected.
    let next = [...this.list, ...entries];
    const boundary = latestBoundary(next);
    if (boundary) next = next.filter((e) => e === boundary.entry || e.seq > boundary.uptoSeq);
    this.list = capWindow(next, boundary?.entry ?? null);
  }
}

function latestBoundary(entries: JournalEntry[]): { entry: JournalEntry; uptoSeq: number } | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.kind === 'compaction_boundary') return { entry: e, uptoSeq: Number(e.payload.upto_seq) };
  }
  return null;
}

/** Drops the oldest entries beyond the cap (the boundary always stays), then any leading tool results. */
export function capWindow(entries: JournalEntry[], boundary: JournalEntry | null): JournalEntry[] {
  const others = boundary ? entries.filter((e) => e !== boundary) : entries;
  if (others.length <= CONTEXT_MAX_ENTRIES && others[0]?.kind !== 'tool_result') return entries;
  let start = Math.max(0, others.length - CONTEXT_MAX_ENTRIES);
  while (start < others.length && others[start]!.kind === 'tool_result') start++;
  const kept = others.slice(start);
  if (!boundary) return kept;
  const at = kept.findIndex((e) => e.seq > boundary.seq);
  return at < 0 ? [...kept, boundary] : [...kept.slice(0, at), boundary, ...kept.slice(at)];
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
