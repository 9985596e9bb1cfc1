// HTTP binding of the channels API (api-collab §1.2): parse, call the service, render.
// Leases are read-only: only GET is mounted on /leases, so other methods answer 404/405.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/context.ts';
import { serveStream } from '../../http/sse.ts';
import { sseHeaders, sseQuerystring, sseResponse } from '../../http/sse-schema.ts';
import type { EventLog } from '../../store/event-log.ts';
import { channelScope } from './events.ts';
import {
  ChannelParams,
  CreateChannelRequest,
  ListChannelsQuery,
  ListMessagesQuery,
  MemberInput,
  MemberParams,
  MessageParams,
  PostMessageRequest,
  ReactionRequest,
  UpdateChannelRequest,
} from './schema.ts';
import type { ChannelsService } from './service.ts';

export function registerChannelRoutes(app: HttpApp, channels: ChannelsService, events: EventLog): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['channels'];

  r.get('/v1/channels', { schema: { tags, querystring: ListChannelsQuery } }, async (req) =>
    channels.list(req.query.query),
  );
  // 201: a new resource, like sessions and personas (decision 335).
  r.post('/v1/channels', { schema: { tags, body: CreateChannelRequest } }, async (req, reply) =>
    reply.code(201).send(await channels.create(req.body)),
  );
  r.get('/v1/channels/:channel_id', { schema: { tags, params: ChannelParams } }, async (req) =>
    channels.get(req.params.channel_id),
  );
  r.put(
    '/v1/channels/:channel_id',
    { schema: { tags, params: ChannelParams, body: UpdateChannelRequest } },
    async (req) => channels.update(req.params.channel_id, req.body),
  );
  r.delete('/v1/channels/:channel_id', { schema: { tags, params: ChannelParams } }, async (req) =>
    channels.delete(req.params.channel_id),
  );

  r.get('/v1/channels/:channel_id/members', { schema: { tags, params: ChannelParams } }, async (req) =>
    channels.listMembers(req.params.channel_id),
  );
  r.post(
    '/v1/channels/:channel_id/members',
    { schema: { tags, params: ChannelParams, body: MemberInput } },
    async (req) => channels.upsertMember(req.params.channel_id, req.body),
  );
  r.delete(
    '/v1/channels/:channel_id/members/:member_id',
    { schema: { tags, params: MemberParams } },
    async (req) => channels.removeMember(req.params.channel_id, req.params.member_id),
  );

  r.get(
    '/v1/channels/:channel_id/messages',
    { schema: { tags, params: ChannelParams, querystring: ListMessagesQuery } },
    async (req) => channels.log.listMessages(req.params.channel_id, req.query),
  );
  r.post(
    '/v1/channels/:channel_id/messages',
    { schema: { tags, params: ChannelParams, body: PostMessageRequest } },
    async (req, reply) => reply.code(201).send(await channels.log.post(req.params.channel_id, req.body)),
  );
  r.get(
    '/v1/channels/:channel_id/messages/:message_id',
    { schema: { tags, params: MessageParams } },
    async (req) => channels.log.message(req.params.channel_id, req.params.message_id),
  );
  r.post(
    '/v1/channels/:channel_id/messages/:message_id/reactions',
    { schema: { tags, params: MessageParams, body: ReactionRequest } },
    async (req) => channels.log.react(req.params.channel_id, req.params.message_id, req.body, true),
  );
  r.delete(
    '/v1/channels/:channel_id/messages/:message_id/reactions',
    { schema: { tags, params: MessageParams, body: ReactionRequest } },
    async (req) => channels.log.react(req.params.channel_id, req.params.message_id, req.body, false),
  );

  r.get('/v1/channels/:channel_id/leases', { schema: { tags, params: ChannelParams } }, async (req) =>
    channels.leases(req.params.channel_id),
  );

  r.get(
    '/v1/channels/:channel_id/stream',
    {
      schema: {
        tags,
        params: ChannelParams,
        querystring: sseQuerystring,
        headers: sseHeaders,
        response: sseResponse,
      },
    },
    async (req, reply) => {
      await channels.require(channels.db, req.params.channel_id);
      await serveStream(req, reply, events, { session_id: channelScope(req.params.channel_id) });
    },
  );
}
