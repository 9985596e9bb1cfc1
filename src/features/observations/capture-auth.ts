// Capture-owned sources fail closed: their upload tokens are leases of an agent, so an absent or
// revoked agent record refuses uploads instead of falling back to the generic source token path.
import { getAgent } from '../../store/repos/capture-agents.ts';
import type { SourceRow } from '../../store/repos/observations.ts';
import type { Executor } from '../../store/schema.ts';

export async function agentAllowsUploads(db: Executor, source: SourceRow): Promise<boolean> {
  if (source.capture_machine_id === null) return true;
  const agent = await getAgent(db, source.capture_machine_id);
  return agent !== undefined && agent.status === 'active';
}
