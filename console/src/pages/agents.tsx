// The agents tree: each session's primary agent with its children (sidechains, sub-agents).
import type { ManagedAgentSnapshot } from '../../../src/sdk/index.ts';
import { href } from '../router.ts';
import { Async, Badge, Empty, items, PageHeader, Time, useLoad } from '../ui.tsx';

type Agent = ManagedAgentSnapshot & Record<string, any>;

export function AgentsPage() {
  const state = useLoad((k) => k.agents.list().then((r) => items<Agent>(r)), [], 5000);
  return (
    <section>
      <PageHeader title="Agents" />
      <Async state={state}>
        {(agents) => {
          if (agents.length === 0) return <Empty>No agent yet: start a session.</Empty>;
          const ids = new Set(agents.map((a) => a.agent_id));
          const roots = agents.filter((a) => !a.parent_agent_id || !ids.has(a.parent_agent_id));
          return (
            <ul class="tree" aria-label="Agents">
              {roots.map((a) => (
                <AgentNode key={a.agent_id} agent={a} all={agents} />
              ))}
            </ul>
          );
        }}
      </Async>
    </section>
  );
}

function AgentNode(props: { agent: Agent; all: Agent[] }) {
  const a = props.agent;
  const children = props.all.filter((c) => c.parent_agent_id === a.agent_id);
  return (
    <li>
      <span class="agent">
        <strong>{a.nickname ?? a.role ?? 'agent'}</strong> <code>{a.agent_id}</code>{' '}
        <Badge value={String(a.status)} /> in <a href={href('chat', a.session_id)}>{a.session_id}</a> ·{' '}
        <Time ms={a.updated_at_ms} />
      </span>
      {children.length > 0 && (
        <ul>
          {children.map((c) => (
            <AgentNode key={c.agent_id} agent={c} all={props.all} />
          ))}
        </ul>
      )}
    </li>
  );
}
