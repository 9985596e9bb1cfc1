// Deleting assets, collecting garbage and repairing at start-up (api-core §7.2). A delete commits
// its tombstone and drops the row (and its references) in one transaction; database payloads go in
// that same transaction, files right after it (a file is removed only once no row names it). A
// crash between the commit and the unlink leaves the tombstone's `pending_digests`, which the next
// start finishes. GC deletes catalog assets nobody holds a hard reference to, and payloads no row
// names (a crash between an upload's fsync and its row leaves such a file).
import type { Logger } from 'pino';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  type AssetRow,
  allAssets,
  clearTombstonePending,
  deleteAssetReferences,
  deleteAssetRow,
  getAsset,
  hardReferenceCounts,
  insertTombstone,
  lockAsset,
  lockPayloads,
  payloadInUse,
  pendingTombstones,
  referencesOf,
} from '../../store/repos/assets.ts';
import type { Executor } from '../../store/schema.ts';
import type { HealthWarning } from '../runtime/status-figures.ts';
import { assetEvent } from './events.ts';
import type { AssetDeletePlan, AssetGcReport, AssetPayloadFile, OrphanPayload } from './schema.ts';
import { type AssetsService, assetNotFound, assetUri, referencesView } from './service.ts';

/** The payloads one asset row names, one entry per distinct digest. */
function payloadsOf(r: AssetRow): Array<Omit<AssetPayloadFile, 'location'>> {
  const out = new Map<string, Omit<AssetPayloadFile, 'location'>>();
  const add = (kind: 'raw' | 'text' | 'preview', sha256: string | null, length: number | null) => {
    if (sha256 === null || length === null || out.has(sha256)) return;
    out.set(sha256, { kind, uri: assetUri(r.asset_id, kind), sha256, byte_length: length });
  };
  add('raw', r.sha256, r.byte_length);
  add('text', r.text_sha256, r.text_byte_length);
  add('preview', r.preview_sha256, r.preview_byte_length);
  return [...out.values()];
}

const digestsOf = (r: AssetRow): string[] => payloadsOf(r).map((p) => p.sha256);

export interface AssetRepairSummary {
  checked_at_ms: number;
  assets_checked: number;
  temp_files_removed: number;
  interrupted_deletes_completed: number;
  unreadable_asset_count: number;
  /** The first few unreadable payloads (bounded). */
  unreadable: Array<{ asset_id: string; kind: string; problem: 'missing' | 'length_mismatch' }>;
}

const REPAIR_SAMPLE = 20;

export class AssetReclaimer {
  private readonly assets: AssetsService;
  private readonly log: Logger;
  repair: AssetRepairSummary | null = null;

  constructor(assets: AssetsService, log: Logger) {
    this.assets = assets;
    this.log = log;
  }

  private get payloads() {
    return this.assets.payloads;
  }

  private async files(db: Executor, r: AssetRow) {
    const removable: AssetPayloadFile[] = [];
    const shared: AssetPayloadFile[] = [];
    for (const p of payloadsOf(r)) {
      const file = { ...p, location: this.payloads.locationOf(p.sha256) };
      ((await payloadInUse(db, p.sha256, r.asset_id)) ? shared : removable).push(file);
    }
    return { removable, shared };
  }

  private async planOf(db: Executor, r: AssetRow, dryRun: boolean): Promise<AssetDeletePlan> {
    const refs = referencesView(r.asset_id, await referencesOf(db, r.asset_id));
    const { removable, shared } = await this.files(db, r);
    return {
      ...refs,
      dry_run: dryRun,
      blocked: refs.hard_reference_count > 0,
      deleted: false,
      reclaimable_bytes: removable.reduce((n, f) => n + f.byte_length, 0),
      removable_files: removable,
      shared_files: shared,
    };
  }

  /** `DELETE ?dry_run=true`: what a delete would do, changing nothing. */
  async plan(assetId: string): Promise<AssetDeletePlan> {
    const r = await getAsset(this.assets.store.db, assetId);
    if (!r) throw assetNotFound(assetId);
    return this.planOf(this.assets.store.db, r, true);
  }

