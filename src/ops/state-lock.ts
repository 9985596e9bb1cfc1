// The state-root lock as the offline commands take it: the very lock `serve` holds
// (store/sqlite/open.ts), so a maintenance command and a daemon never share a root (ops-runtime #43).
import { acquireStateRootLock, StateRootLockedError } from '../store/sqlite/open.ts';
import { OPS_EXIT, OpsError } from './errors.ts';

export type HeldLock = { release(): void };

/** Takes the lock or refuses with exit code 6 and the next step. */
export function lockForMaintenance(root: string, command: string): HeldLock {
  try {
    return acquireStateRootLock(root);
  } catch (err) {
    if (err instanceof StateRootLockedError)
      throw new OpsError(
        `state root ${root} is held by a running kheish-daemon; ${command} needs it stopped`,
        'stop the daemon (SIGTERM), wait for its process to exit, then run the command again',
        OPS_EXIT.conflict,
      );
    throw err;
  }
}

/** The lock when it is free, or null when a daemon holds it (online operations go on without it). */
export function lockIfFree(root: string): HeldLock | null {
  try {
    return acquireStateRootLock(root);
  } catch (err) {
    if (err instanceof StateRootLockedError) return null;
    throw err;
  }
}
