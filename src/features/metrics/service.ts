// GET /metrics: gauges read from the durable state at scrape time (the very figures of GET
// /v1/status, so the two never disagree), plus the event-fed counters of collector.ts.
import type { Server } from 'node:http';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { EventLog } from '../../store/event-log.ts';
import { LIVE_STATUSES } from '../../store/repos/runs.ts';
import type { Database } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import { DAEMON_VERSION } from '../../version.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { EventCollector } from './collector.ts';
import { type Instruments, loadProm, makeInstruments } from './instruments.ts';
import { listenMetrics } from './listener.ts';

/** Changes waiting for prom-client to load; beyond this the oldest are dropped (never unbounded). */
const MAX_PENDING = 10_000;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export interface MetricsDeps {
  store: Store;
  events: EventLog;
  replicaId: string;
  startedAtMs: number;
  /** Resolved lazily: the runtime feature is built before or after this one. */
  runtime: () => RuntimeService;
  /** --metrics-bind, when given. */
  listen: { bind: { host: string; port: number }; log: Logger } | null;
}

export class MetricsService {
  private readonly deps: MetricsDeps;
  private instruments: Instruments | null = null;
  private loading: Promise<Instruments> | null = null;
  private pending: Array<(m: Instruments) => void> = [];
  private unsubscribe: (() => void) | null = null;
  private server: Server | null = null;
  readonly collector: EventCollector;

  constructor(deps: MetricsDeps) {
    this.deps = deps;
    this.collector = new EventCollector(deps.startedAtMs, (fn) => this.record(fn));
  }

  /** Starts listening to the event log and to the store's commits. */
  start(): void {
    this.unsubscribe ??= this.deps.events.subscribe((ev) => this.collector.onEvent(ev));
    this.deps.store.onGroupCommit = (seconds) => this.record((m) => m.storeCommitDuration.observe(seconds));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.deps.store.onGroupCommit = null;
  }

  /** --metrics-bind: the token-free listener (throws a ConfigError when it cannot listen). */
  async listenIfAsked(): Promise<void> {
    if (!this.deps.listen || this.server) return;
    const { bind, log } = this.deps.listen;
    const { server, address } = await listenMetrics(this, bind, (err) =>
      log.warn({ err: String(err) }, 'metrics scrape failed'),
    );
    this.server = server;
    log.info({ url: `${address}/metrics` }, 'metrics listener ready');
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private record(fn: (m: Instruments) => void): void {
    if (this.instruments) {
      fn(this.instruments);
      return;
    }
    if (this.pending.length >= MAX_PENDING) this.pending.shift();
    this.pending.push(fn);
    void this.load();
  }

  private load(): Promise<Instruments> {
    this.loading ??= loadProm().then((prom) => {
      const m = makeInstruments(prom);
      for (const fn of this.pending.splice(0)) fn(m);
      this.instruments = m;
      return m;
    });
    return this.loading;
  }

  /** The text exposition and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const m = await this.load();
    const status = obj(await this.deps.runtime().status());
    await this.fill(m, status);
    return { contentType: m.contentType, body: await m.registry.metrics() };
  }

  private async fill(m: Instruments, s: Json): Promise<void> {
    const store = obj(s.storage);
    m.buildInfo.reset();
    m.buildInfo.set(
      { version: DAEMON_VERSION, store: String(store.dialect ?? 'unknown'), replica_id: this.deps.replicaId },
      1,
    );
    m.uptime.set(num(s.uptime_ms) / 1000);
    m.ready.set(s.ready === true ? 1 : 0);
    const health = obj(s.health);
    m.healthOk.set(health.ok === true ? 1 : 0);
    m.healthWarnings.reset();
    for (const w of (health.warnings as Json[] | undefined) ?? [])
      m.healthWarnings.inc({ severity: String(w.severity), code: String(w.code) });

    // Null while the database does not answer: the families are left empty, not zeroed.
    const runs = s.runs === null ? null : obj(s.runs);
    for (const g of [m.runs, m.liveRuns, m.tasks, m.deliveries, m.deadLetters]) g.reset();
    if (runs) {
      for (const status of ['queued', 'running', 'waiting_for_approval', 'waiting_for_user_question'])
        m.runs.set({ status }, num(runs[status]));
      for (const status of ['completed', 'failed', 'interrupted', 'cancelled'])
        m.runs.set({ status }, num(runs[status]));
      m.queueDepth.set(num(runs.queued));
      m.queueMaxSessionDepth.set(num(runs.max_session_queue_depth));
      m.queueOldestAge.set(num(runs.oldest_queued_run_age_ms) / 1000);
      m.staleRuns.set(num(runs.stale_non_terminal_run_count));
      m.approvalsPending.set(num(runs.pending_approval_count));
      m.questionsPending.set(num(runs.pending_question_count));
      for (const r of await liveRunsByKind(this.deps.store.db))
        m.liveRuns.set({ status: r.status, kind: r.kind }, r.n);
    }
    if (s.sessions) m.sessions.set(num(obj(s.sessions).total));
    const tasks = obj(s.tasks);
    for (const status of ['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled'])
      if (typeof tasks[status] === 'number') m.tasks.set({ status }, num(tasks[status]));
    const delivery = obj(s.delivery);
    for (const state of ['pending', 'retrying', 'in_flight', 'needs_operator', 'delivered'])
      if (typeof delivery[state] === 'number') m.deliveries.set({ state }, num(delivery[state]));
    if (typeof delivery.dead_lettered === 'number') {
      const unresolved = num(delivery.unresolved_dead_lettered);
      m.deadLetters.set({ resolved: 'false' }, unresolved);
      m.deadLetters.set({ resolved: 'true' }, num(delivery.dead_lettered) - unresolved);
    }
    m.deliveryLag.set(num(delivery.worker_lag_ms) / 1000);

    const ev = obj(s.events);
    m.eventSubscribers.set(num(ev.subscribers));
    m.eventsRetained.set(num(ev.retained));
    m.eventsCapacity.set(num(ev.capacity));
    setCounter(m.eventsAppended, num(ev.appended));
    setCounter(m.eventsReplayed, num(ev.replayed));
    setCounter(m.replayGaps, num(ev.replay_gaps));
    setCounter(m.lagged, num(ev.lagged));

    m.storeOk.set(store.ok === true ? 1 : 0);
    setCounter(m.storeWriteErrors, num(store.write_error_count));
    const groups = obj(store.write_groups);
    setCounter(m.storeCommits, num(groups.groups));
    setCounter(m.storeCommitWriters, num(groups.writers));

    m.replicaLeases.reset();
    m.replicaAlive.reset();
    for (const r of (obj(s.replicas).replicas as Json[] | undefined) ?? []) {
      const replica_id = String(r.replica_id);
      m.replicaLeases.set({ replica_id }, Array.isArray(r.live_runs) ? r.live_runs.length : 0);
      m.replicaAlive.set({ replica_id }, r.alive === true ? 1 : 0);
    }
  }
}

/** A counter kept elsewhere (the status counters): shown as its current value. */
function setCounter(c: { reset(): void; inc(n: number): void }, value: number): void {
  c.reset();
  if (value > 0) c.inc(value);
}

/** Non-terminal runs only (the status index), so the cost follows the live work, not the history. */
async function liveRunsByKind(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('runs')
    .select(['status', 'kind'])
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', 'in', [...LIVE_STATUSES])
    .groupBy(['status', 'kind'])
    .execute();
  return rows.map((r) => ({ status: r.status, kind: r.kind, n: Number(r.n) }));
}
