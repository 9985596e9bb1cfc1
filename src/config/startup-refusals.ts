// Start-up refusals for deployments (ops-runtime §14): what the published image's entrypoint
// rejects before the daemon starts, done here so every way of starting (the container, a systemd
// unit, a terminal) gets the same guard. Each message names the setting and the fix.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigError } from './serve-options.ts';

/**
 * Settings that come inline or from a file: giving both is ambiguous (which one wins would be an
 * accident of code order), so it is refused. Flags are checked where they are parsed; these are
 * environment-only settings.
 */
export const FILE_BACKED_ENV: ReadonlyArray<readonly [inline: string, file: string, mustRead: boolean]> = [
  ['KHEISH_AUTH_STORE_MASTER_KEY', 'KHEISH_AUTH_STORE_MASTER_KEY_FILE', true],
  // An unreadable audit or debug key does not stop the daemon: it serves reads and refuses what
  // needs the key (fail closed: ops-runtime #45, docs/debugging.md), so only the conflict is refused.
  ['KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY', 'KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE', false],
  ['KHEISH_DEBUG_CAPTURE_KEY', 'KHEISH_DEBUG_CAPTURE_KEY_FILE', false],
  ['KHEISH_DEBUG_REDACT_TOKENS', 'KHEISH_DEBUG_REDACT_TOKENS_FILE', false],
];

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** A file the daemon must read at start (a key or a token): present, a file, and readable by this user. */
export function requireReadableFile(path: string, setting: string): void {
  let reason: string | null = null;
  try {
    if (!statSync(path).isFile()) reason = 'it is not a regular file';
    else accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reason =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES'
          ? `this user (uid ${process.getuid?.() ?? '?'}) may not read it`
          : `it cannot be read (${code ?? 'unknown error'})`;
  }
  if (reason)
    throw new ConfigError(
      `${setting} ${path}: ${reason}; create it (or fix its owner and mode, e.g. chmod 600 and chown to the daemon's user) or point ${setting} at the right file`,
    );
}

export interface RootInputs {
  /** As given (flag or environment), before resolution against the working directory. */
  stateRootRaw: string | undefined;
  workspaceRootRaw: string | undefined;
  stateRoot: string;
  workspaceRoot: string | null;
  /** --strict-paths / KHEISH_STRICT_PATHS (the container image sets it). */
  strictPaths: boolean;
}

/**
 * Identical roots are always refused: the agent's file tools would read and write the daemon's
 * database and keys. Relative roots depend on the working directory, which a service manager
 * or a container picks: with strict paths both roots must be given, and absolute.
 */
export function checkRoots(r: RootInputs): void {
  if (r.workspaceRoot !== null && r.workspaceRoot === r.stateRoot)
    throw new ConfigError(
      `--state-root and --workspace-root are the same directory (${r.stateRoot}): the agent's tools would reach the daemon's database and keys; give each its own directory, e.g. --state-root /var/lib/kheish/state --workspace-root /workspace`,
    );
  if (!r.strictPaths) return;
  for (const [flag, env, raw] of [
    ['--state-root', 'KHEISH_STATE_ROOT', r.stateRootRaw],
    ['--workspace-root', 'KHEISH_WORKSPACE_ROOT', r.workspaceRootRaw],
  ] as const) {
    if (raw === undefined)
      throw new ConfigError(
        `--strict-paths: ${flag} is not set; set ${env} to an absolute path (the image uses /var/lib/kheish/state and /workspace)`,
      );
    if (!isAbsolute(raw))
      throw new ConfigError(
        `--strict-paths: ${flag} "${raw}" is relative (it would depend on the working directory); set ${env} to an absolute path`,
      );
  }
}

/** Inline-and-file conflicts and unreadable files among the environment-only secret inputs. */
export function checkFileBackedEnv(env: NodeJS.ProcessEnv): void {
  for (const [inline, file, mustRead] of FILE_BACKED_ENV) {
    if (set(env[inline]) && set(env[file]))
      throw new ConfigError(
        `both ${inline} and ${file} are set: they configure the same setting; unset one of them (containers: keep ${file})`,
      );
    if (mustRead && set(env[file])) requireReadableFile(env[file].trim(), file);
  }
}
