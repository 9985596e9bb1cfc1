// The run debug store: artifacts in the database (migration 0018), one transaction per artifact
// (its row, its bundle's sizes and the store's counters commit together, so the index never
// disagrees with the bodies, crash or not). Budgets cut a body before it is stored and say so
// (`truncated`, `original_bytes`); with a capture key the body is sealed with AES-256-GCM, bound to
// its run and artifact id.
import { createHash } from 'node:crypto';
import { seal, unseal } from '../../secrets/crypto.ts';
import {
  debugArtifactExists,
  debugPruneCandidates,
  debugStoreTotals,
  deleteDebugBundles,
  getDebugBundle,
  insertDebugArtifact,
} from '../../store/repos/debug-artifacts.ts';
import type { Store } from '../../store/store.ts';
import type { DebugBudgets, KeyState } from './config.ts';

export type ArtifactFormat = 'json' | 'json_lines';

export interface NewArtifact {
  run_id: string;
  session_id: string;
  /** The id wanted; an id already in the bundle gets a timestamp suffix (evidence is never overwritten). */
  artifact_id: string;
  format: ArtifactFormat;
  level: string;
  text: string;
  /** The size of the whole text when the caller already cut it while collecting (a wire body). */
  original_bytes?: number;
}

export interface WriteOutcome {
  /** The id stored under, or null when a budget left no room for it. */
  artifact_id: string | null;
}

/** What capture counts in this process (GET /v1/status `debug`). */
export interface CaptureCounters {
  written: number;
  truncated: number;
  /** Artifacts not stored: the bundle's artifact count or the whole store was full. */
  dropped: number;
  /** Bundles of ended runs removed to make room under the whole-store budget. */
  evicted_runs: number;
  errors: number;
}

const aadOf = (runId: string, artifactId: string) => `debug-artifact:${runId}:${artifactId}`;

/** The longest prefix of `text` within `max` UTF-8 bytes, never ending inside a character. */
export function utf8Prefix(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

export class DebugStore {
  private readonly store: Store;
  readonly budgets: DebugBudgets;
  readonly key: KeyState;
  readonly counters: CaptureCounters = { written: 0, truncated: 0, dropped: 0, evicted_runs: 0, errors: 0 };

  constructor(store: Store, budgets: DebugBudgets, key: KeyState) {
    this.store = store;
    this.budgets = budgets;
    this.key = key;
  }

  /** Stores one artifact within the budgets. Throws only on a store failure (the caller counts it). */
  write(a: NewArtifact): Promise<WriteOutcome> {
    if (this.key.state === 'invalid') throw new Error('the debug capture key is invalid');
    const key = this.key.state === 'ok' ? this.key.key : null;
    return this.store.write(async (tx) => {
      const bundle = await getDebugBundle(tx.db, a.run_id);
      if (bundle && bundle.artifact_count >= this.budgets.max_artifacts_per_run) {
        this.counters.dropped++;
        return { artifact_id: null };
      }
      const full = Buffer.byteLength(a.text, 'utf8');
      const original = Math.max(full, a.original_bytes ?? 0);
      const runRoom = Math.max(0, this.budgets.max_run_bytes - (bundle?.plaintext_bytes ?? 0));
      let room = Math.min(this.budgets.max_artifact_bytes, runRoom);
      const cap = this.budgets.max_store_bytes;
      if (cap > 0) {
        // Stored size of n plaintext bytes: the sealed envelope is base64 text.
        const stored = (n: number) => (key ? Math.ceil((n * 4) / 3) + 64 : n);
        const want = Math.min(room, full);
        let total = (await debugStoreTotals(tx.db)).bytes;
        if (total + stored(want) > cap) {
          // Make room: the oldest bundles of ended (or deleted) runs go first, never a live run's.
          const old = await debugPruneCandidates(tx.db, { cutoffMs: Number.MAX_SAFE_INTEGER, orphans: true });
          const evict: string[] = [];
          for (const c of old) {
            if (total + stored(want) <= cap) break;
            if (c.run_id === a.run_id) continue;
            evict.push(c.run_id);
            total -= c.bytes;
          }
          await deleteDebugBundles(tx.db, evict);
          tx.afterCommit(() => {
            this.counters.evicted_runs += evict.length;
          });
        }
        const left = cap - total;
        const storeRoom = Math.max(0, key ? Math.floor(((left - 64) * 3) / 4) : left);
        // Only live runs' evidence fills the store: take nothing more until one of them ends.
        if (storeRoom === 0) {
          this.counters.dropped++;
          return { artifact_id: null };
        }
        room = Math.min(room, storeRoom);
      }
      const kept = utf8Prefix(a.text, room);
      const plain = Buffer.from(kept, 'utf8');
      const truncated = original > plain.length;
      const id = await this.freeId(tx.db, a.run_id, a.artifact_id, tx.now);
      const body = key ? Buffer.from(seal(key, kept, aadOf(a.run_id, id)), 'utf8') : plain;
      await insertDebugArtifact(
        tx.db,
        {
          run_id: a.run_id,
          artifact_id: id,
          format: a.format,
          level: a.level,
          updated_at_ms: tx.now,
          bytes: body.length,
          plaintext_bytes: plain.length,
          sha256: createHash('sha256').update(plain).digest('hex'),
          truncated: truncated ? 1 : 0,
          original_bytes: truncated ? original : null,
          encrypted: key ? 1 : 0,
          key_id: key ? key.keyId : null,
          body,
        },
        { session_id: a.session_id, level: a.level },
      );
      tx.afterCommit(() => {
        this.counters.written++;
        if (truncated) this.counters.truncated++;
      });
      return { artifact_id: id };
    });
  }

  /** `id`, or `id-<now>` (then `-2`, `-3`...) when taken. */
  private async freeId(
    db: Parameters<typeof debugArtifactExists>[0],
    runId: string,
    id: string,
    now: number,
  ) {
    if (!(await debugArtifactExists(db, runId, id))) return id;
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? `${id}-${now}` : `${id}-${now}-${n}`;
      if (!(await debugArtifactExists(db, runId, candidate))) return candidate;
    }
  }

  /** The plaintext of a stored body, or null when it cannot be opened with the key in force. */
  open(row: { run_id: string; artifact_id: string; encrypted: number; key_id: string | null; body: Buffer }) {
    if (!row.encrypted) return row.body.toString('utf8');
    if (this.key.state !== 'ok' || this.key.key.keyId !== row.key_id) return null;
    try {
      return unseal(this.key.key, row.body.toString('utf8'), aadOf(row.run_id, row.artifact_id));
    } catch {
      return null;
    }
  }
}
