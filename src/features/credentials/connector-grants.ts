// Credential grants for child-process connector sidecars (api-collab §6.8, "child-process
// credential broker"). A launch gets one grant: an opaque token scoped to the connector and the
// env keys it lists, whose digest is a lease row (audience `connector`, no slot). Each fetch of
// one env key issues a short lease bound to the connector, the key and the concrete slot, and
// returns the slot's value. Restarting or stopping the child revokes the grant and its leases; a
// slot remapped since the launch refuses the old grant; a revoked subject or slot refuses too.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import type { CredentialBroker } from './broker.ts';
import { type Audience, revokedSubjects, slotRevoked, subjectRow } from './leases.ts';

export const connectorSubject = (connector: string) => `connector:${connector}`;

export interface ConnectorGrant {
  grant_id: string;
  lease_id: string;
  /** Handed to the child once, in its launch environment; only its digest is stored. */
  token: string;
  expires_at_ms: number;
}

export interface ConnectorCredential {
  value: string;
  lease_id: string;
  grant_id: string;
  expires_at_ms: number;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

const refused = (status: number, code: string, detail: string) =>
  new DaemonError(status, 'connectors', code, detail);

type ConnectorAudience = Extract<Audience, { type: 'connector' }>;

export class ConnectorGrants {
  private readonly store: Store;
  private readonly broker: CredentialBroker;
  private readonly secrets: SecretStore;

  constructor(o: { store: Store; broker: CredentialBroker; secrets: SecretStore }) {
    this.store = o.store;
    this.broker = o.broker;
    this.secrets = o.secrets;
  }

  /** A grant for one launch of `connector`'s child, over `slots` (env key → secret slot). */
  async issue(connector: string, slots: Record<string, string>, ttlMs: number): Promise<ConnectorGrant> {
    const subject = connectorSubject(connector);
    const token = randomBytes(32).toString('base64url');
    const audience: ConnectorAudience = {
      type: 'connector',
      connector,
      env_keys: Object.keys(slots).sort(),
      slots,
    };
    return this.store.write(async (tx) => {
      const { epoch } = await subjectRow(tx.db, subject);
      const row = {
        lease_id: `lease_${ulid()}`,
        grant_id: `grant_${ulid()}`,
        subject_id: subject,
        subject_epoch: epoch,
        audience_type: 'connector',
        audience: JSON.stringify(audience),
        slot_id: null,
        issued_at_ms: tx.now,
        expires_at_ms: tx.now + ttlMs,
        revoked_at_ms: null,
        revoke_reason: null,
        token_digest: digest(token).toString('hex'),
      };
      await tx.db.insertInto('auth_leases').values(row).execute();
      return { grant_id: row.grant_id, lease_id: row.lease_id, token, expires_at_ms: row.expires_at_ms };
    });
  }

  /** Keeps a live child's grant from expiring (the supervisor calls this while the child runs). */
  async extend(grantId: string, ttlMs: number): Promise<void> {
    await this.store.write((tx) =>
      tx.db
        .updateTable('auth_leases')
        .set({ expires_at_ms: tx.now + ttlMs })
        .where('grant_id', '=', grantId)
        .where('slot_id', 'is', null)
        .where('revoked_at_ms', 'is', null)
        .execute(),
    );
  }

  /** Ends a launch's grant and every lease fetched through it. */
  async revoke(grantId: string, reason: string): Promise<void> {
    await this.broker.revoke((tx) => revokeWhere(tx, (q) => q.where('grant_id', '=', grantId), reason));
  }

  /** Ends every grant of a connector (a dead process's, found at start-up; the connector deleted). */
  async revokeAll(connector: string, reason: string): Promise<void> {
    await this.broker.revoke((tx) =>
      revokeWhere(tx, (q) => q.where('subject_id', '=', connectorSubject(connector)), reason),
    );
  }

  /**
   * One credential for the bearer of a grant token. `currentSlots` is the connector's mapping now:
   * a key remapped to another slot since the launch refuses the old grant.
   */
  async redeem(
    connector: string,
    envKey: string,
    token: string,
    currentSlots: Record<string, string>,
    ttlMs: number,
  ): Promise<ConnectorCredential> {
    const subject = connectorSubject(connector);
    const presented = digest(token);
    const rows = await this.store.db
      .selectFrom('auth_leases')
      .selectAll()
      .where('subject_id', '=', subject)
      .where('slot_id', 'is', null)
      .where('audience_type', '=', 'connector')
      .execute();
    // Compared as digests, in constant time, against every grant of this connector.
    const grant = rows.find((r) => {
      const stored = Buffer.from(r.token_digest, 'hex');
      return stored.length === presented.length && timingSafeEqual(stored, presented);
    });
    const now = Date.now();
    if (!grant || grant.revoked_at_ms !== null || Number(grant.expires_at_ms) <= now)
      throw refused(401, 'credential_lease_invalid', 'the credential token is unknown, expired or revoked');
    const audience = JSON.parse(grant.audience) as ConnectorAudience;
    const slot = audience.slots?.[envKey];
    if (!audience.env_keys.includes(envKey) || !slot)
      throw refused(
        403,
        'credential_key_not_granted',
        `env key ${envKey.slice(0, 128)} is not granted to this token`,
      );
    if (currentSlots[envKey] !== slot)
      throw refused(
        403,
        'credential_slot_remapped',
        `env key ${envKey.slice(0, 128)} now maps to another slot`,
      );
    const issued = await this.store.write(async (tx) => {
      if ((await revokedSubjects(tx.db, [subject])).length) return null;
      if (await slotRevoked(tx.db, slot)) return null;
      const { epoch } = await subjectRow(tx.db, subject);
      if (epoch !== Number(grant.subject_epoch)) return null;
      const lease = {
        lease_id: `lease_${ulid()}`,
        grant_id: grant.grant_id,
        subject_id: subject,
        subject_epoch: epoch,
        audience_type: 'connector',
        audience: JSON.stringify({
          type: 'connector',
          connector,
          env_keys: [envKey],
        } satisfies ConnectorAudience),
        slot_id: slot,
        issued_at_ms: tx.now,
        expires_at_ms: Math.min(tx.now + ttlMs, Number(grant.expires_at_ms)),
        revoked_at_ms: null,
        revoke_reason: null,
        // Fetch leases are never presented: their token is thrown away.
        token_digest: digest(randomBytes(32).toString('base64url')).toString('hex'),
      };
      await tx.db.insertInto('auth_leases').values(lease).execute();
      return lease;
    });
    if (!issued) throw refused(403, 'credential_revoked', 'the connector or its secret slot is revoked');
    let value: string;
    try {
      value = await this.secrets.getSecretValue(slot);
    } catch {
      throw refused(
        503,
        'credential_unavailable',
        `the secret slot for ${envKey.slice(0, 128)} cannot be read`,
      );
    }
    if (value === '')
      throw refused(503, 'credential_unavailable', `the secret slot for ${envKey.slice(0, 128)} is empty`);
    return {
      value,
      lease_id: issued.lease_id,
      grant_id: issued.grant_id,
      expires_at_ms: issued.expires_at_ms,
    };
  }
}

async function revokeWhere(tx: WriteTx, narrow: (q: any) => any, reason: string): Promise<string[]> {
  const q = tx.db
    .updateTable('auth_leases')
    .set({ revoked_at_ms: tx.now, revoke_reason: reason })
    .where('revoked_at_ms', 'is', null);
  const rows = await narrow(q).returning('lease_id').execute();
  return (rows as Array<{ lease_id: string }>).map((r) => r.lease_id);
}
