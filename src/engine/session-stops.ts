// The writes that stop a session's work (inside the caller's transaction): interrupt its active
// run, or end the session (active run interrupted, queued ones cancelled, the end hooks, the final
// snapshot). The Engine aborts the local executors after the commit.
import { errors } from '../errors/daemon-error.ts';
import { isActive, liveRunsOfSession } from '../store/repos/runs.ts';
import { getSession } from '../store/repos/sessions.ts';
import type { WriteTx } from '../store/store.ts';
import type { SessionEndGuard, SessionEndHook, StopPort } from './ports.ts';
import { buildSnapshot } from './views.ts';

/** Returns the run it interrupted, if one was active. */
export async function interruptInTx(
  engine: StopPort,
  tx: WriteTx,
  sessionId: string,
): Promise<string | null> {
  const session = await getSession(tx.db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  const active = (await liveRunsOfSession(tx.db, sessionId)).find((r) => isActive(r.status));
  if (active) await engine.transition(tx, active.run_id, 'interrupted');
  await engine.events.append(tx, [
    {
      name: 'interrupted',
      session_id: sessionId,
      data: { session_id: sessionId, agent_id: session.agent_id },
    },
  ]);
  return active?.run_id ?? null;
}

/** Returns the runs it stopped. */
export async function endSessionInTx(
  engine: StopPort,
  tx: WriteTx,
  sessionId: string,
  reason: string | null,
  hooks: readonly SessionEndHook[],
  guards: readonly SessionEndGuard[] = [],
): Promise<string[]> {
  const session = await getSession(tx.db, sessionId);
  if (!session) throw errors.sessionNotFound(sessionId);
  for (const guard of guards) await guard(tx, sessionId);
  const stopped: string[] = [];
  for (const run of await liveRunsOfSession(tx.db, sessionId)) {
    await engine.transition(tx, run.run_id, isActive(run.status) ? 'interrupted' : 'cancelled');
    stopped.push(run.run_id);
  }
  const endedAt = session.ended_at_ms ?? tx.now;
  await tx.db
    .updateTable('sessions')
    .set({ ended_at_ms: endedAt, end_reason: reason, updated_at_ms: tx.now })
    .where('session_id', '=', sessionId)
    .execute();
  for (const hook of hooks) await hook(tx, sessionId);
  const snapshot = await buildSnapshot(tx.db, { ...session, ended_at_ms: endedAt, end_reason: reason });
  await engine.events.append(tx, [
    { name: 'session_snapshot', session_id: sessionId, data: { session_id: sessionId, snapshot } },
  ]);
  return stopped;
}
