// Fault injection for the crash tests of group commit (test/crash/group-commit.test.ts), off unless
// KHEISH_FAULT_KILL_IN_GROUP_COMMIT is set: `before:N` or `after:N` SIGKILLs this process at the
// N-th group that holds several writers, right before its COMMIT (nothing of it is durable) or
// right after it (all of it is durable, nobody was answered). A plain SIGKILL from outside cannot
// aim at that instant; this can, and the daemon dies exactly as it would in a crash.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type GroupCommitPoint = 'before' | 'after';

export interface GroupCommitFault {
  /** Called with the number of writers whose changes the group holds. */
  at(point: GroupCommitPoint, writers: number): void;
  /**
   * Groups count only from here (the daemon calls it once it is ready): start-up recovery of many
   * features can share groups too, and a kill there would only test that boot is retried.
   */
  arm(): void;
}

const NONE: GroupCommitFault = { at: () => undefined, arm: () => undefined };

export function groupCommitFault(
  stateRoot: string,
  spec = process.env.KHEISH_FAULT_KILL_IN_GROUP_COMMIT,
): GroupCommitFault {
  const m = /^(before|after):(\d+)$/.exec(spec ?? '');
  if (!m) return NONE;
  const point = m[1] as GroupCommitPoint;
  let remaining = Number(m[2]);
  let armed = false;
  return {
    arm() {
      armed = true;
    },
    at(where, writers) {
      if (!armed || where !== point || writers < 2 || --remaining > 0) return;
      // The test reads this to know the kill landed inside a multi-writer group.
      writeFileSync(join(stateRoot, 'fault-group-commit.json'), JSON.stringify({ point, writers }));
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
