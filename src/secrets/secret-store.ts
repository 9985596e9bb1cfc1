// The encrypted secret store over the daemon database: auth slots referenced by routes (`auth_ref`),
// connectors and MCP servers. Reads return redacted AuthSlotStatus views; only
// getSecretValue/getSecretState, for the daemon's own credential resolution, decrypt.
//
// States:
// - ready:    a master key is configured and matches what the stored slots were sealed with;
// - disabled: no key and no stored slot: everything works, secret writes are refused;
// - locked:   no key but slots exist: metadata stays readable, nothing can be decrypted or written.
// A key that does not match stored slots is refused in open(): the caller must not start.

import {
  type AuthSlotRow,
  countSlotRows,
  deleteSlotRow,
  getKeyCheck,
  getSlotRow,
  listSlotRows,
  putKeyCheck,
  upsertSlotRow,
} from '../store/repos/secrets.ts';
import type { Store } from '../store/store.ts';
import { type MasterKey, seal, unseal } from './crypto.ts';
import {
  SecretIntegrityError,
  SecretStoreStartupError,
  secretErrors,
  WrongMasterKeyError,
} from './errors.ts';
import { loadMasterKey } from './master-key.ts';
import {
  type AuthSlotStatus,
  assertSlotId,
  normalizeRecord,
  primarySecret,
  publicDetails,
  summarize,
} from './slots.ts';

export type SecretStoreState = 'ready' | 'disabled' | 'locked';
/** Who wrote a slot, shown in details.source. */
export type SlotSource = 'api' | 'cli_offline';

const KEY_CHECK_AAD = 'kheish:auth-key-check:v1';
const KEY_CHECK_PLAINTEXT = 'kheish auth-store key check v1';
const slotAad = (slotId: string) => `kheish:auth-slot:v1:${slotId}`;

export class SecretStore {
  readonly state: SecretStoreState;
  /** Things the operator should see in the start-up log. */
  readonly warnings: readonly string[];
  readonly #store: Store;
  readonly #key: MasterKey | null;

  private constructor(store: Store, key: MasterKey | null, state: SecretStoreState, warnings: string[]) {
    this.#store = store;
    this.#key = key;
    this.state = state;
    this.warnings = warnings;
  }

  /**
   * Loads the key from the environment and opens the store: the one call boot code needs.
   * Throws MasterKeyError / WrongMasterKeyError (both SecretStoreStartupError): refuse to start.
   */
  static async boot(store: Store, env: NodeJS.ProcessEnv = process.env): Promise<SecretStore> {
    return SecretStore.open(store, loadMasterKey(env));
  }

  /** Verifies `key` against the stored key check before anything else touches the slots. */
  static async open(store: Store, key: MasterKey | null): Promise<SecretStore> {
    const warnings = [...(key?.warnings ?? [])];
    const slots = await countSlotRows(store.db);
    if (!key) {
      if (slots === 0) return new SecretStore(store, null, 'disabled', warnings);
      warnings.push(
        `${slots} secret slot(s) are stored but no KHEISH_AUTH_STORE_MASTER_KEY[_FILE] is set: ` +
          'credentials in them cannot be used and secret writes are refused',
      );
      return new SecretStore(store, null, 'locked', warnings);
    }
    const check = await getKeyCheck(store.db);
    const verdict = check ? verifyKeyCheck(key, check.envelope, check.key_id) : 'ok';
    if (check && verdict !== 'ok') {
      if (slots > 0 && verdict === 'other_key')
        throw new WrongMasterKeyError(check.key_id, key.keyId, slots, key.source);
      if (slots > 0)
        throw new SecretStoreStartupError(
          'the key-check record of the secret store failed its integrity check although the master key ' +
            'id matches: the database was modified outside the daemon; restore it from a backup',
        );
      // Nothing is encrypted under the old key, so nothing can be lost by adopting the new one.
      warnings.push(
        `the master key changed (key id ${check.key_id} -> ${key.keyId}); no secret was stored under the old key, so the new key is adopted`,
      );
      await store.write(async (tx) => putKeyCheck(tx.db, newKeyCheck(key, tx.now)));
    } else if (!check && slots > 0) {
      // Slots without a check record (restored by hand, or a partial copy): the first slot decides.
      const first = (await listSlotRows(store.db))[0]!;
      try {
        unseal(key, first.envelope, slotAad(first.slot_id));
      } catch {
        if (first.key_id !== key.keyId)
          throw new WrongMasterKeyError(first.key_id, key.keyId, slots, key.source);
        throw new SecretStoreStartupError(
          `secret slot ${first.slot_id} failed its integrity check although the master key id matches: ` +
            'the database was modified outside the daemon; restore it from a backup',
        );
      }
      await store.write(async (tx) => putKeyCheck(tx.db, newKeyCheck(key, tx.now)));
    }
    return new SecretStore(store, key, 'ready', warnings);
  }

  /** Public key id of the configured master key (null without one). */
  get keyId(): string | null {
    return this.#key?.keyId ?? null;
  }

  get writable(): boolean {
    return this.state === 'ready';
  }

