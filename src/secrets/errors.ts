// Errors of the secret store. Two families:
// - start-up errors (a bad or wrong master key): the daemon must refuse to start with the message
//   as is, so they are plain typed errors the boot code turns into its own startup failure;
// - request errors: DaemonErrors with the spec's `runtime` domain, rendered as problem+json.
// No message here ever contains a secret value or key material: only slot ids and key ids.
import { DaemonError } from '../errors/daemon-error.ts';

/** Base of the errors that must stop the daemon (or an offline CLI command) before any write. */
export class SecretStoreStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretStoreStartupError';
  }
}

/** KHEISH_AUTH_STORE_MASTER_KEY[_FILE] is malformed, unreadable, or both are set. */
export class MasterKeyError extends SecretStoreStartupError {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/** The configured master key is not the one the stored secrets were encrypted with. */
export class WrongMasterKeyError extends SecretStoreStartupError {
  readonly storedKeyId: string;
  readonly givenKeyId: string;
  readonly slotCount: number;

  constructor(storedKeyId: string, givenKeyId: string, slotCount: number, source: string) {
    super(
      `the auth-store master key does not match this state root: its ${slotCount} secret slot(s) were ` +
        `encrypted with key id ${storedKeyId}, but ${source} holds key id ${givenKeyId}. ` +
        'Start again with the original key (from your secret manager or backup); ' +
        'nothing was read or overwritten.',
    );
    this.name = 'WrongMasterKeyError';
    this.storedKeyId = storedKeyId;
    this.givenKeyId = givenKeyId;
    this.slotCount = slotCount;
  }
}

/** An encrypted value failed authentication: tampered, truncated, or moved to another slot. */
export class SecretIntegrityError extends Error {
  readonly slotId: string | undefined;

  constructor(what: string, slotId?: string) {
    super(
      `${what} failed its integrity check (tampered with, truncated, or copied from another slot); ` +
        'it was not used',
    );
    this.name = 'SecretIntegrityError';
    this.slotId = slotId;
  }
}

export const isSecretStoreStartupError = (err: unknown): err is SecretStoreStartupError =>
  err instanceof SecretStoreStartupError;

const KEY_HINT =
  'start the daemon (or the offline command) with KHEISH_AUTH_STORE_MASTER_KEY or ' +
  'KHEISH_AUTH_STORE_MASTER_KEY_FILE; create a key once with `kheish-daemon secrets generate`';

/** Request errors, grep-able by code. */
export const secretErrors = {
  notFound: (slotId: string) =>
    new DaemonError(404, 'runtime', 'secret_not_found', `secret slot ${slotId} was not found`),
  invalidRef: (detail: string) => new DaemonError(400, 'runtime', 'invalid_secret_ref', detail),
  invalidRecord: (detail: string) => new DaemonError(400, 'runtime', 'invalid_secret_record', detail),
  /** 409: the daemon's configuration, not the request, is what has to change. */
  unavailable: (why: 'no_key' | 'locked') =>
    new DaemonError(
      409,
      'runtime',
      'secret_store_unavailable',
      why === 'no_key'
        ? `the secret store is disabled because no master key is configured: ${KEY_HINT}`
        : 'the stored secrets cannot be decrypted because no master key is configured: start the daemon ' +
            '(or the offline command) with the KHEISH_AUTH_STORE_MASTER_KEY or ' +
            'KHEISH_AUTH_STORE_MASTER_KEY_FILE they were written with',
    ),
  inUse: (slotId: string, users: string[]) =>
    new DaemonError(
      409,
      'runtime',
      'secret_in_use',
      `secret slot ${slotId} is still referenced by ${users.join(', ')}; remove those references first`,
    ),
  noSingleValue: (slotId: string, mode: string) =>
    new DaemonError(
      409,
      'runtime',
      'secret_has_no_single_value',
      `secret slot ${slotId} (mode ${mode}) holds structured credentials, not one value`,
    ),
};
