// HTTP binding of the boards API (api-collab §5): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/context.ts';
import {
  BoardParams,
  BoardRevisionView,
  BoardView,
  CreateBoardRequest,
  CreateRevisionRequest,
  ListBoardsQuery,
  RevisionParams,
  UpdateBoardRequest,
} from './schema.ts';
import type { BoardsService } from './service.ts';

export function registerBoardRoutes(app: HttpApp, boards: BoardsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['boards'];

  r.get(
    '/v1/boards',
    { schema: { tags, querystring: ListBoardsQuery, response: { 200: z.array(BoardView) } } },
    async (req) => boards.list(req.query),
  );
  r.post(
    '/v1/boards',
    { schema: { tags, body: CreateBoardRequest, response: { 201: BoardView } } },
    async (req, reply) => reply.code(201).send(await boards.create(req.body)),
  );
  r.get(
    '/v1/boards/:board_id',
    { schema: { tags, params: BoardParams, response: { 200: BoardView } } },
    async (req) => boards.get(req.params.board_id),
  );
  r.put(
    '/v1/boards/:board_id',
    { schema: { tags, params: BoardParams, body: UpdateBoardRequest, response: { 200: BoardView } } },
    async (req) => boards.update(req.params.board_id, req.body),
  );
  r.get(
    '/v1/boards/:board_id/revisions',
    { schema: { tags, params: BoardParams, response: { 200: z.array(BoardRevisionView) } } },
    async (req) => boards.revisions(req.params.board_id),
  );
  // 201 for a new revision, 200 for the idempotent replay of a client_revision_id.
  r.post(
    '/v1/boards/:board_id/revisions',
    {
      schema: {
        tags,
        params: BoardParams,
        body: CreateRevisionRequest,
        response: { 200: BoardRevisionView, 201: BoardRevisionView },
      },
    },
    async (req, reply) => {
      const { revision, created } = await boards.createRevision(req.params.board_id, req.body);
      return reply.code(created ? 201 : 200).send(revision);
    },
  );
  r.get(
    '/v1/boards/:board_id/revisions/:revision_id',
    { schema: { tags, params: RevisionParams, response: { 200: BoardRevisionView } } },
    async (req) => boards.revision(req.params.board_id, req.params.revision_id),
  );
}
