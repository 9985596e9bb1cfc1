// The manifest's enforced tool policy at dispatch (api-collab §3.3, newer revision): a run that
// belongs to a Flow (its root run, or any run in the session of an agent spawned from a Flow run,
// recursively) sees and may call only the tools the policy admits; a call outside it is refused
// by the engine's tool-surface check like any other tool outside an agent's surface.
import { getAgentBySession } from '../../store/repos/agents.ts';
import { getRun, type RunRow } from '../../store/repos/runs.ts';
import type { Executor } from '../../store/schema.ts';
import type { PlaybookManifest } from './schema.ts';

type Policy = NonNullable<PlaybookManifest['tools']>;

const flowIdOf = (run: RunRow): string | null => {
  const meta = (JSON.parse(run.request) as { metadata?: Record<string, unknown> }).metadata;
  const flow = meta?.kheish_flow as { flow_id?: string } | undefined;
  return typeof flow?.flow_id === 'string' ? flow.flow_id : null;
};

export class FlowToolPolicy {
  private readonly db: () => Executor;
  // A run's flow never changes: cache the answer (null = not part of a Flow), bounded.
  private readonly cache = new Map<string, Policy | null>();

  constructor(db: () => Executor) {
    this.db = db;
  }

  async policyOf(run: RunRow): Promise<Policy | null> {
    const hit = this.cache.get(run.run_id);
    if (hit !== undefined) return hit;
    const policy = await this.lookup(run);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(run.run_id, policy);
    return policy;
  }

  private async lookup(start: RunRow): Promise<Policy | null> {
    const db = this.db();
    let run: RunRow | undefined = start;
    for (let depth = 0; run && depth < 64; depth++) {
      const flowId = flowIdOf(run);
      if (flowId) {
        const flow = await db
          .selectFrom('flows')
          .innerJoin('playbook_versions', (j) =>
            j
              .onRef('playbook_versions.playbook_id', '=', 'flows.playbook_id')
              .onRef('playbook_versions.version', '=', 'flows.version'),
          )
          .select('playbook_versions.manifest')
          .where('flows.flow_id', '=', flowId)
          .executeTakeFirst();
        // The root run is submitted in the Flow's own transaction, so the row exists once it runs.
        if (!flow) return null;
        const tools = (JSON.parse(flow.manifest) as PlaybookManifest).tools;
        return tools?.enforce ? tools : null;
      }
      const agent = await getAgentBySession(db, run.session_id);
      if (!agent?.spawned_by_run_id) return null;
      run = await getRun(db, agent.spawned_by_run_id);
    }
    return null;
  }

  admits(policy: Policy, name: string): boolean {
    if ((policy.deny ?? []).includes(name)) return false;
    const allow = policy.allow ?? [];
    return allow.length === 0 || allow.includes(name);
  }
}
