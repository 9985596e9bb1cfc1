// The Playbook catalog (api-collab §3.3–3.4): immutable versions identified by their digest, and
// the mutable release state of each version. Every change is one transaction with its event row.

import type { Executor, PlaybookVersionsTable } from '../../store/schema.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import { pbErrors as E } from './errors.ts';
import { canonicalManifest, manifestDigest, validateManifest } from './manifest.ts';
import type { EvidenceRef, PlaybookManifest, PublishRequest, RevokeRequest } from './schema.ts';

export type VersionRow = PlaybookVersionsTable;
export const STARTABLE = new Set(['verified', 'canary', 'active']);

const versionView = (r: VersionRow) => ({
  version: r.version,
  digest: r.digest,
  status: r.status,
  created_at_ms: Number(r.created_at_ms),
  updated_at_ms: Number(r.updated_at_ms),
  evidence_refs: JSON.parse(r.evidence_refs) as EvidenceRef[],
  revoked_reason: r.revoked_reason,
});

// Versions compare by creation, then by version string: "latest" is the newest created.
const byAge = (a: VersionRow, b: VersionRow) =>
  Number(a.created_at_ms) - Number(b.created_at_ms) || a.version.localeCompare(b.version);

export function playbookView(rows: VersionRow[], selected?: string) {
  const sorted = [...rows].sort(byAge);
  const latest = sorted[sorted.length - 1]!;
  const pick = sorted.find((r) => r.version === selected) ?? latest;
  return {
    playbook_id: latest.playbook_id,
    latest_version: latest.version,
    active_version: sorted.find((r) => r.status === 'active')?.version ?? null,
    versions: sorted.map(versionView),
    selected_version: {
      playbook_id: pick.playbook_id,
      version: pick.version,
      digest: pick.digest,
      manifest: JSON.parse(pick.manifest) as PlaybookManifest,
      created_at_ms: Number(pick.created_at_ms),
    },
  };
}
export type PlaybookView = ReturnType<typeof playbookView>;

export async function versionsOf(db: Executor, playbookId: string): Promise<VersionRow[]> {
  return db.selectFrom('playbook_versions').selectAll().where('playbook_id', '=', playbookId).execute();
}

export async function playbookEvent(
  tx: WriteTx,
  kind: string,
  playbookId: string,
  flowId: string | null,
  data: unknown,
): Promise<void> {
  await tx.db
    .insertInto('playbook_events')
    .values({
      kind,
      playbook_id: playbookId,
      flow_id: flowId,
      created_at_ms: tx.now,
      data: JSON.stringify(data),
    })
    .execute();
}

export class PlaybookCatalog {
  readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }

  validate(manifest: PlaybookManifest) {
    return validateManifest(manifest);
  }

  /** Idempotent on playbook_id + version + digest; the same version with another body is a 409. */
  async create(manifest: PlaybookManifest): Promise<PlaybookView> {
    const result = validateManifest(manifest);
    if (!result.valid) throw E.invalidManifest(result.errors);
    const digest = manifestDigest(manifest);
    const { playbook_id: id, version } = manifest;
    return this.store.write(async (tx) => {
      const rows = await versionsOf(tx.db, id);
      const same = rows.find((r) => r.version === version);
      if (same && same.digest !== digest) throw E.versionConflict(id, version);
      if (!same) {
        const row: VersionRow = {
          playbook_id: id,
          version,
          digest,
          manifest: canonicalManifest(manifest),
          status: 'draft',
          evidence_refs: '[]',
          revoked_reason: null,
          created_at_ms: tx.now,
          updated_at_ms: tx.now,
        };
        await tx.db.insertInto('playbook_versions').values(row).execute();
        await playbookEvent(tx, 'version_created', id, null, { version, digest });
        rows.push(row);
      }
      return playbookView(rows, version);
    });
  }

  async get(id: string): Promise<PlaybookView> {
    const rows = await versionsOf(this.store.db, id);
    if (!rows.length) throw E.notFound(id);
    return playbookView(rows);
  }

  async list(q: { query?: string; status?: string }): Promise<PlaybookView[]> {
    const rows = await this.store.db.selectFrom('playbook_versions').selectAll().execute();
    const byId = new Map<string, VersionRow[]>();
    for (const r of rows) byId.set(r.playbook_id, [...(byId.get(r.playbook_id) ?? []), r]);
    const needle = q.query?.toLowerCase();
    return [...byId.keys()]
      .sort()
      .map((id) => byId.get(id)!)
      .filter((vs) => !q.status || vs.some((v) => v.status === q.status))
      .filter(
        (vs) =>
          !needle ||
          vs.some((v) => {
            const m = JSON.parse(v.manifest) as PlaybookManifest;
            return [m.playbook_id, m.title, m.objective, v.digest].some((s) =>
              s.toLowerCase().includes(needle),
            );
          }),
      )
      .map((vs) => playbookView(vs));
  }

  /** The stored version, checked against the digest the caller names. */
  async version(db: Executor, id: string, version: string, digest: string): Promise<VersionRow> {
    const rows = await versionsOf(db, id);
    if (!rows.length) throw E.notFound(id);
    const row = rows.find((r) => r.version === version);
    if (!row) throw E.versionNotFound(id, version);
    if (row.digest !== digest) throw E.digestMismatch(id, version);
    return row;
  }

  /** Decision 392: one active version at a time; publishing another active demotes it to canary. */
  async publish(id: string, body: PublishRequest): Promise<PlaybookView> {
    const status = body.status ?? 'active';
    const evidence = body.evidence_refs ?? [];
    if (evidence.length === 0) throw E.evidenceRequired(status);
    return this.store.write(async (tx) => {
      const row = await this.version(tx.db, id, body.version, body.digest);
      if (status === 'active')
        await tx.db
          .updateTable('playbook_versions')
          .set({ status: 'canary', updated_at_ms: tx.now })
          .where('playbook_id', '=', id)
          .where('status', '=', 'active')
          .where('version', '!=', row.version)
          .execute();
      await tx.db
        .updateTable('playbook_versions')
        .set({ status, evidence_refs: JSON.stringify(evidence), revoked_reason: null, updated_at_ms: tx.now })
        .where('playbook_id', '=', id)
        .where('version', '=', row.version)
        .execute();
      await playbookEvent(tx, 'version_published', id, null, { version: row.version, status, evidence });
      return playbookView(await versionsOf(tx.db, id), row.version);
    });
  }

  async revoke(id: string, body: RevokeRequest): Promise<PlaybookView> {
    return this.store.write(async (tx) => {
      const row = await this.version(tx.db, id, body.version, body.digest);
      const evidence = [...(JSON.parse(row.evidence_refs) as EvidenceRef[]), ...(body.evidence_refs ?? [])];
      await tx.db
        .updateTable('playbook_versions')
        .set({
          status: 'revoked',
          revoked_reason: body.reason ?? null,
          evidence_refs: JSON.stringify(evidence),
          updated_at_ms: tx.now,
        })
        .where('playbook_id', '=', id)
        .where('version', '=', row.version)
        .execute();
      await playbookEvent(tx, 'version_revoked', id, null, {
        version: row.version,
        reason: body.reason ?? null,
      });
      return playbookView(await versionsOf(tx.db, id), row.version);
    });
  }
}
