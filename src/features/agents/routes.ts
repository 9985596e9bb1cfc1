// HTTP binding of the agents API (api-core §6.1): the tree, summaries, one agent, sidechain spawn
// (and its dry run), nicknames. Mailbox routes live with the mailboxes feature.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { HttpApp } from '../../http/context.ts';
import { envelope, parsePage } from '../../http/pagination.ts';
import {
  AGENT_STATUSES,
  AgentParams,
  NicknameBody,
  SpawnSidechainRequest,
  SummariesQuery,
} from './schema.ts';
import type { AgentsService } from './service.ts';
import type { AgentStatus } from './views.ts';

function bool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new DaemonError(400, undefined, 'bad_request', `${name} must be true or false`);
}

export function registerAgentRoutes(app: HttpApp, agents: AgentsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['agents'];

  r.get('/v1/agents', { schema: { tags } }, async () => agents.snapshots());

  r.get('/v1/agents/summaries', { schema: { tags, querystring: SummariesQuery } }, async (req) => {
    const q = req.query;
    if (q.root !== undefined && q.root_agent_id !== undefined && q.root !== q.root_agent_id)
      throw new DaemonError(400, undefined, 'bad_request', 'root and root_agent_id differ; send one of them');
    if (q.status !== undefined && !(AGENT_STATUSES as readonly string[]).includes(q.status))
      throw new DaemonError(
        400,
        undefined,
        'bad_request',
        `status must be one of ${AGENT_STATUSES.join(', ')}`,
      );
    const page = parsePage(q);
    const { items, counts } = await agents.summaries({
      root_agent_id: q.root_agent_id ?? q.root,
      session_id: q.session_id,
      status: q.status as AgentStatus | undefined,
      has_runtime: bool('has_runtime', q.has_runtime),
    });
    if (!page.paginated) return page.limit === undefined ? items : items.slice(0, page.limit);
    const after = page.after;
    const rest = after === undefined ? items : items.filter((i) => String(i.agent_id) > after);
    const limit = page.limit!;
    const shown = rest.slice(0, limit);
    return {
      ...envelope(shown, {
        limit,
        total: items.length,
        hasMore: rest.length > limit,
        lastKey: shown.at(-1)?.agent_id as string | undefined,
        order: 'agent_id_asc',
      }),
      counts,
    };
  });

  r.get('/v1/agents/:agent_id', { schema: { tags, params: AgentParams } }, async (req) =>
    agents.snapshot(req.params.agent_id),
  );

  r.post(
    '/v1/agents/:agent_id/sidechains',
    { schema: { tags, params: AgentParams, body: SpawnSidechainRequest.nullish() } },
    async (req, reply) => {
      const res = await agents.spawn(req.params.agent_id, req.body ?? {});
      return reply.code(res.duplicate ? 200 : 201).send(res);
    },
  );

  r.post(
    '/v1/agents/:agent_id/sidechains/explain',
    { schema: { tags, params: AgentParams, body: SpawnSidechainRequest.nullish() } },
    async (req) => agents.explain(req.params.agent_id, req.body ?? {}),
  );

  for (const method of ['POST', 'PUT'] as const)
    r.route({
      method,
      url: '/v1/agents/:agent_id/nickname',
      schema: { tags, params: AgentParams, body: NicknameBody },
      handler: async (req) => {
        const { agent_id } = req.params as { agent_id: string };
        return agents.setNickname(agent_id, (req.body as { nickname: string }).nickname);
      },
    });
  r.delete('/v1/agents/:agent_id/nickname', { schema: { tags, params: AgentParams } }, async (req) =>
    agents.setNickname(req.params.agent_id, null),
  );
}