  /** Deletes when no hard reference holds the asset (`409 assets/asset_delete_blocked` otherwise). */
  async delete(assetId: string, why = 'api'): Promise<AssetDeletePlan> {
    // The payloads are locked before the row is read in the transaction; if derived text was
    // attached in between, the row names a payload not locked: start again with it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const plan = await this.deleteOnce(assetId, why);
      if (plan) return plan;
    }
    throw new Error(`asset ${assetId} kept changing while it was deleted`);
  }

  private async deleteOnce(assetId: string, why: string): Promise<AssetDeletePlan | null> {
    const first = await getAsset(this.assets.store.db, assetId);
    if (!first) throw assetNotFound(assetId);
    const digests = digestsOf(first);
    const release = await this.assets.locks.acquire(digests);
    try {
      const plan = await this.assets.store.write(async (tx) => {
        await lockPayloads(tx.db, digests);
        const r = await lockAsset(tx.db, assetId, 'update');
        if (!r) throw assetNotFound(assetId);
        if (digestsOf(r).some((d) => !digests.includes(d))) return null;
        const plan = await this.planOf(tx.db, r, false);
        if (plan.blocked)
          throw new DaemonError(
            409,
            'assets',
            'asset_delete_blocked',
            `asset ${assetId} has ${plan.hard_reference_count} hard reference(s); see GET /v1/assets/${assetId}/references`,
          );
        await deleteAssetReferences(tx.db, assetId);
        await deleteAssetRow(tx.db, assetId);
        await this.assets.events.append(tx, [
          assetEvent(r, 'deleted', { reclaimed_bytes: plan.reclaimable_bytes }),
        ]);
        const pending = plan.removable_files.map((f) => f.sha256);
        await insertTombstone(tx.db, {
          asset_id: r.asset_id,
          media_type: r.media_type,
          sha256: r.sha256,
          byte_length: r.byte_length,
          deleted_at_ms: tx.now,
          pending_digests: this.payloads.kind === 'file' && pending.length ? JSON.stringify(pending) : null,
        });
        if (this.payloads.kind === 'database') for (const d of pending) await this.payloads.remove(d, tx.db);
        return { ...plan, deleted: true };
      });
      if (!plan) return null;
      if (this.payloads.kind === 'file')
        await this.finishFiles(
          assetId,
          plan.removable_files.map((f) => f.sha256),
        );
      this.log.info(
        {
          asset_id: assetId,
          reclaimed_bytes: plan.reclaimable_bytes,
          files: plan.removable_files.length,
          why,
        },
        'asset deleted',
      );
      return plan;
    } finally {
      release();
    }
  }

  /** Removes the files of a committed delete (the caller holds their digest locks), then the marker. */
  private async finishFiles(assetId: string, digests: string[]): Promise<void> {
    const db = this.assets.store.db;
    for (const d of digests) if (!(await payloadInUse(db, d))) await this.payloads.remove(d, db);
    await this.assets.store.write((tx) => clearTombstonePending(tx.db, assetId));
  }

  /** Removes a payload no row names, unless one started naming it (an import racing GC). */
  private async removeOrphan(sha256: string): Promise<number> {
    const release = await this.assets.locks.acquire([sha256]);
    try {
      if (this.payloads.kind === 'file') {
        if (await payloadInUse(this.assets.store.db, sha256)) return 0;
        return await this.payloads.remove(sha256, this.assets.store.db);
      }
      return await this.assets.store.write(async (tx) => {
        await lockPayloads(tx.db, [sha256]);
        if (await payloadInUse(tx.db, sha256)) return 0;
        return this.payloads.remove(sha256, tx.db);
      });
    } finally {
      release();
    }
  }

  async gc(dryRun: boolean): Promise<AssetGcReport> {
    const db = this.assets.store.db;
    const rows = await allAssets(db);
    const hard = await hardReferenceCounts(db);
    const candidates = rows.filter((r) => !hard.has(r.asset_id));
    const blocked = rows
      .filter((r) => hard.has(r.asset_id))
      .map((r) => ({ asset_id: r.asset_id, hard_reference_count: hard.get(r.asset_id)! }));
    // A payload is reclaimed when every asset naming it goes.
    const namers = new Map<string, { size: number; ids: Set<string> }>();
    for (const r of rows)
      for (const p of payloadsOf(r)) {
        const e = namers.get(p.sha256) ?? { size: p.byte_length, ids: new Set<string>() };
        e.ids.add(r.asset_id);
        namers.set(p.sha256, e);
      }
    const going = new Set(candidates.map((r) => r.asset_id));
    const orphans: OrphanPayload[] = (await this.payloads.list())
      .filter((p) => !namers.has(p.sha256))
      .map((p) => ({ ...p, location: this.payloads.locationOf(p.sha256) }));
    let reclaimable = orphans.reduce((n, o) => n + o.byte_length, 0);
    for (const e of namers.values()) if ([...e.ids].every((id) => going.has(id))) reclaimable += e.size;
    const report: AssetGcReport = {
      dry_run: dryRun,
      candidate_asset_ids: candidates.map((r) => r.asset_id),
      deleted_asset_ids: [],
      blocked,
      orphan_payloads: orphans,
      removed_orphan_payload_count: 0,
      reclaimable_bytes: reclaimable,
      reclaimed_bytes: 0,
    };
    if (dryRun) return report;
    for (const r of candidates) {
      try {
        const plan = await this.delete(r.asset_id, 'gc');
        report.deleted_asset_ids.push(r.asset_id);
        report.reclaimed_bytes += plan.reclaimable_bytes;
      } catch (err) {
        // A reference arrived since the listing: reported, not fatal; a concurrent delete: gone anyway.
        if (err instanceof DaemonError && err.code === 'asset_delete_blocked') {
          const refs = await referencesOf(db, r.asset_id);
          report.blocked.push({
            asset_id: r.asset_id,
            hard_reference_count: refs.filter((x) => x.hard).length,
          });
        } else if (!(err instanceof DaemonError && err.code === 'asset_not_found')) throw err;
      }
    }
    for (const o of orphans) {
      const freed = await this.removeOrphan(o.sha256);
      if (freed > 0) {
        report.removed_orphan_payload_count++;
        report.reclaimed_bytes += freed;
      }
    }
    this.log.info(
      {
        deleted_assets: report.deleted_asset_ids.length,
        blocked_assets: report.blocked.length,
        removed_orphan_payloads: report.removed_orphan_payload_count,
        reclaimed_bytes: report.reclaimed_bytes,
      },
      'asset gc',
    );
    return report;
  }

  /** Start-up: temp files, interrupted deletes, rows whose payloads are missing or cut. */
  async prepare(): Promise<AssetRepairSummary> {
    const db = this.assets.store.db;
    const temps = await this.payloads.removeTemps();
    let completed = 0;
    for (const t of await pendingTombstones(db)) {
      const digests = JSON.parse(t.pending_digests ?? '[]') as string[];
      const release = await this.assets.locks.acquire(digests);
      try {
        await this.finishFiles(t.asset_id, digests);
      } finally {
        release();
      }
      completed++;
    }
    const sizes = new Map((await this.payloads.list()).map((p) => [p.sha256, p.byte_length]));
    const rows = await allAssets(db);
    const unreadable: AssetRepairSummary['unreadable'] = [];
    let count = 0;
    for (const r of rows) {
      let bad = false;
      for (const p of payloadsOf(r)) {
        const size = sizes.get(p.sha256);
        if (size === p.byte_length) continue;
        bad = true;
        if (unreadable.length < REPAIR_SAMPLE)
          unreadable.push({
            asset_id: r.asset_id,
            kind: p.kind,
            problem: size === undefined ? 'missing' : 'length_mismatch',
          });
      }
      if (bad) count++;
    }
    this.repair = {
      checked_at_ms: Date.now(),
      assets_checked: rows.length,
      temp_files_removed: temps,
      interrupted_deletes_completed: completed,
      unreadable_asset_count: count,
      unreadable,
    };
    if (temps || completed || count)
      this.log.info({ asset_repair: this.repair }, 'asset store repaired at start-up');
    return this.repair;
  }

  healthWarnings(): HealthWarning[] {
    const r = this.repair;
    if (!r) return [];
    const out: HealthWarning[] = [];
    if (r.unreadable_asset_count > 0)
      out.push({
        severity: 'warning',
        code: 'asset_payload_unreadable',
        message: `${r.unreadable_asset_count} asset(s) have missing or cut payloads; reading them answers 409 assets/asset_integrity_mismatch`,
        related_id: r.unreadable[0]?.asset_id,
        action: 'restore the payload files from a backup, or delete the assets',
      });
    if (r.interrupted_deletes_completed > 0)
      out.push({
        severity: 'info',
        code: 'asset_delete_completed_at_startup',
        message: `${r.interrupted_deletes_completed} asset delete(s) interrupted by a stop were completed at start-up`,
      });
    return out;
  }
}
