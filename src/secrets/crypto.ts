// Authenticated encryption of secret values: AES-256-GCM, a fresh random 12-byte nonce per value,
// and "additional data" naming what the value belongs to (e.g. its slot id), so a ciphertext copied
// into another slot fails to decrypt instead of silently answering for the wrong credential.
//
// The operator's master key is never used directly: HKDF-SHA256 derives the encryption key and a
// public key id from it. The key id lets errors and `details` say "encrypted with key X" without
// exposing anything that helps recover the key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SecretIntegrityError } from './errors.ts';

export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_VERSION = 'v1';
const HKDF_SALT = Buffer.from('kheish-auth-store', 'utf8');

/** A derived key pair. Printing or serializing it shows only the key id and where it came from. */
export class MasterKey {
  readonly keyId: string;
  readonly source: string;
  readonly warnings: readonly string[];
  readonly #encKey: Buffer;

  constructor(raw: Buffer, source: string, warnings: string[] = []) {
    if (raw.length !== MASTER_KEY_BYTES) throw new RangeError(`a master key is ${MASTER_KEY_BYTES} bytes`);
    this.#encKey = derive(raw, 'encryption v1', 32);
    this.keyId = derive(raw, 'key id v1', 8).toString('hex');
    this.source = source;
    this.warnings = warnings;
  }

  /** The AES key; only this module's seal/unseal use it. */
  get encryptionKey(): Buffer {
    return this.#encKey;
  }

  toJSON(): object {
    return { key_id: this.keyId, source: this.source };
  }

  [inspect.custom](): string {
    return `MasterKey { key_id: '${this.keyId}', source: '${this.source}' }`;
  }
}

function derive(raw: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', raw, HKDF_SALT, Buffer.from(info, 'utf8'), length));
}

/** What `secrets generate` prints: standard padded base64 of 32 random bytes (44 characters). */
export function generateMasterKeyText(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

/**
 * Encrypts `plaintext`; the result is `v1.<nonce>.<ciphertext>.<tag>` (base64url parts), a text
 * that fits any SQL dialect's TEXT column.
 */
export function seal(key: MasterKey, plaintext: string, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.encryptionKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [ENVELOPE_VERSION, nonce, body, tag]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Decrypts an envelope from `seal`; throws SecretIntegrityError unless key, data and aad all match. */
export function unseal(key: MasterKey, envelope: string, aad: string, what = 'an encrypted value'): string {
  const parts = envelope.split('.');
  if (parts.length !== 4 || parts[0] !== ENVELOPE_VERSION) throw new SecretIntegrityError(what);
  const [nonce, body, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url'));
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new SecretIntegrityError(what);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.encryptionKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    // node:crypto's own message ("Unsupported state or unable to authenticate data") says less.
    throw new SecretIntegrityError(what);
  }
}
