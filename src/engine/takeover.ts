// Runs whose replica died: a `running` run whose lease expired (or never existed) is taken by the
// first replica that sweeps it, with a new fencing generation, and resumed from its last durable
// boundary under the same rules as after a restart (no blind replay of a side effect whose outcome
// is unknown: agent-loop.ts parks it for an operator). Queues left without a mover are kicked.
import { orphanedRunningRuns, stalledSessions } from '../store/repos/leases.ts';
import { getRun, type RunRow } from '../store/repos/runs.ts';
import type { RecoveryPort } from './ports.ts';
import { appendTraces } from './traces.ts';

/** Runs taken per sweep transaction; the next sweep takes the rest. */
const TAKE_PER_SWEEP = 32;

export interface TakeoverStats {
  resumed: number;
  kicked: number;
}

/**
 * Takes orphaned runs and resumes them here. `includeMine`: also runs whose lease names this
 * replica but that no executor of this process runs (a restart under the same --replica-id).
 */
export async function takeOverOrphans(engine: RecoveryPort, includeMine: boolean): Promise<TakeoverStats> {
  const me = engine.leases.replicaId;
  const taken = await engine.store.write(async (tx) => {
    const found = await orphanedRunningRuns(tx.db, {
      now: tx.now,
      mine: includeMine ? me : null,
      limit: TAKE_PER_SWEEP,
      lock: engine.store.dialect === 'postgres',
    });
    const runs: RunRow[] = [];
    for (const o of found) {
      if (engine.hasExecutor(o.run_id)) continue;
      const run = await getRun(tx.db, o.run_id);
      if (run?.status !== 'running') continue;
      await engine.leases.claim(tx, o.run_id);
      const from = o.previous_replica;
      await appendTraces(engine.events, tx, run, [
        from && from !== me
          ? { kind: 'run_taken_over', from_replica: from, replica: me }
          : { kind: 'run_resumed_after_restart', replica: me },
      ]);
      runs.push(run);
    }
    return runs;
  });
  for (const run of taken) engine.resume(run);
  let kicked = 0;
  for (const sessionId of await stalledSessions(engine.store.db, TAKE_PER_SWEEP)) {
    await engine.kick(sessionId).catch(() => undefined);
    kicked += 1;
  }
  return { resumed: taken.length, kicked };
}
