// The durable event log behind every SSE stream.
// Rows get a database sequence number; the SSE id is that number shifted left by SUB_BITS, which
// leaves room for live-only frames (token deltas) between two durable events without ever
// reusing or rewinding an id. Replay reads rows after a cursor; live fan-out happens after commit.
import { EventFeed, type FeedRow } from './postgres/event-feed.ts';
import type { Executor } from './schema.ts';
import type { Store, WriteTx } from './store.ts';

export const SUB_BITS = 20n;
const SUB_LIMIT = (1n << SUB_BITS) - 1n;

export const EVENT_NAMES = [
  'trace',
  'session_state_changed',
  'session_snapshot',
  'output',
  'run_updated',
  'session_goal_updated',
  'interrupted',
  'runtime_updated',
  'heartbeat',
  'stream_gap',
  'task_created',
  'task_updated',
  'task_completed',
  'derivation_recorded',
  // A runtime connector was created, changed or deleted (its kind, name and the action; no settings).
  'connector_updated',
  // Channels: one name for every change of a channel's public log (its `kind` says which).
  'channel_event',
  // Boards: an accepted revision (board id, revision id, sequence, parent; no state content).
  'board_revision_created',
  // Assets: an import that made a new asset, or a delete (id, media type, digest, size; no name).
  'asset_updated',
  // Learnings: a candidate or a learning changed (ids, state or status, scope and kind; no content).
  'learning_candidate_updated',
  'learning_updated',
  // Promoted procedural skills: a record's status or rollout evidence changed (names and counts only).
  'learning_skill_updated',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

export interface EventInput {
  name: EventName;
  session_id?: string | null;
  run_id?: string | null;
  /** The frame payload without `type` (added on render). */
  data: Record<string, unknown>;
}

export interface BusEvent {
  /** SSE id (decimal string on the wire). */
  id: bigint;
  /** Database row id; absent for live-only frames. */
  rowId?: number;
  name: EventName;
  session_id: string | null;
  run_id: string | null;
  data: Record<string, unknown>;
  /** `data` as stored (JSON text), for durable events: the SSE frame is built from this text. */
  json?: string;
  /** The rendered SSE frame, filled on first render (src/http/sse-frame.ts) and then shared. */
  frame?: string;
}

/** A durable event as replay needs it: no parsed payload, only its stored JSON text. */
export interface StoredEvent {
  rowId: number;
  name: EventName;
  json: string;
}

export interface EventFilter {
  session_id?: string;
  run_id?: string;
}

const RUN_SCOPED_NAMES = ['trace', 'output', 'run_updated'] as const satisfies readonly EventName[];
const RUN_SCOPED: ReadonlySet<EventName> = new Set(RUN_SCOPED_NAMES);

export function matchesFilter(ev: Pick<BusEvent, 'name' | 'session_id' | 'run_id'>, f: EventFilter): boolean {
  if (f.run_id !== undefined) {
    if (!RUN_SCOPED.has(ev.name) || ev.run_id !== f.run_id) return false;
  }
  if (f.session_id !== undefined && ev.session_id !== f.session_id) return false;
  if ((f.run_id !== undefined || f.session_id !== undefined) && ev.name === 'runtime_updated') return false;
  return true;
}

/**
 * The stored text of an event payload: its JSON, except that a payload's own `type` (which wins
 * over the event name in the frame, see src/http/sse-frame.ts) is written as the first key, so a
 * frame can be spliced from the text without parsing it. (A `type` that JSON cannot represent,
 * e.g. undefined, is left out and the frame's type is the event name.)
 */
export function payloadJson(data: Record<string, unknown>): string {
  if (!Object.hasOwn(data, 'type')) return JSON.stringify(data);
  const { type, ...rest } = data;
  const typeJson = JSON.stringify(type) as string | undefined;
  const restJson = JSON.stringify(rest);
  if (typeJson === undefined) return restJson;
  return restJson.length <= 2 ? `{"type":${typeJson}}` : `{"type":${typeJson},${restJson.slice(1)}`;
}

export const rowIdOf = (sseId: bigint): number => Number(sseId >> SUB_BITS);
export const sseIdOf = (rowId: number): bigint => BigInt(rowId) << SUB_BITS;

type Listener = (ev: BusEvent) => void;

/** Rows per INSERT: far below SQLite's bound-parameter limit (5 per row). */
const APPEND_CHUNK_ROWS = 500;

export class EventLog {
  private readonly store: Store;
  readonly capacity: number;
  private readonly listeners = new Set<Listener>();
  private lastRowId = 0;
  private sub = 0n;
  private appendsSincePrune = 0;
  /** PostgreSQL: delivery goes through the shared feed, so every replica sees every commit in order. */
  private feed: EventFeed | null = null;
  counters = { appended: 0, live_only: 0, replayed: 0, replay_gaps: 0, lagged: 0 };

  constructor(store: Store, capacity: number) {
    this.store = store;
    this.capacity = capacity;
  }

  async init(): Promise<void> {
    const row = await this.store.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    this.lastRowId = Number(row?.max ?? 0);
    if (this.store.postgres) {
      this.feed = new EventFeed(this.store.postgres, this.lastRowId, (rows) => this.deliverFeed(rows));
      await this.feed.start();
    }
  }

  /** Stops the cross-replica feed (PostgreSQL). */
  async close(): Promise<void> {
    await this.feed?.stop();
  }

  /** The LISTEN connection's state and read failures (PostgreSQL), for /v1/status. */
  get feedState(): { connected: boolean; errors: number } | null {
    return this.feed ? { connected: this.feed.connected, errors: this.feed.errors } : null;
  }

  private deliverFeed(rows: FeedRow[]): void {
    for (const r of rows) {
      const rowId = Number(r.id);
      this.deliver({
        id: sseIdOf(rowId),
        rowId,
        name: r.name as EventName,
        session_id: r.session_id,
        run_id: r.run_id,
        data: JSON.parse(r.data),
        json: r.data,
      });
    }
    this.counters.appended += rows.length;
    this.maybePrune(rows.length);
  }

  /** Inserts events inside the caller's transaction; subscribers get them after commit. */
  async append(tx: WriteTx, inputs: EventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    // Serialized once: the stored text is also what live subscribers and replay render from.
    const values = inputs.map((input) => ({
      name: input.name,
      session_id: input.session_id ?? null,
      run_id: input.run_id ?? null,
      created_at_ms: tx.now,
      data: payloadJson(input.data),
    }));
    // One statement for the batch (a step's events). Rows take their ids in VALUES order on both
    // dialects, but RETURNING need not list them in that order: sorted, they map back to inputs.
    const ids: number[] = [];
    for (let at = 0; at < values.length; at += APPEND_CHUNK_ROWS) {
      const chunk = values.slice(at, at + APPEND_CHUNK_ROWS);
      const inserted = await tx.db.insertInto('events').values(chunk).returning('id').execute();
      ids.push(...inserted.map((r) => Number(r.id)).sort((a, b) => a - b));
    }
    const rows: BusEvent[] = inputs.map((input, i) => ({
      id: sseIdOf(ids[i]!),
      rowId: ids[i]!,
      name: input.name,
      session_id: values[i]!.session_id,
      run_id: values[i]!.run_id,
      data: input.data,
      json: values[i]!.data,
    }));
    tx.markEvents();
    tx.afterCommit(() => {
      if (this.feed) {
        // Delivered by the feed, in id order with what other replicas committed.
        this.feed.poke();
        return;
      }
      for (const ev of rows) this.deliver(ev);
      this.counters.appended += rows.length;
      this.maybePrune(rows.length);
    });
  }

  /** Live-only frame (e.g. a text delta): never stored, never replayed. */
  publishLive(input: EventInput): void {
    if (this.sub >= SUB_LIMIT) return;
    this.sub += 1n;
    this.counters.live_only += 1;
    this.emit({
      id: sseIdOf(this.lastRowId) + this.sub,
      name: input.name,
      session_id: input.session_id ?? null,
      run_id: input.run_id ?? null,
      data: input.data,
    });
  }

  private deliver(ev: BusEvent): void {
    this.lastRowId = ev.rowId!;
    this.sub = 0n;
    this.emit(ev);
  }

  private emit(ev: BusEvent): void {
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        // A broken subscriber must not stop the others.
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  get newestRowId(): number {
    return this.lastRowId;
  }

  async oldestRowId(db: Executor = this.store.db): Promise<number> {
    const row = await db
      .selectFrom('events')
      .select((eb) => eb.fn.min('id').as('min'))
      .executeTakeFirst();
    return Number(row?.min ?? this.lastRowId + 1);
  }

  async countRetained(): Promise<number> {
    const row = await this.store.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Durable events with row id in (afterRowId, uptoRowId] that match the filter, ascending, at most
   * `limit`; fewer than `limit` means the range is exhausted. The filter is applied in SQL so that
   * session and run streams read through the `(session_id, id)` / `(run_id, id)` indexes instead of
   * scanning the global log, and the payload stays unparsed text.
   */
  async readStored(
    afterRowId: number,
    uptoRowId: number,
    filter: EventFilter,
    limit = 500,
  ): Promise<StoredEvent[]> {
    let q = this.store.db
      .selectFrom('events')
      .select(['id', 'name', 'data'])
      .where('id', '>', afterRowId)
      .where('id', '<=', uptoRowId);
    // Same rules as matchesFilter.
    if (filter.run_id !== undefined)
      q = q.where('run_id', '=', filter.run_id).where('name', 'in', RUN_SCOPED_NAMES);
    if (filter.session_id !== undefined) q = q.where('session_id', '=', filter.session_id);
    if (filter.session_id !== undefined && filter.run_id === undefined)
      q = q.where('name', '<>', 'runtime_updated');
    const rows = await q.orderBy('id', 'asc').limit(limit).execute();
    const out: StoredEvent[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = { rowId: Number(r.id), name: r.name as EventName, json: r.data };
    }
    return out;
  }

  private maybePrune(added: number): void {
    this.appendsSincePrune += added;
    if (this.appendsSincePrune < Math.max(16, Math.floor(this.capacity / 8))) return;
    this.appendsSincePrune = 0;
    const cutoff = this.lastRowId - this.capacity;
    if (cutoff <= 0) return;
    void this.store
      .write(async (tx) => {
        await tx.db.deleteFrom('events').where('id', '<=', cutoff).execute();
      })
      .catch(() => undefined);
  }
}
