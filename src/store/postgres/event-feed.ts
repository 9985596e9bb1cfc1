// Cross-replica fan-out of durable events on PostgreSQL. Every write group that inserted events
// sends a NOTIFY in its transaction (store.ts), delivered at commit to every replica's LISTEN
// connection; each replica then reads the rows after the last one it delivered, in id order, and
// hands them to its local subscribers (SSE streams, waiters). Because write groups hold one
// advisory lock until they commit, ids are handed out in commit order and "after the last id
// delivered" never skips a row that commits later (docs/decisions.md #88).
import type pg from 'pg';
import { dedicatedClient, type PostgresHandle } from './open.ts';

export interface FeedRow {
  id: number;
  name: string;
  session_id: string | null;
  run_id: string | null;
  data: string;
}

/** Rows per read; a longer backlog is read in several pages, in order. */
const PAGE = 1000;
/** Reconnect delays after the LISTEN connection drops (the database restarted, the network hiccuped). */
const RECONNECT_MS = [100, 250, 500, 1000, 2000];
/** A read even without a notification, so a lost notification delays delivery, never loses it. */
const SAFETY_POLL_MS = 1000;

export class EventFeed {
  private readonly pg: PostgresHandle;
  private readonly deliver: (rows: FeedRow[]) => void;
  private client: pg.Client | null = null;
  private cursor: number;
  private pulling: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private attempt = 0;
  private poll: NodeJS.Timeout | null = null;
  /** Reads that failed (the database was unreachable); delivery resumes where it stopped. */
  errors = 0;
  connected = false;

  constructor(pgHandle: PostgresHandle, cursor: number, deliver: (rows: FeedRow[]) => void) {
    this.pg = pgHandle;
    this.cursor = cursor;
    this.deliver = deliver;
  }

  async start(): Promise<void> {
    await this.connect();
    this.poll = setInterval(() => this.poke(), SAFETY_POLL_MS);
    this.poll.unref();
  }

  /** Reads and delivers what committed after the cursor; concurrent calls coalesce into one more read. */
  poke(): void {
    if (this.stopped) return;
    if (this.pulling) {
      this.again = true;
      return;
    }
    this.pulling = this.pullAll().finally(() => {
      this.pulling = null;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async pullAll(): Promise<void> {
    try {
      for (;;) {
        const { rows } = await this.pg.pool.query<FeedRow>(
          'SELECT id, name, session_id, run_id, data FROM events WHERE id > $1 ORDER BY id LIMIT $2',
          [this.cursor, PAGE],
        );
        if (rows.length === 0) return;
        this.cursor = Number(rows[rows.length - 1]!.id);
        this.deliver(rows);
        if (rows.length < PAGE) return;
      }
    } catch {
      this.errors += 1;
    }
  }

  private async connect(): Promise<void> {
    const client = dedicatedClient(this.pg);
    client.on('notification', () => this.poke());
    client.on('error', () => this.reconnectSoon(client));
    client.on('end', () => this.reconnectSoon(client));
    await client.connect();
    await client.query(`LISTEN ${this.pg.eventsChannel}`);
    this.client = client;
    this.connected = true;
    this.attempt = 0;
    // Whatever committed while nobody listened.
    this.poke();
  }

  private reconnectSoon(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    this.connected = false;
    client.end().catch(() => undefined);
    const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)]!;
    setTimeout(() => {
      if (this.stopped) return;
      this.connect().catch(() => {
        this.client = client;
        this.reconnectSoon(client);
      });
    }, delay).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.pulling?.catch(() => undefined);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
