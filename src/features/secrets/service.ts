// Rules of the secrets API over the encrypted store: write-only values, redacted reads, and no
// deletion of a slot something still uses.

import { secretErrors } from '../../secrets/errors.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import type { AuthSlotStatus } from '../../secrets/slots.ts';

/** Names what still references a slot (routes, connectors, MCP servers); empty when unused. */
export type SecretReferenceCheck = (slotId: string) => string[];

export class SecretsService {
  readonly store: SecretStore;
  private readonly references: SecretReferenceCheck[] = [];
  private readonly changeListeners: Array<(slotId: string) => Promise<void>> = [];

  constructor(store: SecretStore) {
    this.store = store;
  }

  /** Features that bind slots (connectors, MCP) register here so DELETE can answer 409. */
  addReferenceCheck(check: SecretReferenceCheck): void {
    this.references.push(check);
  }

  list(): Promise<AuthSlotStatus[]> {
    return this.store.list();
  }

  async get(slotId: string): Promise<AuthSlotStatus> {
    const status = await this.store.status(slotId);
    if (!status) throw secretErrors.notFound(slotId);
    return status;
  }

  /** Called after every write or delete, before the API answers (e.g. routes re-read credentials). */
  onChange(listener: (slotId: string) => Promise<void>): void {
    this.changeListeners.push(listener);
  }

  private async changed(slotId: string): Promise<void> {
    for (const l of this.changeListeners) await l(slotId);
  }

  /** Creates or rotates a slot; the body is a full AuthSlotRecord. */
  async put(record: unknown): Promise<AuthSlotStatus> {
    const status = await this.store.put(record, 'api');
    await this.changed(status.slot_id);
    return status;
  }

  async delete(slotId: string): Promise<{ accepted: true }> {
    await this.get(slotId);
    const users = this.references.flatMap((check) => check(slotId));
    if (users.length > 0) throw secretErrors.inUse(slotId, users);
    if (!(await this.store.delete(slotId))) throw secretErrors.notFound(slotId);
    await this.changed(slotId);
    return { accepted: true };
  }
}
