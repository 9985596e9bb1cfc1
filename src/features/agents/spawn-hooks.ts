// The `subagent_start` hooks of a spawn (ops-runtime §7.1), before anything is stored: a block
// refuses the spawn (a spawn_agent tool call gets the refusal as its error result).
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SpawnSidechainRequest } from './schema.ts';

export async function subagentStart(
  engine: Engine,
  parent: { agent_id: string; session: { session_id: string } },
  req: SpawnSidechainRequest,
  spawnRequestId: string | null,
): Promise<void> {
  const v = await engine.hooks.fire(
    {
      event: 'subagent_start',
      // A retried spawn with the same spawn_request_id is the same invocation.
      identity: `${parent.agent_id}:${spawnRequestId ?? randomUUID()}`,
      subject: req.profile ?? 'default',
      session_id: parent.session.session_id,
      agent_id: parent.agent_id,
      payload: {
        parent_agent_id: parent.agent_id,
        profile: req.profile ?? null,
        spawn_request_id: spawnRequestId,
      },
    },
    AbortSignal.timeout(60_000),
  );
  if (v.blocked)
    throw new DaemonError(
      409,
      'agents',
      'subagent_start_blocked',
      `a subagent_start hook refused the spawn: ${v.reason}`,
    );
}
