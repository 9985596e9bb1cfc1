// The run debug surfaces (api-core §3.13): a run's bundle index, one artifact's text, the prune of
// old evidence, and the TTL worker that applies KHEISH_DEBUG_TTL_MS and the whole-store budget.
// Only bundles of terminal runs (and of runs that no longer exist) are ever removed.
import type { Logger } from 'pino';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import {
  debugPruneCandidates,
  debugStoreTotals,
  deleteDebugBundles,
  getDebugArtifact,
  getDebugBundle,
  listDebugArtifacts,
} from '../../store/repos/debug-artifacts.ts';
import { getRun } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import type { DebugConfig } from './config.ts';
import type { DebugStore } from './debug-store.ts';

export interface PruneRequest {
  older_than_ms: number;
  session_id?: string;
  limit?: number;
  dry_run?: boolean;
  release_assets?: boolean;
}

/** What the prune needs of the assets feature (its AssetsPort). */
export interface RunAssetRelease {
  releaseRunReferences(
    q: { finished_before_ms: number; session_id?: string; limit?: number; dry_run: boolean },
    db?: Executor,
  ): Promise<{ run_ids: string[]; reference_count: number }>;
}

export class DebugService {
  readonly store: Store;
  readonly debug: DebugStore;
  readonly config: DebugConfig;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private gcRunning: Promise<void> | null = null;
  /** The debug level in force (set by the feature from the runtime setting). */
  level: () => string = () => 'off';
  /** Set by the feature: the assets store, for `release_assets`. */
  assets: RunAssetRelease | null = null;
  readonly gc = { runs: 0, pruned_runs: 0, pruned_bytes: 0, last_at_ms: null as number | null, errors: 0 };

  constructor(store: Store, debug: DebugStore, config: DebugConfig, log: Logger) {
    this.store = store;
    this.debug = debug;
    this.config = config;
    this.log = log;
  }

  async view(runId: string) {
    if (!(await getRun(this.store.db, runId))) throw errors.runNotFound(runId);
    const bundle = await getDebugBundle(this.store.db, runId);
    if (!bundle)
      throw new DaemonError(
        404,
        'runs',
        'run_debug_not_found',
        `run ${runId} has no debug bundle: capture was off for its model calls (\`runtime set-debug-level\`), or it was pruned`,
      );
    const artifacts = await listDebugArtifacts(this.store.db, runId);
    return {
      run_id: runId,
      level: bundle.level,
      artifacts: artifacts.map((a) => ({
        artifact_id: a.artifact_id,
        format: a.format,
        updated_at_ms: a.updated_at_ms,
        bytes: a.bytes,
        plaintext_bytes: a.plaintext_bytes,
        sha256: a.sha256,
        truncated: a.truncated === 1,
        ...(a.original_bytes !== null ? { original_bytes: a.original_bytes } : {}),
        encrypted: a.encrypted === 1,
        ...(a.key_id ? { key_id: a.key_id } : {}),
      })),
    };
  }

  async artifact(runId: string, artifactId: string): Promise<string> {
    const row = await getDebugArtifact(this.store.db, runId, artifactId);
    if (!row) {
      if (!(await getRun(this.store.db, runId))) throw errors.runNotFound(runId);
      throw new DaemonError(
        404,
        'runs',
        'run_debug_artifact_not_found',
        `run ${runId} has no debug artifact ${artifactId}; \`runs debug ${runId}\` lists its artifacts`,
      );
    }
    const text = this.debug.open(row);
    if (text === null)
      throw new DaemonError(
        409,
        'runs',
        'run_debug_artifact_unreadable',
        `artifact ${artifactId} is encrypted with key ${row.key_id}, and the daemon ${
          this.debug.key.state === 'ok'
            ? `runs with key ${this.debug.key.key.keyId}`
            : 'has no valid capture key'
        }: start it with the KHEISH_DEBUG_CAPTURE_KEY the artifact was written with`,
      );
    return text;
  }

  async prune(req: PruneRequest) {
    const dryRun = req.dry_run ?? false;
    return this.store.write(async (tx) => {
      const cutoff = tx.now - req.older_than_ms;
      const matched = await debugPruneCandidates(tx.db, {
        cutoffMs: cutoff,
        orphans: false,
        ...(req.session_id !== undefined ? { sessionId: req.session_id } : {}),
      });
      const candidates = req.limit !== undefined ? matched.slice(0, req.limit) : matched;
      const ids = candidates.map((c) => c.run_id);
      const bytes = candidates.reduce((n, c) => n + c.bytes, 0);
      if (!dryRun) await deleteDebugBundles(tx.db, ids);
      const released =
        req.release_assets && this.assets
          ? await this.assets.releaseRunReferences(
              {
                finished_before_ms: cutoff,
                dry_run: dryRun,
                ...(req.session_id !== undefined ? { session_id: req.session_id } : {}),
                ...(req.limit !== undefined ? { limit: req.limit } : {}),
              },
              tx.db,
            )
          : null;
      return {
        ...(released
          ? {
              released_asset_run_ids: released.run_ids,
              released_asset_reference_count: released.reference_count,
            }
          : {}),
        dry_run: dryRun,
        now_ms: tx.now,
        cutoff_ms: cutoff,
        ...(req.limit !== undefined ? { limit: req.limit } : {}),
        matched_run_count: matched.length,
        candidate_run_ids: ids,
        candidate_debug_bytes: bytes,
        pruned_debug_run_ids: dryRun ? [] : ids,
        pruned_debug_bytes: dryRun ? 0 : bytes,
      };
    });
  }

