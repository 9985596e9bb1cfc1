// Readiness of the durable store: /readyz answers 503 and /v1/status reports storage not ok while
// the database does not answer (a PostgreSQL server down or refusing connections, a SQLite file
// gone), and both recover by themselves when it answers again.
import { errors } from '../../errors/daemon-error.ts';
import { pingStore } from '../../store/ping.ts';
import type { Store } from '../../store/store.ts';

/** Probes are cached this long, so orchestrators polling /readyz cost one query per second at most. */
const PROBE_MAX_AGE_MS = 1000;
/** A database slower than this to answer `SELECT 1` counts as unavailable. */
const PROBE_TIMEOUT_MS = 2000;

export interface StorageProbeResult {
  ok: boolean;
  checked_at_ms: number;
  latency_ms: number;
  error: string | null;
}

export class StorageProbe {
  private readonly store: Store;
  private last: StorageProbeResult | null = null;
  private inflight: Promise<StorageProbeResult> | null = null;
  /** The most recent failure (kept after recovery, for operators). */
  lastError: { message: string; at_ms: number } | null = null;
  /**
   * Write errors counted while the database was seen unavailable: explained by the outage, they
   * stop counting against storage.ok once it answers again. Other write errors keep it false.
   */
  private forgivenWriteErrors = 0;

  constructor(store: Store) {
    this.store = store;
  }

  check(): Promise<StorageProbeResult> {
    if (this.last && Date.now() - this.last.checked_at_ms < PROBE_MAX_AGE_MS)
      return Promise.resolve(this.last);
    this.inflight ??= this.probe().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** A fresh probe, past the cache (a read elsewhere just failed: is the database gone?). */
  recheck(): Promise<StorageProbeResult> {
    this.last = this.last && { ...this.last, checked_at_ms: 0 };
    return this.check();
  }

  /** No write failed since the database last came back. */
  get writesOk(): boolean {
    return this.store.writeErrors <= this.forgivenWriteErrors;
  }

  /** The 503 problem /readyz answers while the store is unavailable, or null when it answers. */
  async unavailable() {
    const r = await this.check();
    return r.ok ? null : errors.storageUnavailable(r.error ?? 'unknown error');
  }

  private async probe(): Promise<StorageProbeResult> {
    const started = performance.now();
    let error: string | null = null;
    try {
      await pingStore(this.store, PROBE_TIMEOUT_MS);
    } catch (err) {
      error = (err as Error).message;
    }
    const result = {
      ok: error === null,
      checked_at_ms: Date.now(),
      latency_ms: Math.round(performance.now() - started),
      error,
    };
    this.record(result);
    return result;
  }

  private record(result: StorageProbeResult): void {
    if (!result.ok)
      this.lastError = { message: result.error ?? 'unknown error', at_ms: result.checked_at_ms };
    if (result.ok && this.last && !this.last.ok) this.forgivenWriteErrors = this.store.writeErrors;
    this.last = result;
  }
}
