// Offline key rotation (ops-runtime §16.3), each under the state-root lock:
// - the auth-store master key: every secret slot re-sealed under a new key in one transaction,
//   then checked by reading every slot back with the new key (decision #552);
// - the external-action audit signing key: the old public key archived under
//   `<state_root>/audit-keys/`, a rollover record appended to the `daemon` chain and signed by the
//   OLD key (it vouches for the new key id), then the new key file swapped in atomically; chains
//   go on across the change and `audit verify` trusts the archived keys (decision #553).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ActionSigner,
  appendExternalAction,
  auditKeySource,
  DAEMON_CHAIN,
  readKeySource,
} from '../engine/external-actions.ts';
import type { MasterKey } from '../secrets/crypto.ts';
import { OpsError } from './errors.ts';
import { fsyncDir, opsFaults, writeDurable } from './files.ts';
import { lockForMaintenance } from './state-lock.ts';

export interface RotateMasterKeyResult {
  slots: number;
  from_key_id: string;
  to_key_id: string;
  verified: number;
}

export async function rotateMasterKey(o: {
  stateRoot: string;
  databaseUrl?: string | null;
  current: MasterKey | null;
  next: MasterKey;
}): Promise<RotateMasterKeyResult> {
  const root = resolve(o.stateRoot);
  if (!o.databaseUrl && !existsSync(join(root, 'kheish.sqlite')))
    throw new OpsError(
      `no daemon state at ${root} (kheish.sqlite is missing)`,
      "pass the daemon's --state-root",
    );
  if (!o.current)
    throw new OpsError(
      'no current master key is set',
      'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the key in use, and pass the new one with --new-key-file',
    );
  if (o.current.keyId === o.next.keyId)
    throw new OpsError(
      'the new master key is the key in use',
      'generate a new one with `kheish-daemon secrets generate`',
    );
  const lock = lockForMaintenance(root, 'secrets rotate-master-key');
  try {
    const [{ Store }, { SecretStore }, errs] = await Promise.all([
      import('../store/store.ts'),
      import('../secrets/secret-store.ts'),
      import('../secrets/errors.ts'),
    ]);
    const store = await Store.open({ stateRoot: root, databaseUrl: o.databaseUrl ?? null });
    try {
      const asOps = (err: unknown) =>
        errs.isSecretStoreStartupError(err)
          ? new OpsError(err.message, 'KHEISH_AUTH_STORE_MASTER_KEY[_FILE] must be the key in use')
          : err;
      const current = await SecretStore.open(store, o.current).catch((err) => {
        throw asOps(err);
      });
      // Test-only: with KHEISH_FAULT_OPS_DELAY_MS the transaction pauses after each slot and says
      // so on stderr, so a crash test can SIGKILL it with some slots re-sealed and others not.
      const { delayMs } = opsFaults();
      const result = await current.rekey(
        o.next,
        delayMs
          ? async (done, total) => {
              process.stderr.write(`fault: re-sealed ${done}/${total} slots (uncommitted)\n`);
              await new Promise((r) => setTimeout(r, delayMs));
            }
          : undefined,
      );
      // Read back: every slot must open with the new key before the operator discards the old one.
      const after = await SecretStore.open(store, o.next).catch((err) => {
        throw asOps(err);
      });
      let verified = 0;
      for (const s of await after.list()) {
        await after.getSecretState(s.slot_id);
        verified++;
      }
      return { ...result, verified };
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
}

export interface RotateAuditKeyResult {
  old_key_id: string;
  new_key_id: string;
  key_file: string;
  archived_public_key: string;
  rotated_at_ms: number;
}

export const AUDIT_KEYS_DIR = 'audit-keys';
export const archivedKeyName = (keyId: string) => `${keyId.replace(':', '-')}.pub.pem`;

export async function rotateAuditKey(o: {
  stateRoot: string;
  databaseUrl?: string | null;
  env?: NodeJS.ProcessEnv;
}): Promise<RotateAuditKeyResult> {
  const root = resolve(o.stateRoot);
  const env = o.env ?? process.env;
  if (!o.databaseUrl && !existsSync(join(root, 'kheish.sqlite')))
    throw new OpsError(
      `no daemon state at ${root} (kheish.sqlite is missing)`,
      "pass the daemon's --state-root",
    );
  const source = auditKeySource(root, env);
  if (source.kind === 'inline')
    throw new OpsError(
      'the signing key comes from KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY (inline): this command cannot replace it',
      'use a key file (KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE or <state_root>/audit-signing.key), or replace the variable yourself after archiving `audit public-key`',
    );
  const lock = lockForMaintenance(root, 'audit rotate-key');
  try {
    let old: ActionSigner;
    try {
      old = ActionSigner.fromPem(readKeySource(source, false));
    } catch (err) {
      throw new OpsError((err as Error).message, 'the current key must be readable to vouch for the new one');
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const next = ActionSigner.fromPem({ pem, where: 'the new key' });
    const now = Date.now();
    // 1. The old public key, kept for verification of the records it signed.
    const archiveDir = join(root, AUDIT_KEYS_DIR);
    await mkdir(archiveDir, { recursive: true, mode: 0o700 });
    const archived = join(archiveDir, archivedKeyName(old.keyId));
    if (!existsSync(archived)) {
      await writeFile(`${archived}.tmp`, old.publicKeyPem(), { mode: 0o644 });
      await rename(`${archived}.tmp`, archived);
    }
    const nextPub = join(archiveDir, archivedKeyName(next.keyId));
    await writeFile(nextPub, next.publicKeyPem(), { mode: 0o644 });
    await fsyncDir(archiveDir);
    // 2. The rollover record, signed by the old key: the chain names its successor.
    const { Store } = await import('../store/store.ts');
    const store = await Store.open({ stateRoot: root, databaseUrl: o.databaseUrl ?? null });
    try {
      await store.write((tx) =>
        appendExternalAction(
          tx.db,
          old,
          {
            run_id: DAEMON_CHAIN,
            session_id: null,
            agent_id: null,
            tool_call_id: null,
            phase: 'completed',
            kind: 'audit_key_rotated',
            target: next.keyId,
            request: {
              old_key_id: old.keyId,
              new_key_id: next.keyId,
              new_public_key_pem: next.publicKeyPem(),
            },
            outcome: 'succeeded',
          },
          tx.now,
        ),
      );
    } finally {
      await store.close();
    }
    // 3. The new private key, swapped in atomically (0600).
    const keyFile = source.path;
    const tmp = `${keyFile}.next`;
    await rm(tmp, { force: true });
    await writeDurable(tmp, pem, 0o600);
    await rename(tmp, keyFile);
    await fsyncDir(dirname(keyFile));
    return {
      old_key_id: old.keyId,
      new_key_id: next.keyId,
      key_file: keyFile,
      archived_public_key: archived,
      rotated_at_ms: now,
    };
  } finally {
    lock.release();
  }
}