  /** One pass of the retention worker: the TTL, then the whole-store budget (oldest first). */
  async collect(): Promise<void> {
    // Most passes find nothing: they read, and take no write transaction (nor a place in a group).
    if (!(await this.anythingToCollect())) {
      this.gc.runs++;
      this.gc.last_at_ms = Date.now();
      return;
    }
    await this.store.write(async (tx) => {
      const removed: string[] = [];
      let bytes = 0;
      if (this.config.ttl_ms > 0) {
        const stale = await debugPruneCandidates(tx.db, {
          cutoffMs: tx.now - this.config.ttl_ms,
          orphans: true,
        });
        removed.push(...stale.map((c) => c.run_id));
        bytes += stale.reduce((n, c) => n + c.bytes, 0);
        await deleteDebugBundles(tx.db, removed);
      }
      const cap = this.debug.budgets.max_store_bytes;
      if (cap > 0) {
        let total = (await debugStoreTotals(tx.db)).bytes;
        if (total > cap) {
          // Every terminal or orphaned bundle, oldest first, until the store fits.
          const all = await debugPruneCandidates(tx.db, { cutoffMs: Number.MAX_SAFE_INTEGER, orphans: true });
          const over: string[] = [];
          for (const c of all) {
            if (total <= cap) break;
            over.push(c.run_id);
            total -= c.bytes;
            bytes += c.bytes;
          }
          await deleteDebugBundles(tx.db, over);
          removed.push(...over);
        }
      }
      tx.afterCommit(() => {
        this.gc.runs++;
        this.gc.last_at_ms = tx.now;
        this.gc.pruned_runs += removed.length;
        this.gc.pruned_bytes += bytes;
        if (removed.length > 0)
          this.log.info({ runs: removed.length, bytes }, 'debug retention removed old debug bundles');
      });
    });
  }

  private async anythingToCollect(): Promise<boolean> {
    const db = this.store.db;
    if (this.config.ttl_ms > 0) {
      const cutoffMs = Date.now() - this.config.ttl_ms;
      if ((await debugPruneCandidates(db, { cutoffMs, orphans: true })).length > 0) return true;
    }
    const cap = this.debug.budgets.max_store_bytes;
    return cap > 0 && (await debugStoreTotals(db)).bytes > cap;
  }

  /** Runs the worker now and then every gc interval (when there is anything for it to apply). */
  start(): void {
    if (this.config.ttl_ms === 0 && this.debug.budgets.max_store_bytes === 0) return;
    const tick = () => {
      this.gcRunning ??= this.collect()
        .catch((err: unknown) => {
          this.gc.errors++;
          this.log.warn({ err: (err as Error).message }, 'debug retention pass failed; it runs again later');
        })
        .finally(() => {
          this.gcRunning = null;
        });
    };
    tick();
    this.timer = setInterval(tick, this.config.gc_interval_ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Waits for a retention pass in progress (shutdown). */
  async drained(): Promise<void> {
    await this.gcRunning;
  }

  /** GET /v1/runtime `debug_capture`: the effective policy. */
  policyView(): Record<string, unknown> {
    const key = this.debug.key;
    return {
      ttl_ms: this.config.ttl_ms,
      ttl_enabled: this.config.ttl_ms > 0,
      gc_interval_ms: this.config.gc_interval_ms,
      max_artifact_bytes: this.debug.budgets.max_artifact_bytes,
      max_run_bytes: this.debug.budgets.max_run_bytes,
      max_artifacts_per_run: this.debug.budgets.max_artifacts_per_run,
      max_store_bytes: this.debug.budgets.max_store_bytes,
      encryption: {
        enabled: key.state === 'ok',
        ...(key.state === 'ok' ? { key_id: key.key.keyId, key_source: key.source } : {}),
        ...(key.state === 'invalid' ? { key_source: key.source, key_error: key.error } : {}),
      },
      redaction: this.config.tokens.status(),
    };
  }

  /** Why `level` cannot be enabled now (a bad capture key, an unreadable token file), or null. */
  blocker(level: string): { code: string; detail: string } | null {
    if (level === 'off') return null;
    const key = this.debug.key;
    if (key.state === 'invalid')
      return {
        code: 'debug_capture_key_invalid',
        detail: `debug capture stays off: ${key.source} is not a usable key (${key.error}); fix it and restart the daemon, or unset it`,
      };
    if (level === 'redacted' || level === 'full') {
      const tokens = this.config.tokens.current();
      if ('error' in tokens)
        return {
          code: 'debug_redaction_config_invalid',
          detail: `debug capture at ${level} needs the redaction tokens, but ${tokens.error}; fix the file or choose \`on\``,
        };
    }
    return null;
  }

  /** At boot: a persisted level the configuration cannot serve captures nothing; say so loudly. */
  warnIfBlocked(): void {
    const problem = this.blocker(this.level());
    if (problem)
      this.log.error(
        { debug_level: this.level(), code: problem.code },
        `${problem.detail}. Until then no debug artifact is written (capture fails closed)`,
      );
  }

  /** GET /v1/status `debug`: what the store holds and what capture did in this process. */
  async statusView(): Promise<Record<string, unknown>> {
    const level = this.level();
    const totals = await debugStoreTotals(this.store.db);
    const c = this.debug.counters;
    return {
      level,
      bundle_count: totals.bundles,
      artifact_count: totals.artifacts,
      bytes: totals.bytes,
      captured_artifacts: c.written,
      truncated_artifacts: c.truncated,
      dropped_artifacts: c.dropped,
      evicted_bundles: c.evicted_runs,
      capture_errors: c.errors,
      retention: { ...this.gc },
      ...(this.blocker(level) ? { blocked: this.blocker(level) } : {}),
    };
  }
}
