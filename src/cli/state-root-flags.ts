// The flags of the offline commands that open a daemon's store themselves (backup, restore,
// vacuum, audit, …): where the state root is and, for PostgreSQL, the database URL, read from the
// same environment variables as `serve`.
import { type Command, Option } from 'commander';

export const DEFAULT_STATE_ROOT = '.kheish-daemon';

export interface StateRootFlags {
  stateRoot: string;
  databaseUrl?: string;
}

/** `--state-root <dir>` (env KHEISH_STATE_ROOT, default .kheish-daemon). */
export const stateRootOption = (): Option =>
  new Option('--state-root <dir>', `the daemon's state root (default ${DEFAULT_STATE_ROOT})`)
    .env('KHEISH_STATE_ROOT')
    .default(DEFAULT_STATE_ROOT);

/** `--state-root` and `--database-url` (env KHEISH_DATABASE_URL) on `cmd`. */
export function stateRootOptions(cmd: Command): Command {
  return cmd
    .addOption(stateRootOption())
    .addOption(
      new Option(
        '--database-url <url>',
        "the daemons' PostgreSQL database (instead of the state root's SQLite file)",
      ).env('KHEISH_DATABASE_URL'),
    );
}
