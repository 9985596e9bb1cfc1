// Server assembly: framework settings, auth + CORS hooks, problem+json, OpenAPI, feature routes.
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { DaemonError } from '../errors/daemon-error.ts';
import type { AuthGuard, CorsPolicy } from './auth.ts';
import type { HttpApp } from './context.ts';
import { compilersFactory, openApiDocument, recordRoutes } from './openapi.ts';
import { errorHandler, notFoundHandler, sendProblem, toDaemonError } from './problem.ts';

/**
 * Node's JSON errors quote part of the input, which may be a secret: keep only where it failed.
 */
function jsonErrorWithoutInput(err: unknown): string {
  const at = /position (\d+)/.exec((err as Error).message);
  return at ? `syntax error at character ${at[1]}` : 'syntax error';
}

export const BODY_LIMIT_BYTES = 24 * 1024 * 1024;

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    domain: { type: 'string' },
  },
};

const openApiOptions = (version: string): FastifyDynamicSwaggerOptions => ({
  openapi: {
    openapi: '3.1.0',
    info: { title: 'Kheish daemon control plane', version, 'x-api-revision': 3 } as never,
    components: { schemas: { ProblemDetails: PROBLEM_SCHEMA } as never },
  },
  transform: jsonSchemaTransform,
  transformObject: jsonSchemaTransformObject,
});

export interface ServerOptions {
  logger: Logger;
  auth: AuthGuard;
  cors: CorsPolicy;
  /** The daemon's version, shown in the OpenAPI document. */
  version: string;
  /** Registers every feature's routes (src/features/index.ts); the server knows none by name. */
  mount(app: HttpApp): void;
}

export async function buildServer(opts: ServerOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    forceCloseConnections: true,
    // Session ids may be up to 256 characters (the create schema's limit), so path params too.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    // Errors raised before routing (e.g. a malformed %-escape in the path) are problems too.
    frameworkErrors: (err, req, reply) => {
      void errorHandler(err, req, reply);
    },
    // Zod validates requests; responses are serialized as they are. Given as factories, Fastify
    // does not load the Ajv and fast-json-stringify compilers it would otherwise default to.
    schemaController: {
      compilersFactory: compilersFactory(validatorCompiler),
    },
  });
  app.setErrorHandler(errorHandler);
  // JSON only: a text/plain body gets 415 with a hint instead of a confusing schema error.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body means "no body" (POST …/end, POST /v1/sessions): clients often send the
  // content type anyway.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        new DaemonError(
          400,
          undefined,
          'bad_request',
          `the request body is not valid JSON (${jsonErrorWithoutInput(err)})`,
        ),
        undefined,
      );
    }
  });
  app.setNotFoundHandler(notFoundHandler);

  app.addHook('onRequest', async (req, reply) => {
    try {
      if (opts.cors.handle(req, reply)) return reply;
      opts.auth.check(req);
    } catch (err) {
      return sendProblem(reply, toDaemonError(err));
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug(
      {
        method: req.method,
        url: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  // Collected as @fastify/swagger would, the document itself is built on first request.
  const documented = recordRoutes(app);

  opts.mount(app);
  const openapi = openApiDocument(documented, openApiOptions(opts.version));
  app.get('/v1/openapi.json', { schema: { hide: true } }, () => openapi());
  await app.ready();
  return app;
}
