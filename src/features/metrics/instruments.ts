// The metric families GET /metrics exposes (docs/operations.md lists them). Names follow
// the Prometheus conventions: `kheish_` prefix, base units (`_seconds`), `_total` on counters only.
// prom-client is loaded on first use (dynamic import), not at daemon start.
import type * as PromClient from 'prom-client';

type Prom = typeof PromClient;

/** Model calls and tools: from 50 ms to 10 minutes. */
const CALL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Queue waits and whole runs: from 100 ms to 6 hours. */
const WAIT_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600];
/** Store commits: from 0.5 ms to 5 s. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

export function makeInstruments(prom: Prom) {
  const registry = new prom.Registry();
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new prom.Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new prom.Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: L[] = []) =>
    new prom.Histogram<L>({ name, help, labelNames, buckets, registers });
  return {
    registry,
    contentType: registry.contentType,
    // Read from the durable state at each scrape (the same figures as GET /v1/status).
    buildInfo: gauge('kheish_build_info', 'Always 1; the daemon version and store dialect as labels', [
      'version',
      'store',
      'replica_id',
    ]),
    uptime: gauge('kheish_uptime_seconds', 'Seconds since this daemon process started'),
    ready: gauge('kheish_ready', '1 when /readyz answers 200, 0 while not ready or draining'),
    healthOk: gauge('kheish_health_ok', '1 when /v1/status health.ok is true'),
    healthWarnings: gauge('kheish_health_warnings', 'health.warnings of /v1/status by severity and code', [
      'severity',
      'code',
    ]),
    runs: gauge('kheish_runs', 'Runs in the store by status (all history; /v1/status runs)', ['status']),
    liveRuns: gauge('kheish_runs_live', 'Non-terminal runs by status and kind', ['status', 'kind']),
    queueDepth: gauge('kheish_run_queue_depth', 'Runs queued behind another run of their session'),
    queueMaxSessionDepth: gauge(
      'kheish_run_queue_max_session_depth',
      'The longest queue of one session (runs)',
    ),
    queueOldestAge: gauge(
      'kheish_run_queue_oldest_age_seconds',
      'How long the oldest queued run has waited (0 when none waits)',
    ),
    staleRuns: gauge(
      'kheish_runs_stale',
      'Non-terminal runs idle longer than the stale threshold (/v1/status runs.stale_non_terminal_run_count)',
    ),
    sessions: gauge('kheish_sessions', 'Sessions in the store'),
    approvalsPending: gauge('kheish_approvals_pending', 'Approval requests waiting for an operator'),
    questionsPending: gauge('kheish_questions_pending', 'Questions waiting for an answer'),
    tasks: gauge('kheish_tasks', 'Tasks by status', ['status']),
    deliveries: gauge('kheish_deliveries', 'Deliveries by state (/v1/status delivery)', ['state']),
    deadLetters: gauge('kheish_delivery_dead_letters', 'Dead-lettered deliveries (all, and unresolved)', [
      'resolved',
    ]),
    deliveryLag: gauge('kheish_delivery_worker_lag_seconds', 'Age of the oldest delivery due and not sent'),
    eventSubscribers: gauge(
      'kheish_event_subscribers',
      'Listeners of the event log: open SSE streams plus the daemon’s own (/v1/status events.subscribers)',
    ),
    eventsRetained: gauge('kheish_events_retained', 'Durable events kept for replay'),
    eventsCapacity: gauge('kheish_events_replay_capacity', 'The replay window (--event-history-capacity)'),
    eventsAppended: counter('kheish_events_appended_total', 'Durable events delivered by this process'),
    eventsReplayed: counter(
      'kheish_sse_replayed_events_total',
      'Events replayed to reconnecting SSE clients',
    ),
    replayGaps: counter('kheish_sse_replay_gaps_total', 'stream_gap frames: a cursor older than the window'),
    lagged: counter(
      'kheish_sse_lagged_streams_total',
      'SSE streams cut with stream_gap (live_lag): too slow',
    ),
    storeOk: gauge(
      'kheish_store_ok',
      '1 when the store answers and no write failed since (/v1/status storage.ok)',
    ),
    storeWriteErrors: counter('kheish_store_write_errors_total', 'Store writes that failed'),
    storeCommits: counter('kheish_store_commits_total', 'Group commits (one transaction each)'),
    storeCommitWriters: counter('kheish_store_commit_writers_total', 'Writes carried by the group commits'),
    storeCommitDuration: histogram(
      'kheish_store_commit_duration_seconds',
      'One group commit, BEGIN to COMMIT',
      COMMIT_BUCKETS,
    ),
    replicaLeases: gauge('kheish_replica_leases', 'Live run leases held by each replica', ['replica_id']),
    replicaAlive: gauge('kheish_replica_alive', '1 while the replica heartbeats within its lease TTL', [
      'replica_id',
    ]),
    // From the event log as this process sees it (reset at restart, like any Prometheus counter).
    runsFinished: counter('kheish_runs_finished_total', 'Runs that reached a terminal status', [
      'status',
      'kind',
    ]),
    runDuration: histogram(
      'kheish_run_duration_seconds',
      'Terminal runs: start to finish (queue wait excluded)',
      WAIT_BUCKETS,
      ['status'],
    ),
    queueWait: histogram('kheish_run_queue_wait_seconds', 'Submit to start of each run', WAIT_BUCKETS),
    stepDuration: histogram(
      'kheish_step_duration_seconds',
      'One agent step: a model call and the tool calls it asked for',
      CALL_BUCKETS,
    ),
    modelCalls: counter('kheish_model_calls_total', 'Model calls by route and outcome (ok, error)', [
      'route',
      'outcome',
    ]),
    modelCallDuration: histogram(
      'kheish_model_call_duration_seconds',
      'Model calls that answered',
      CALL_BUCKETS,
      ['route'],
    ),
    tokens: counter('kheish_model_tokens_total', 'Tokens by route and type (input, output, cached_input)', [
      'route',
      'type',
    ]),
    cost: counter('kheish_model_cost_usd_total', 'Estimated model cost in US dollars by route', ['route']),
    toolCalls: counter('kheish_tool_calls_total', 'Tool calls by tool and outcome (ok, error, denied)', [
      'tool',
      'outcome',
    ]),
    toolCallDuration: histogram('kheish_tool_call_duration_seconds', 'Tool calls that ran', CALL_BUCKETS, [
      'tool',
    ]),
  };
}

export type Instruments = ReturnType<typeof makeInstruments>;

let loading: Promise<Prom> | null = null;

/** prom-client, imported once on first need. */
export function loadProm(): Promise<Prom> {
  loading ??= import('prom-client');
  return loading;
}
