// The backup manifest (docs/decisions.md #540, #543, #544): every file of the archive with its size and
// sha256, what the archive came from, and — when the state root's secret store has a master key —
// a seal: the manifest's own digest encrypted under that key, so an archive edited consistently
// (file and digest both) or restored with another key is refused before anything is written.
import { createHash } from 'node:crypto';
import type { MasterKey } from '../secrets/crypto.ts';
import { seal, unseal } from '../secrets/crypto.ts';
import { OpsError } from './errors.ts';

export const MANIFEST_FORMAT = 'kheish-backup/1';
export const MANIFEST_NAME = 'manifest.json';
/** The archive's files live under this folder, laid out exactly as in the state root. */
export const FILES_DIR = 'state';
const SEAL_AAD = 'kheish:backup-manifest:v1';

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  created_at_ms: number;
  daemon_version: string;
  /** `sqlite`: the database snapshot is `kheish.sqlite`; `postgres`: files only (pg_dump the database). */
  dialect: 'sqlite' | 'postgres';
  source_state_root: string;
  /** A daemon held the state root while the snapshot was taken (an online backup). */
  online: boolean;
  /** Key id of the master key the secret slots are sealed with (null: no secret was stored). */
  master_key_id: string | null;
  secret_slots: number;
  files: ManifestFile[];
  totals: { files: number; bytes: number };
  /** The manifest digest sealed with the master key (null without a key). */
  seal: string | null;
}

/** Sorted keys, no whitespace: the same manifest always has the same digest. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export const manifestDigest = (m: Omit<Manifest, 'seal'> & { seal?: unknown }): string => {
  const { seal: _s, ...body } = m;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
};

export function sealManifest(m: Omit<Manifest, 'seal'>, key: MasterKey | null): Manifest {
  return { ...m, seal: key ? seal(key, manifestDigest(m), SEAL_AAD) : null };
}

/** Parses and checks the manifest text; the key check (seal) is verifySeal's. */
export function parseManifest(text: string, where: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw new OpsError(
      `${where} is not valid JSON: the archive is damaged or was edited`,
      'restore from another copy of the backup',
    );
  }
  if (m?.format !== MANIFEST_FORMAT)
    throw new OpsError(
      `${where} is not a ${MANIFEST_FORMAT} manifest (format ${JSON.stringify(m?.format)})`,
      'pass a directory written by `kheish-daemon backup`',
    );
  const okFile = (f: ManifestFile) =>
    typeof f?.path === 'string' &&
    f.path !== '' &&
    !f.path.startsWith('/') &&
    !f.path.split('/').includes('..') &&
    Number.isSafeInteger(f.bytes) &&
    f.bytes >= 0 &&
    /^[0-9a-f]{64}$/.test(String(f.sha256));
  if (!Array.isArray(m.files) || !m.files.every(okFile))
    throw new OpsError(`${where} lists a file with a bad path, size or digest: the archive was edited`);
  return m;
}

/**
 * The seal must open with `key` and match the manifest: a different key, or any change to the
 * manifest (a file's digest edited along with the file), fails here.
 */
export function verifySeal(m: Manifest, key: MasterKey | null): void {
  if (m.master_key_id === null) return;
  if (!key)
    throw new OpsError(
      `the archive holds ${m.secret_slots} secret slot(s) sealed with master key ${m.master_key_id}, and no master key is set`,
      'set KHEISH_AUTH_STORE_MASTER_KEY_FILE (or KHEISH_AUTH_STORE_MASTER_KEY) to the key the daemon used when the backup was taken',
    );
  if (key.keyId !== m.master_key_id)
    throw new OpsError(
      `wrong master key: the archive's secrets are sealed with key ${m.master_key_id}, the key given is ${key.keyId}`,
      'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the original key (from your secret manager); a restore never re-keys',
    );
  // Taken without the key (backup warned): nothing vouches for the files, and a stripped seal
  // must not pass for that, so it is refused with its cause rather than as an edited manifest.
  if (m.seal === null)
    throw new OpsError(
      `the archive is not sealed: it was taken without the master key set, so its ${m.secret_slots} secret slot(s) and its files cannot be authenticated`,
      'take a new backup with KHEISH_AUTH_STORE_MASTER_KEY_FILE set as for the daemon',
    );
  let digest: string;
  try {
    digest = unseal(key, String(m.seal), SEAL_AAD, 'the backup manifest');
  } catch {
    throw new OpsError(
      'the manifest seal does not open with this key: the manifest was edited after the backup',
      'restore from another copy of the backup',
    );
  }
  if (digest !== manifestDigest(m))
    throw new OpsError(
      'the manifest does not match its seal: it was edited after the backup (a file or digest changed)',
      'restore from another copy of the backup',
    );
}
