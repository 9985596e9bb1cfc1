// Managed agents and sidechains (docs/multi-agent.md). Its engine hooks (child tool surfaces,
// pinned modes, child outcomes) are installed at creation, before run recovery; a child's
// request_parent_clarification asks its parent through the mailboxes feature.
import { registerAgentTools } from '../../tools/control/agents.ts';
import type { FeatureModule } from '../feature.ts';
import type { MailboxesService } from '../mailboxes/service.ts';
import { AgentToolControl } from './control.ts';
import { registerAgentRoutes } from './routes.ts';
import { AgentsService } from './service.ts';

export const agentsFeature: FeatureModule<AgentsService> = {
  name: 'agents',
  create: (k) => {
    const agents = new AgentsService(k.engine, k.config.subagentPolicy);
    agents.install();
    const mailboxes = k.use<MailboxesService>('mailboxes');
    mailboxes.parentOf = async (db, id) => (await agents.resolve(db, id))?.child?.parent_agent_id ?? null;
    registerAgentTools(k.tools, new AgentToolControl(agents, () => k.toolLimits.get().max_timeout_ms - 1000));
    return agents;
  },
  routes: (app, agents) => registerAgentRoutes(app, agents),
};
