// GET / (the console's page, revalidated on every load) and GET /assets/:name (content-hashed
// bundles, cached for a year). Outside /v1, so the auth guard lets them through: the page and its
// scripts are public; every API call the page makes carries the bearer token the user signed in with.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../../http/context.ts';
import type { ConsoleService, StaticFile } from './service.ts';

/** script/style from this origin only; the API is same-origin too, so nothing else is needed. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function send(
  req: FastifyRequest,
  reply: FastifyReply,
  file: StaticFile,
  cacheControl: string,
  extra: Record<string, string> = {},
) {
  reply
    .headers(extra)
    .header('cache-control', cacheControl)
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff')
    .type(file.type);
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

export function registerConsoleRoutes(app: HttpApp, files: ConsoleService): void {
  const page = (req: FastifyRequest, reply: FastifyReply) =>
    send(req, reply, files.index(), 'no-cache', PAGE_HEADERS);
  app.get('/', { schema: { hide: true } }, page);
  app.get('/index.html', { schema: { hide: true } }, page);
  app.get<{ Params: { name: string } }>('/assets/:name', { schema: { hide: true } }, (req, reply) => {
    const file = files.asset(req.params.name);
    if (!file) return reply.code(404).type('text/plain').send('not found\n');
    // Vite names every bundle after its content hash, so a name never changes meaning.
    return send(req, reply, file, 'public, max-age=31536000, immutable');
  });
}
