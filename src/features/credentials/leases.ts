// Durable broker rows (migration 0020): leases, revoked subjects, revoked slots, and the revocation
// epoch in daemon_meta that tells every process (and replica) its cached leases are stale.
import { createHash, randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';

export type Audience =
  | { type: 'route'; route_id: string; slot_id: string | null }
  | { type: 'mcp_server'; server: string; slot_id: string | null; scopes_hash?: string }
  | {
      type: 'connector';
      connector: string;
      env_keys: string[];
      /** A child-process launch grant: env key → secret slot at launch (slot names, never values). */
      slots?: Record<string, string>;
    };

export interface LeaseRow {
  lease_id: string;
  grant_id: string;
  subject_id: string;
  subject_epoch: number;
  audience: Audience;
  slot_id: string | null;
  issued_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
}

/** CredentialLeaseStatus: the token digest stays inside. */
export interface LeaseStatus {
  lease: {
    id: string;
    grant_id: string;
    subject_id: string;
    subject_epoch: number;
    audience: Audience;
    issued_at_ms: number;
    expires_at_ms: number;
  };
  revoked: boolean;
  active: boolean;
}

export const EPOCH_KEY = 'auth_revocation_epoch';

const toRow = (r: {
  lease_id: string;
  grant_id: string;
  subject_id: string;
  subject_epoch: number | string;
  audience: string;
  slot_id: string | null;
  issued_at_ms: number | string;
  expires_at_ms: number | string;
  revoked_at_ms: number | string | null;
}): LeaseRow => ({
  ...r,
  subject_epoch: Number(r.subject_epoch),
  audience: JSON.parse(r.audience) as Audience,
  issued_at_ms: Number(r.issued_at_ms),
  expires_at_ms: Number(r.expires_at_ms),
  revoked_at_ms: r.revoked_at_ms === null ? null : Number(r.revoked_at_ms),
});

export function leaseStatus(row: LeaseRow, now = Date.now()): LeaseStatus {
  const revoked = row.revoked_at_ms !== null;
  return {
    lease: {
      id: row.lease_id,
      grant_id: row.grant_id,
      subject_id: row.subject_id,
      subject_epoch: row.subject_epoch,
      audience: row.audience,
      issued_at_ms: row.issued_at_ms,
      expires_at_ms: row.expires_at_ms,
    },
    revoked,
    active: !revoked && now < row.expires_at_ms,
  };
}

export async function readLease(db: Executor, leaseId: string): Promise<LeaseRow | undefined> {
  const r = await db.selectFrom('auth_leases').selectAll().where('lease_id', '=', leaseId).executeTakeFirst();
  return r ? toRow(r) : undefined;
}

export async function leasesOf(db: Executor, subjectId: string): Promise<LeaseRow[]> {
  const rows = await db.selectFrom('auth_leases').selectAll().where('subject_id', '=', subjectId).execute();
  return rows.map(toRow);
}

export async function subjectRow(db: Executor, subjectId: string) {
  const r = await db
    .selectFrom('auth_subjects')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return r
    ? { epoch: Number(r.current_epoch), revoked: r.revoked_at_ms !== null }
    : { epoch: 0, revoked: false };
}

export async function revokedSubjects(db: Executor, subjectIds: string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('auth_subjects')
    .select('subject_id')
    .where('subject_id', 'in', subjectIds)
    .where('revoked_at_ms', 'is not', null)
    .execute();
  return rows.map((r) => r.subject_id);
}

export async function slotRevoked(db: Executor, slotId: string): Promise<boolean> {
  const r = await db
    .selectFrom('auth_slot_revocations')
    .select('slot_id')
    .where('slot_id', '=', slotId)
    .executeTakeFirst();
  return r !== undefined;
}

/** Inserts a lease; the opaque token is returned once and only its digest is stored. */
export async function insertLease(
  tx: WriteTx,
  o: { subjectId: string; epoch: number; audience: Audience; slotId: string | null; ttlMs: number },
): Promise<{ row: LeaseRow; token: string }> {
  const token = randomBytes(32).toString('base64url');
  const row: LeaseRow = {
    lease_id: `lease_${ulid()}`,
    grant_id: `grant_${ulid()}`,
    subject_id: o.subjectId,
    subject_epoch: o.epoch,
    audience: o.audience,
    slot_id: o.slotId,
    issued_at_ms: tx.now,
    expires_at_ms: tx.now + o.ttlMs,
    revoked_at_ms: null,
  };
  await tx.db
    .insertInto('auth_leases')
    .values({
      ...row,
      audience_type: o.audience.type,
      audience: JSON.stringify(o.audience),
      revoke_reason: null,
      token_digest: createHash('sha256').update(token).digest('hex'),
    })
    .execute();
  return { row, token };
}

/** Marks live leases revoked; returns their ids. */
export async function revokeLeasesWhere(
  tx: WriteTx,
  where: { subjectId?: string; slotId?: string; leaseId?: string },
  reason: string,
): Promise<string[]> {
  let q = tx.db
    .updateTable('auth_leases')
    .set({ revoked_at_ms: tx.now, revoke_reason: reason })
    .where('revoked_at_ms', 'is', null);
  if (where.subjectId !== undefined) q = q.where('subject_id', '=', where.subjectId);
  if (where.slotId !== undefined) q = q.where('slot_id', '=', where.slotId);
  if (where.leaseId !== undefined) q = q.where('lease_id', '=', where.leaseId);
  const rows = await q.returning('lease_id').execute();
  return rows.map((r) => r.lease_id);
}

export async function readEpoch(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('daemon_meta')
    .select('value')
    .where('key', '=', EPOCH_KEY)
    .executeTakeFirst();
  return r ? Number(r.value) : 0;
}

/** Moves the revocation epoch on; every cached lease of every process becomes stale. */
export async function bumpEpoch(tx: WriteTx): Promise<number> {
  const next = (await readEpoch(tx.db)) + 1;
  await tx.db
    .insertInto('daemon_meta')
    .values({ key: EPOCH_KEY, value: String(next) })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(next) }))
    .execute();
  return next;
}

/** Leases long expired are history nobody asks for: kept a day, then removed. */
export async function pruneExpired(tx: WriteTx, keepMs = 86_400_000): Promise<void> {
  await tx.db
    .deleteFrom('auth_leases')
    .where('expires_at_ms', '<', tx.now - keepMs)
    .execute();
}
