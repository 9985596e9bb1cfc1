// Startup repair after a crash or a restart (ARCHITECTURE §4): per session the first durable active
// run keeps the slot and resumes; extra active runs are re-queued when daemon-owned and replayable,
// else interrupted; queued runs keep their order and the head is promoted when the slot is free.
import { allLiveRuns, isActive, type RunRow } from '../store/repos/runs.ts';
import type { RecoveryPort } from './ports.ts';
import { appendTraces } from './traces.ts';
import { DAEMON_OWNED_REPLAYABLE } from './types.ts';

export interface RecoveryStats {
  resumed: number;
  requeued: number;
  interrupted: number;
  sessions: number;
}

export async function recoverRuns(engine: RecoveryPort): Promise<RecoveryStats> {
  const live = await allLiveRuns(engine.store.db);
  const bySession = new Map<string, RunRow[]>();
  for (const r of live) bySession.set(r.session_id, [...(bySession.get(r.session_id) ?? []), r]);
  const stats = { resumed: 0, requeued: 0, interrupted: 0, sessions: bySession.size };
  for (const [sessionId, runs] of bySession) {
    const active = runs.filter((r) => isActive(r.status));
    const keeper = active.find((r) => r.status.startsWith('waiting_')) ?? active[0];
    const resume: RunRow[] = [];
    await engine.store.write(async (tx) => {
      for (const r of active) {
        if (r === keeper) continue;
        if (r.status === 'running' && DAEMON_OWNED_REPLAYABLE.has(r.kind)) {
          await engine.transition(tx, r.run_id, 'queued', { recovery: true });
          stats.requeued++;
        } else {
          await engine.transition(tx, r.run_id, 'interrupted');
          stats.interrupted++;
        }
      }
      if (keeper?.status === 'running') {
        await engine.leases.claim(tx, keeper.run_id);
        await appendTraces(engine.events, tx, keeper, [
          { kind: 'run_resumed_after_restart', replica: engine.leases.replicaId },
        ]);
        resume.push(keeper);
      }
    });
    for (const r of resume) {
      engine.resume(r);
      stats.resumed++;
    }
    if (!keeper) await engine.kick(sessionId);
  }
  return stats;
}
