// Writes made on behalf of a running run happen only while it is still `running`: a cancel,
// interrupt or end that committed first wins, and the executor stops quietly; and only while this
// replica still holds the run's lease (engine/leases.ts).
import { getRun, type RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { Engine } from './engine.ts';

/** Thrown to stop an executor quietly: its run was cancelled, interrupted or is draining. */
export class RunStopped extends Error {
  /** Not a storage fault: the store does not count it as a write error (status `storage.ok`). */
  readonly expected = true;
}

export async function whileRunning<T>(
  engine: Engine,
  runId: string,
  fn: (tx: WriteTx, run: RunRow) => Promise<T>,
): Promise<T> {
  return engine.store.write(async (tx) => {
    const run = await getRun(tx.db, runId);
    if (run?.status !== 'running') throw new RunStopped(`run ${runId} is ${run?.status ?? 'gone'}`);
    // Fencing: nothing is written once another replica took the run.
    await engine.leases.fence(tx, runId);
    return fn(tx, run);
  });
}
