// Recovered run memory (concepts §4.9): one sanitized record per terminal run, written in the
// transaction that ends the run, pruned by age and per-session count, repaired at boot, governed by
// the revisioned `run_memory_policy` runtime setting. Implements the RunMemoryPort other features use.
import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import type { WriteTx } from '../../store/store.ts';
import type { LearningScope } from '../learnings/port.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { buildRecord, TERMINAL } from './capture.ts';
import { DEFAULT_RUN_MEMORY_POLICY, parsePolicyBody, policyOf, type RunMemoryPolicy } from './policy.ts';
import type { RunMemoryPort, RunMemoryRecord } from './port.ts';
import * as repo from './repo.ts';
import { learningScopes, scopeKey } from './scopes.ts';
import { EMBEDDING_DRIVERS, SemanticRanker } from './semantic.ts';

const MAX_DIAGNOSTICS = 20;

export interface MaintenanceDiagnostic {
  action: string;
  reason: string;
  run_id: string | null;
  message: string;
}

/** What the last repair or prune did (`/v1/status.run_memory.maintenance`). */
export interface Maintenance {
  source: 'boot' | 'policy_change' | 'timer' | 'capture' | null;
  at_ms: number | null;
  rebuilt: boolean;
  ttl_pruned: number;
  overflow_pruned: number;
  orphan_pruned: number;
  scan_error_count: number;
  prune_error_count: number;
  diagnostics: MaintenanceDiagnostic[];
}

export class MemoryService implements RunMemoryPort {
  readonly engine: Engine;
  private readonly runtime: RuntimeService;
  private readonly log: Logger;
  private readonly listeners: Array<(r: RunMemoryRecord) => Promise<void> | void> = [];
  policy: RunMemoryPolicy = { ...DEFAULT_RUN_MEMORY_POLICY };
  /** Embedding-blended search (off unless the policy's `semantic_search` is enabled). */
  readonly semantic: SemanticRanker;
  readonly metrics = {
    captured_total: 0,
    injected_total: 0,
    prompt_limit_omitted_total: 0,
    ttl_pruned_total: 0,
    overflow_pruned_total: 0,
    orphan_pruned_total: 0,
  };
  /** `learned_context` budget and entry-limit omissions (`/v1/status.session_memory`). */
  readonly sessionMetrics = { injected_total: 0, prompt_limit_omitted_total: 0 };
  maintenance: Maintenance = {
    source: null,
    at_ms: null,
    rebuilt: false,
    ttl_pruned: 0,
    overflow_pruned: 0,
    orphan_pruned: 0,
    scan_error_count: 0,
    prune_error_count: 0,
    diagnostics: [],
  };

  constructor(engine: Engine, runtime: RuntimeService, log: Logger) {
    this.engine = engine;
    this.runtime = runtime;
    this.log = log;
    this.semantic = new SemanticRanker(engine);
    runtime.settings.define<RunMemoryPolicy>('run_memory_policy', {
      apply: (value) => {
        const before = this.policy;
        this.policy = policyOf(value);
        // A rollback or another replica's change: prune to the new bounds too (a POST awaits its own).
        if (JSON.stringify(before) !== JSON.stringify(this.policy))
          void this.prune('policy_change').catch(() => undefined);
      },
    });
    engine.onRunTerminal((tx, run) => this.capture(tx, run));
  }

  private get db() {
    return this.engine.store.db;
  }

  /** In the transaction that ends a run: its record, then this session's overflow. */
  private async capture(tx: WriteTx, run: RunRow): Promise<void> {
    if (!this.policy.enabled || !TERMINAL.includes(run.status as never)) return;
    const policy = this.policy;
    const scopes = await learningScopes(tx.db, run.session_id);
    const record = await buildRecord(tx.db, run, {
      now: tx.now,
      redactPii: policy.redact_pii,
      scopeKeys: scopes.map(scopeKey),
      semanticCapture: this.semanticWanted(),
    });
    await repo.insertRecord(tx.db, record);
    const overflow = await repo.pruneOverflow(tx.db, policy.max_tracked_per_session, run.session_id);
    tx.afterCommit(() => {
      this.metrics.captured_total++;
      this.metrics.overflow_pruned_total += overflow;
      for (const listener of this.listeners)
        Promise.resolve()
          .then(() => listener(record))
          .catch((err: unknown) =>
            this.log.warn({ err, run_id: record.run_id }, 'run memory listener failed'),
          );
    });
  }

  // RunMemoryPort

  private semanticWanted: () => boolean = () => false;

  wantSemanticCapture(predicate: () => boolean): void {
    this.semanticWanted = predicate;
  }

  async recordForRun(runId: string): Promise<RunMemoryRecord | null> {
    const r = await repo.recordByRun(this.db, runId);
    // Read-time expiry: a record past retention is gone even before the next prune.
    return r && r.captured_at_ms >= this.since() ? r : null;
  }

  onRecorded(listener: (record: RunMemoryRecord) => Promise<void> | void): void {
    this.listeners.push(listener);
  }

  pendingSemanticCaptures(): Promise<RunMemoryRecord[]> {
    return repo.pendingCaptures(this.db);
  }

  async settleSemanticCapture(runId: string, receipt: 'completed' | 'skipped'): Promise<void> {
    await this.engine.store.write((tx) => repo.settleCapture(tx.db, runId, receipt));
  }

