// The /v1/runtime/auth API over the broker: subject and lease status, revocation of a subject, a
// lease or a slot, and the status of oauth_account slots (accounts). Never a token or a value.
import { DaemonError } from '../../errors/daemon-error.ts';
import { secretErrors } from '../../secrets/errors.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { AuthSlotStatus } from '../../secrets/slots.ts';
import type { Store } from '../../store/store.ts';
import type { SecretsService } from '../secrets/service.ts';
import type { CredentialBroker } from './broker.ts';
import { ConnectorGrants } from './connector-grants.ts';
import {
  type LeaseStatus,
  leaseStatus,
  leasesOf,
  pruneExpired,
  readLease,
  revokeLeasesWhere,
  subjectRow,
} from './leases.ts';
import { refreshedState } from './refresh.ts';
import { checkSubjectId, leaseNotFound } from './subjects.ts';

export interface AuthSubjectStatus {
  subject_id: string;
  current_epoch: number;
  revoked: boolean;
  active_connector_lease_ids: string[];
  active_route_lease_ids: string[];
  active_mcp_lease_ids: string[];
}

export interface SlotRevocation {
  slot_id: string;
  revoked: true;
  revoked_lease_ids: string[];
}

const notAnAccount = (slotId: string, mode: string) =>
  new DaemonError(
    409,
    'runtime',
    'not_an_oauth_account',
    `secret slot ${slotId} has mode ${mode}; only oauth_account slots are accounts`,
  );

export class CredentialsService {
  readonly broker: CredentialBroker;
  /** Launch grants of child-process connector sidecars (the external-connectors feature). */
  readonly connectorGrants: ConnectorGrants;
  private readonly store: Store;
  private readonly secrets: SecretStore;
  /** Writes go through the secrets service: its change listeners reload routes and end leases. */
  private readonly secretsApi: SecretsService;

  constructor(o: {
    broker: CredentialBroker;
    store: Store;
    secrets: SecretStore;
    secretsApi: SecretsService;
  }) {
    this.broker = o.broker;
    this.store = o.store;
    this.secrets = o.secrets;
    this.secretsApi = o.secretsApi;
    this.connectorGrants = new ConnectorGrants({ store: o.store, broker: o.broker, secrets: o.secrets });
  }

  async prepare(): Promise<void> {
    await this.broker.load();
    await this.store.write((tx) => pruneExpired(tx));
  }

  async subject(subjectId: string): Promise<AuthSubjectStatus> {
    checkSubjectId(subjectId);
    const { epoch, revoked } = await subjectRow(this.store.db, subjectId);
    const live = (await leasesOf(this.store.db, subjectId))
      .map((row) => ({ row, status: leaseStatus(row) }))
      .filter((l) => l.status.active);
    const ids = (type: string) => live.filter((l) => l.row.audience.type === type).map((l) => l.row.lease_id);
    return {
      subject_id: subjectId,
      current_epoch: epoch,
      revoked,
      active_connector_lease_ids: ids('connector'),
      active_route_lease_ids: ids('route'),
      active_mcp_lease_ids: ids('mcp_server'),
    };
  }

  /** Revokes the subject for good: its leases die and no new one is issued (a new epoch starts). */
  async revokeSubject(subjectId: string): Promise<AuthSubjectStatus> {
    checkSubjectId(subjectId);
    await this.broker.revoke(async (tx) => {
      const { epoch } = await subjectRow(tx.db, subjectId);
      await tx.db
        .insertInto('auth_subjects')
        .values({
          subject_id: subjectId,
          current_epoch: epoch + 1,
          revoked_at_ms: tx.now,
          updated_at_ms: tx.now,
        })
        .onConflict((oc) =>
          oc
            .column('subject_id')
            .doUpdateSet({ current_epoch: epoch + 1, revoked_at_ms: tx.now, updated_at_ms: tx.now }),
        )
        .execute();
      await revokeLeasesWhere(tx, { subjectId }, 'subject_revoked');
    });
    return this.subject(subjectId);
  }

  async lease(leaseId: string): Promise<LeaseStatus> {
    const row = await readLease(this.store.db, leaseId);
    if (!row) throw leaseNotFound(leaseId);
    return leaseStatus(row);
  }

  async revokeLease(leaseId: string): Promise<LeaseStatus> {
    await this.lease(leaseId);
    await this.broker.revoke((tx) => revokeLeasesWhere(tx, { leaseId }, 'lease_revoked'));
    return this.lease(leaseId);
  }

  /**
   * Kills every lease tied to the slot and refuses new ones until the slot is written again
   * (rotation clears the revocation); the slot itself stays.
   */
  async revokeSlot(slotId: string): Promise<SlotRevocation> {
    if (!(await this.secrets.status(slotId))) throw secretErrors.notFound(slotId);
    const ids = await this.broker.revoke(async (tx) => {
      await tx.db
        .insertInto('auth_slot_revocations')
        .values({ slot_id: slotId, revoked_at_ms: tx.now })
        .onConflict((oc) => oc.column('slot_id').doUpdateSet({ revoked_at_ms: tx.now }))
        .execute();
      return revokeLeasesWhere(tx, { slotId }, 'slot_revoked');
    });
    return { slot_id: slotId, revoked: true, revoked_lease_ids: ids };
  }

  /** A slot was written or deleted: leases on the old credentials end; new ones may be issued. */
  async slotChanged(slotId: string): Promise<void> {
    await this.broker.revoke(async (tx) => {
      await tx.db.deleteFrom('auth_slot_revocations').where('slot_id', '=', slotId).execute();
      await revokeLeasesWhere(tx, { slotId }, 'slot_rotated');
    });
  }

  /** Forced refresh of an MCP OAuth account; the rewrite ends the leases on the old tokens. */
  async refreshAccount(slotId: string, signal: AbortSignal): Promise<AuthSlotStatus> {
    const status = await this.account(slotId);
    const state = await refreshedState(slotId, await this.secrets.getSecretState(slotId), signal);
    return this.secretsApi.put({ slot_id: slotId, provider: status.provider, mode: 'oauth_account', state });
  }

  async accounts(): Promise<AuthSlotStatus[]> {
    return (await this.secrets.list()).filter((s) => s.mode === 'oauth_account');
  }

  async account(slotId: string): Promise<AuthSlotStatus> {
    const status = await this.secrets.status(slotId);
    if (!status) throw secretErrors.notFound(slotId);
    if (status.mode !== 'oauth_account') throw notAnAccount(slotId, status.mode);
    return status;
  }
}
