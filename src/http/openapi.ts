// GET /v1/openapi.json, built on its first request instead of at boot. @fastify/swagger and the
// YAML library it loads are about a tenth of the modules the HTTP layer loads, for one route
// that a running daemon may never serve. So the server only records its routes (recordRoutes) and
// the document is produced once, by the same plugin with the same options, on a private Fastify
// instance that gets those routes and is never listened on.
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifySchemaCompiler, FastifyServerOptions, RouteOptions } from 'fastify';
import type { HttpApp } from './context.ts';

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * Our compilers, handed to Fastify as factories: without them Fastify loads Ajv and
 * fast-json-stringify at construction, only to have them replaced by setValidatorCompiler.
 */
export function compilersFactory(validator: FastifySchemaCompiler<any>): Compilers {
  return {
    // Typed after Ajv's compiler in Fastify's declarations; any schema compiler works at run time.
    buildValidator: (() => validator) as unknown as Compilers['buildValidator'],
    // Responses are our own views; serialize them as they are (schemas only document them).
    buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
  };
}

/** Every route added to `app` from now on, as @fastify/swagger would collect it. */
export function recordRoutes(app: HttpApp): RouteOptions[] {
  const routes: RouteOptions[] = [];
  // Fastify's automatic HEAD twin of each GET: the plugin leaves those out of the document.
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });
  return routes;
}

/** Builds the document on first use and keeps it (routes do not change after boot). */
export function openApiDocument(
  routes: RouteOptions[],
  options: FastifyDynamicSwaggerOptions,
): () => Promise<unknown> {
  let doc: Promise<unknown> | null = null;
  return () => {
    doc ??= build(routes, options).catch((err) => {
      doc = null;
      throw err;
    });
    return doc;
  };
}

async function build(routes: RouteOptions[], options: FastifyDynamicSwaggerOptions): Promise<unknown> {
  const [{ default: Fastify }, { default: fastifySwagger }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
  ]);
  // Schemas are only read here, never compiled: the private instance validates nothing.
  const noValidation: FastifySchemaCompiler<unknown> = () => () => ({ value: undefined });
  const app = Fastify({
    exposeHeadRoutes: false,
    schemaController: { compilersFactory: compilersFactory(noValidation) },
  });
  try {
    await app.register(fastifySwagger, options);
    const handler = async () => null;
    for (const r of routes)
      app.route({ method: r.method, url: r.url, schema: r.schema, config: r.config, handler });
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}