  learningScopesFor(sessionId: string): Promise<LearningScope[]> {
    return learningScopes(this.db, sessionId);
  }

  // Records as the prompt and the views read them

  /** The oldest capture time still retained. */
  since(now = Date.now()): number {
    return now - this.policy.retention_ms;
  }

  sessionRecords(sessionId: string, limit = this.policy.max_tracked_per_session): Promise<RunMemoryRecord[]> {
    return repo.sessionRecords(this.db, sessionId, this.since(), Math.max(1, limit));
  }

  matchingRecords(terms: string[], sessionId: string, scopeKeys: string[] | null, limit: number) {
    return repo.matchingRecords(this.db, terms, this.since(), { sessionId, scopeKeys }, limit);
  }

  recentRecords(limit: number) {
    return repo.recentRecords(this.db, this.since(), limit);
  }

  // Policy

  policyView(): RunMemoryPolicy {
    return { ...this.policy };
  }

  /** POST /v1/runtime/run-memory-policy: a new revision, then pruning to its bounds at once. */
  async setPolicy(body: unknown): Promise<Record<string, unknown>> {
    const { policy, expected_revision } = parsePolicyBody(body);
    const sem = policy.semantic_search;
    if (sem.enabled) {
      const route = this.engine.routes.get(sem.route!);
      if (!route || !EMBEDDING_DRIVERS.has(route.config.driver))
        throw new DaemonError(
          400,
          'runtime',
          'invalid_run_memory_policy',
          `\`semantic_search.route\` must name a configured openai or openai_compatible route (got \`${sem.route}\`)`,
        );
    }
    const view = await this.runtime.settings.mutate('run_memory_policy', policy, { expected_revision }, () =>
      this.runtime.runtime(),
    );
    await this.prune('policy_change', true);
    return view;
  }

  // Maintenance

  private diagnose(d: MaintenanceDiagnostic): void {
    this.maintenance.diagnostics = [...this.maintenance.diagnostics, d].slice(-MAX_DIAGNOSTICS);
  }

  /** Age and per-session bounds; `strict` throws a failure back to the caller. */
  async prune(source: Maintenance['source'], strict = false): Promise<void> {
    try {
      const { ttl, overflow } = await this.engine.store.write(async (tx) => ({
        ttl: await repo.pruneOlderThan(tx.db, this.since(tx.now)),
        // Also while disabled: `max_tracked_per_session: 0` then forgets every record (docs/memory.md).
        overflow: await repo.pruneOverflow(tx.db, this.policy.max_tracked_per_session),
      }));
      this.metrics.ttl_pruned_total += ttl;
      this.metrics.overflow_pruned_total += overflow;
      this.maintenance = {
        ...this.maintenance,
        source,
        at_ms: Date.now(),
        ttl_pruned: ttl,
        overflow_pruned: overflow,
      };
    } catch (err) {
      this.maintenance.prune_error_count++;
      this.diagnose({
        action: 'prune',
        reason: 'prune_failed',
        run_id: null,
        message: String(err).slice(0, 200),
      });
      if (strict) throw err;
      this.log.warn({ err }, 'run memory prune failed');
    }
  }

  /** Boot repair: records of runs that are unknown or not terminal go, then age and count bounds. */
  async repair(): Promise<void> {
    let orphans: string[] = [];
    try {
      orphans = await this.engine.store.write((tx) => repo.pruneOrphans(tx.db));
    } catch (err) {
      this.maintenance.scan_error_count++;
      this.diagnose({
        action: 'scan',
        reason: 'scan_failed',
        run_id: null,
        message: String(err).slice(0, 200),
      });
      this.log.warn({ err }, 'run memory repair scan failed');
    }
    for (const id of orphans.slice(0, MAX_DIAGNOSTICS))
      this.diagnose({
        action: 'delete',
        reason: 'run_not_terminal_or_unknown',
        run_id: id,
        message: 'record of a run that is unknown or not terminal',
      });
    this.metrics.orphan_pruned_total += orphans.length;
    await this.prune('boot');
    this.maintenance = { ...this.maintenance, rebuilt: true, orphan_pruned: orphans.length };
  }

  private counted: { at: number; counts: Awaited<ReturnType<typeof repo.countRecords>> } | null = null;

  /** Record counts for /v1/status, read at most every 15 s (status stays cheap on big stores). */
  private async counts() {
    const now = Date.now();
    if (!this.counted || now - this.counted.at > 15_000)
      this.counted = { at: now, counts: await repo.countRecords(this.db, this.since(now)) };
    return this.counted.counts;
  }

  async statusView() {
    const counts = await this.counts();
    return {
      enabled: this.policy.enabled,
      policy: this.policyView(),
      records: counts.records,
      sessions: counts.sessions,
      pending_semantic_captures: counts.pending,
      // Past retention but not pruned yet (the next prune deletes them; reads already skip them).
      stale_records: counts.stale,
      metrics: {
        ...this.metrics,
        semantic_search_failures_total: this.semantic.failures,
        semantic_search_last_error: this.semantic.lastError,
      },
      maintenance: { ...this.maintenance },
    };
  }

  sessionStatusView() {
    return { metrics: { ...this.sessionMetrics } };
  }
}
