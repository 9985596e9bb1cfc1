// HTTP binding of the projects API (api-collab §2.2): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { type PageQuery, pageByPosition } from '../../http/pagination.ts';
import type { ProjectsFeature } from './index.ts';
import {
  CreateProjectRequest,
  CreateProjectTaskRequest,
  LinkParams,
  ListProjectsQuery,
  ListProjectTasksQuery,
  MemberParams,
  ProjectChannelLinkInput,
  ProjectChannelLinkView,
  ProjectEventsQuery,
  ProjectMemberInput,
  ProjectMemberView,
  ProjectParams,
  ProjectTaskView,
  ProjectView,
  StartProjectTaskRequest,
  TaskParams,
  UpdateProjectRequest,
  UpdateProjectTaskRequest,
} from './schema.ts';

const paged = <T>(query: PageQuery, all: T[], keyOf: (t: T) => string) =>
  pageByPosition(query, all, keyOf, 'created_asc');

export function registerProjectRoutes(app: HttpApp, f: ProjectsFeature): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['projects'];
  const { projects, tasks, starter } = f;

  r.get('/v1/projects', { schema: { tags, querystring: ListProjectsQuery } }, async (req) =>
    paged(req.query, await projects.list(req.query), (p) => p.project_id),
  );
  r.post(
    '/v1/projects',
    { schema: { tags, body: CreateProjectRequest, response: { 201: ProjectView } } },
    async (req, reply) => reply.code(201).send(await projects.create(req.body)),
  );
  r.get(
    '/v1/projects/:project_id',
    { schema: { tags, params: ProjectParams, response: { 200: ProjectView } } },
    async (req) => projects.get(req.params.project_id),
  );
  r.put(
    '/v1/projects/:project_id',
    { schema: { tags, params: ProjectParams, body: UpdateProjectRequest, response: { 200: ProjectView } } },
    async (req) => projects.update(req.params.project_id, req.body),
  );
  r.delete('/v1/projects/:project_id', { schema: { tags, params: ProjectParams } }, async (req) =>
    projects.delete(req.params.project_id),
  );
  r.get(
    '/v1/projects/:project_id/events',
    { schema: { tags, params: ProjectParams, querystring: ProjectEventsQuery } },
    async (req) => projects.events(req.params.project_id, req.query),
  );

  r.get('/v1/projects/:project_id/members', { schema: { tags, params: ProjectParams } }, async (req) =>
    projects.members(req.params.project_id),
  );
  r.post(
    '/v1/projects/:project_id/members',
    {
      schema: { tags, params: ProjectParams, body: ProjectMemberInput, response: { 200: ProjectMemberView } },
    },
    async (req) => projects.upsertMember(req.params.project_id, req.body),
  );
  r.delete(
    '/v1/projects/:project_id/members/:member_id',
    { schema: { tags, params: MemberParams } },
    async (req) => projects.removeMember(req.params.project_id, req.params.member_id),
  );

  r.get('/v1/projects/:project_id/channels', { schema: { tags, params: ProjectParams } }, async (req) =>
    projects.links(req.params.project_id),
  );
  r.post(
    '/v1/projects/:project_id/channels',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: ProjectChannelLinkInput,
        response: { 200: ProjectChannelLinkView },
      },
    },
    async (req) => projects.upsertLink(req.params.project_id, req.body),
  );
  r.delete(
    '/v1/projects/:project_id/channels/:channel_id',
    { schema: { tags, params: LinkParams } },
    async (req) => projects.removeLink(req.params.project_id, req.params.channel_id),
  );

  r.get(
    '/v1/projects/:project_id/tasks',
    { schema: { tags, params: ProjectParams, querystring: ListProjectTasksQuery } },
    async (req) =>
      paged(req.query, await tasks.list(req.params.project_id, req.query), (t) => t.project_task_id),
  );
  r.post(
    '/v1/projects/:project_id/tasks',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: CreateProjectTaskRequest,
        response: { 201: ProjectTaskView },
      },
    },
    async (req, reply) => reply.code(201).send(await tasks.create(req.params.project_id, req.body)),
  );
  r.get(
    '/v1/projects/:project_id/tasks/:task_id',
    { schema: { tags, params: TaskParams, response: { 200: ProjectTaskView } } },
    async (req) => tasks.get(req.params.project_id, req.params.task_id),
  );
  r.put(
    '/v1/projects/:project_id/tasks/:task_id',
    {
      schema: {
        tags,
        params: TaskParams,
        body: UpdateProjectTaskRequest,
        response: { 200: ProjectTaskView },
      },
    },
    async (req) => tasks.update(req.params.project_id, req.params.task_id, req.body),
  );
  r.delete('/v1/projects/:project_id/tasks/:task_id', { schema: { tags, params: TaskParams } }, async (req) =>
    tasks.delete(req.params.project_id, req.params.task_id),
  );
  r.post(
    '/v1/projects/:project_id/tasks/:task_id/start',
    { schema: { tags, params: TaskParams, body: StartProjectTaskRequest } },
    async (req, reply) =>
      reply.code(202).send(await starter.start(req.params.project_id, req.params.task_id, req.body ?? {})),
  );
}
