// Writes made on behalf of a running run happen only while it is still `running`: a cancel,
// interrupt or end that committed first wins, and the executor stops quietly; and only while this
// replica still holds the run's lease (engine/leases.ts).
import { getRun, type RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { RunWritePort } from './ports.ts';
import { RunStopped } from './run-stopped.ts';

// Re-exported: executors and tests know it as run-guard's (run-stopped.ts says why it moved).
export { RunStopped };

export async function whileRunning<T>(
  engine: RunWritePort,
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
