// Failures of the offline operations (backup, restore, vacuum, key rotation): a message that says
// what went wrong, a hint that says what to do next, and the CLI exit code (ops-runtime §2.2).

export const OPS_EXIT = {
  /** The operation failed (I/O on the destination: full or unwritable). */
  failure: 1,
  /** Bad input: a missing or tampered archive, a wrong master key, a non-empty target. */
  invalid: 2,
  /** Something the operator named does not exist (a session to vacuum). */
  notFound: 5,
  /** The state root is held by a running daemon (ops-runtime #43). */
  conflict: 6,
  /** Ctrl-C. */
  interrupted: 130,
} as const;

export class OpsError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode: number = OPS_EXIT.invalid) {
    super(message);
    this.name = 'OpsError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

/** Ctrl-C (or another abort) before the operation completed; whatever it wrote was removed. */
export class OpsInterrupted extends OpsError {
  constructor(what: string) {
    super(`${what} interrupted; nothing was left half-written`, undefined, OPS_EXIT.interrupted);
    this.name = 'OpsInterrupted';
  }
}

/** An I/O error on a path the operator chose, as a message that names the path and the fix. */
export function ioError(err: unknown, what: string, path: string): OpsError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const fix: Record<string, string> = {
    ENOSPC: 'free space there (or choose another directory) and run the command again',
    EDQUOT: 'raise the quota there (or choose another directory) and run the command again',
    EACCES: 'make the directory writable by this user, or choose another one',
    EPERM: 'make the directory writable by this user, or choose another one',
    EROFS: 'the file system is read-only: choose a writable directory',
    ENOTDIR: 'a part of the path is a file, not a directory: choose another path',
    ENOENT: 'check the path: its parent directory must exist',
  };
  return new OpsError(
    `cannot ${what} ${path}: ${code}${code === 'ENOSPC' ? ' (no space left on the device)' : ''}`,
    fix[code] ?? 'check the path and its permissions',
    code === 'ENOENT' || code === 'ENOTDIR' ? OPS_EXIT.invalid : OPS_EXIT.failure,
  );
}
