// Hook events the hooks feature fires itself, from points other parts already expose: `stop` and
// `stop_failure` after the transaction that ends a run (completed / failed) commits,
// `subagent_stop` when a child agent's run ends, and `session_end` after a session ended. They observe: a finished run is not reopened
// (docs/decisions.md #134).
import type { Engine } from '../../engine/engine.ts';
import type { HookEvent } from '../../engine/hook-port.ts';
import { getAgentBySession } from '../../store/repos/agents.ts';
import type { RunRow } from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';

export function fireLifecycleHooks(engine: Engine): void {
  engine.onSessionEnd(async (tx, sessionId) => {
    if (!engine.hooks.has('session_end')) return;
    const session = await getSession(tx.db, sessionId);
    tx.afterCommit(() => {
      void engine.hooks
        .fire(
          {
            event: 'session_end',
            identity: sessionId,
            session_id: sessionId,
            agent_id: session?.agent_id,
            payload: { reason: session?.end_reason ?? null },
          },
          AbortSignal.timeout(60_000),
        )
        .catch(() => undefined);
    });
  });
  engine.onRunTerminal(async (tx, run: RunRow) => {
    // A child agent's run ending is its subagent_stop (the child's own session).
    if (engine.hooks.has('subagent_stop')) {
      const child = await getAgentBySession(tx.db, run.session_id);
      if (child)
        tx.afterCommit(() => {
          void engine.hooks
            .fire(
              {
                event: 'subagent_stop',
                identity: run.run_id,
                subject: child.profile,
                session_id: run.session_id,
                run_id: run.run_id,
                agent_id: child.agent_id,
                payload: { parent_agent_id: child.parent_agent_id, status: run.status },
              },
              AbortSignal.timeout(60_000),
            )
            .catch(() => undefined);
        });
    }
    const event: HookEvent | null =
      run.status === 'completed' ? 'stop' : run.status === 'failed' ? 'stop_failure' : null;
    if (!event || !engine.hooks.has(event)) return;
    tx.afterCommit(() => {
      void engine.hooks
        .fire(
          {
            event,
            identity: run.run_id,
            subject: run.kind,
            session_id: run.session_id,
            run_id: run.run_id,
            agent_id: run.agent_id,
            payload: { status: run.status, kind: run.kind, ...(run.error ? { error: run.error } : {}) },
          },
          AbortSignal.timeout(60_000),
        )
        .catch(() => undefined);
    });
  });
}