  async list(): Promise<AuthSlotStatus[]> {
    return (await listSlotRows(this.#store.db)).map(toStatus);
  }

  async status(slotId: string): Promise<AuthSlotStatus | undefined> {
    assertSlotId(slotId);
    const row = await getSlotRow(this.#store.db, slotId);
    return row && toStatus(row);
  }

  /** Creates or rotates a slot from a full AuthSlotRecord; validates it first. */
  async put(record: unknown, source: SlotSource = 'api'): Promise<AuthSlotStatus> {
    const key = this.requireKey();
    const slot = normalizeRecord(record);
    const envelope = seal(key, JSON.stringify(slot.state), slotAad(slot.slot_id));
    return this.#store.write(async (tx) => {
      const check = await getKeyCheck(tx.db);
      // Written with the first slot, so a store that never held a secret accepts any key.
      if (!check) await putKeyCheck(tx.db, newKeyCheck(key, tx.now));
      else if (check.key_id !== key.keyId)
        throw new WrongMasterKeyError(check.key_id, key.keyId, await countSlotRows(tx.db), key.source);
      const existing = await getSlotRow(tx.db, slot.slot_id);
      const row: AuthSlotRow = {
        slot_id: slot.slot_id,
        provider: slot.provider,
        mode: slot.mode,
        summary: summarize(slot.mode, slot.state),
        details: JSON.stringify(publicDetails(slot.state)),
        envelope,
        key_id: key.keyId,
        source,
        created_at_ms: existing?.created_at_ms ?? tx.now,
        updated_at_ms: tx.now,
      };
      await upsertSlotRow(tx.db, row);
      return toStatus(row);
    });
  }

  /** Removes a slot; false when it did not exist. Needs no key: nothing is decrypted. */
  async delete(slotId: string): Promise<boolean> {
    assertSlotId(slotId);
    return this.#store.write(async (tx) => deleteSlotRow(tx.db, slotId));
  }

  /** The decrypted state of a slot, for credential resolution inside the daemon only. */
  async getSecretState(slotId: string): Promise<Record<string, unknown>> {
    const key = this.requireKey();
    assertSlotId(slotId);
    const row = await getSlotRow(this.#store.db, slotId);
    if (!row) throw secretErrors.notFound(slotId);
    const text = unseal(key, row.envelope, slotAad(slotId), `secret slot ${slotId}`);
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SecretIntegrityError(`secret slot ${slotId}`, slotId);
    }
  }

  /** The slot's one secret (API key, opaque value or access token), e.g. for a route's `auth_ref`. */
  async getSecretValue(slotId: string): Promise<string> {
    const state = await this.getSecretState(slotId);
    const value = primarySecret(state);
    if (value === undefined) {
      const row = await getSlotRow(this.#store.db, slotId);
      throw secretErrors.noSingleValue(slotId, row?.mode ?? 'unknown');
    }
    return value;
  }

  /**
   * Re-seals every slot and the key check under `next`, in one transaction: a crash leaves the
   * store entirely under the old key or entirely under the new one (decision #552). Offline only
   * (the caller holds the state-root lock): a running daemon keeps the old key in memory.
   */
  /** `afterSlot` runs inside the transaction after each slot (the ops fault hook uses it). */
  async rekey(
    next: MasterKey,
    afterSlot?: (done: number, total: number) => Promise<void>,
  ): Promise<{ slots: number; from_key_id: string; to_key_id: string }> {
    const key = this.requireKey();
    return this.#store.write(async (tx) => {
      const rows = await listSlotRows(tx.db);
      let done = 0;
      for (const row of rows) {
        const plain = unseal(key, row.envelope, slotAad(row.slot_id), `secret slot ${row.slot_id}`);
        await upsertSlotRow(tx.db, {
          ...row,
          envelope: seal(next, plain, slotAad(row.slot_id)),
          key_id: next.keyId,
        });
        await afterSlot?.(++done, rows.length);
      }
      await putKeyCheck(tx.db, newKeyCheck(next, tx.now));
      return { slots: rows.length, from_key_id: key.keyId, to_key_id: next.keyId };
    });
  }

  private requireKey(): MasterKey {
    if (!this.#key) throw secretErrors.unavailable(this.state === 'locked' ? 'locked' : 'no_key');
    return this.#key;
  }
}

function newKeyCheck(key: MasterKey, now: number) {
  return { key_id: key.keyId, envelope: seal(key, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD), created_at_ms: now };
}

function verifyKeyCheck(key: MasterKey, envelope: string, keyId: string): 'ok' | 'other_key' | 'tampered' {
  if (keyId !== key.keyId) return 'other_key';
  try {
    return unseal(key, envelope, KEY_CHECK_AAD) === KEY_CHECK_PLAINTEXT ? 'ok' : 'tampered';
  } catch {
    return 'tampered';
  }
}

function toStatus(row: AuthSlotRow): AuthSlotStatus {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    // A damaged details column must not hide the slot from the inventory.
  }
  return {
    slot_id: row.slot_id,
    provider: row.provider,
    mode: row.mode,
    summary: row.summary,
    updated_at_ms: Number(row.updated_at_ms),
    details: {
      ...details,
      source: row.source,
      encrypted: true,
      key_id: row.key_id,
      created_at_ms: Number(row.created_at_ms),
    },
  };
}
