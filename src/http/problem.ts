// problem+json rendering: the one place that turns errors into HTTP responses.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { maskSecrets } from '../engine/trace-redact.ts';
import { DaemonError, defaultCodeForStatus, isDaemonError, titleForStatus } from '../errors/daemon-error.ts';
import { isStorageUnavailable, storageUnavailable } from '../store/unavailable.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  domain?: string;
}

let problemSecrets: () => readonly string[] = () => [];

/**
 * The secret values no problem document may carry (the daemon's slots and keys): a detail that
 * quotes a path parameter, a provider message or a body field is masked on the way out.
 */
export function maskProblemSecrets(source: () => readonly string[]): void {
  problemSecrets = source;
}

export function problemBody(err: DaemonError): ProblemBody {
  const body: ProblemBody = {
    type: `urn:kheish:problem:${err.code}`,
    title: titleForStatus(err.status),
    status: err.status,
    detail: maskSecrets(err.detail, problemSecrets()),
    code: err.code,
  };
  if (err.domain) body.domain = err.domain;
  // Extensions never replace the standard members.
  for (const [k, v] of Object.entries(err.extensions ?? {}))
    if (!(k in body)) (body as unknown as Record<string, unknown>)[k] = v;
  return body;
}

export function sendProblem(reply: FastifyReply, err: DaemonError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .header('content-type', 'application/problem+json')
    .send(Buffer.from(JSON.stringify(problemBody(err))));
}

/** Maps framework and unexpected errors onto the spec's problem documents. Never leaks a stack. */
export function toDaemonError(err: unknown): DaemonError {
  if (isDaemonError(err)) return err;
  const fe = err as FastifyError & { validation?: unknown };
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = (
      fe.validation as Array<{
        instancePath?: string;
        message?: string;
        params?: { issue?: { path?: unknown[]; message?: string } };
      }>
    )
      .map((v) => {
        const path =
          v.params?.issue?.path?.join('.') || v.instancePath?.replace(/^\//, '').replaceAll('/', '.') || '';
        return `${fe.validationContext ?? 'body'}${path ? `.${path}` : ''}: ${v.params?.issue?.message ?? v.message}`;
      })
      .join('; ');
    return new DaemonError(400, undefined, 'bad_request', `invalid request: ${issues}`);
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DaemonError(
        400,
        undefined,
        'bad_request',
        `the request body is not valid JSON: ${fe.message}`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DaemonError(
        413,
        undefined,
        'payload_too_large',
        'the request body is larger than the 24 MiB limit',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DaemonError(
        415,
        'api',
        'unsupported_media_type',
        'send JSON bodies with the header Content-Type: application/json',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new DaemonError(
        400,
        undefined,
        'bad_request',
        'the Content-Length header does not match the body',
      );
  }
  if (isStorageUnavailable(err)) return storageUnavailable(err);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new DaemonError(fe.statusCode, undefined, defaultCodeForStatus(fe.statusCode), fe.message);
  }
  return new DaemonError(
    500,
    undefined,
    'internal_error',
    'the daemon hit an internal error; see its log for details',
  );
}

const DRAIN_UNREAD_BODY_MS = 10_000;
/** A client that stops sending (it announced a body and waits) gets its answer after this. */
const DRAIN_IDLE_MS = 250;
const DRAIN_UNREAD_BODY_MAX = 256 * 1024 * 1024;

export async function errorHandler(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const de = toDaemonError(err);
  // Answering while the client is still uploading makes Node close the socket under it, and the
  // client sees a reset instead of our problem: read the rest (bounded) first.
  if (de.status === 413 || de.status === 415) await drainUnreadBody(req);
  if (de.status >= 500) req.log.error({ err }, 'request failed');
  return sendProblem(reply, de);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(
    reply,
    new DaemonError(
      404,
      'api',
      'route_not_found',
      `no route ${req.method} ${req.url.split('?')[0]}; see GET /v1/openapi.json`,
    ),
  );
}

function drainUnreadBody(req: FastifyRequest): Promise<void> {
  const raw = req.raw;
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve();
    };
    const timer = setTimeout(done, DRAIN_UNREAD_BODY_MS);
    let idle = setTimeout(done, DRAIN_IDLE_MS);
    raw.removeAllListeners('data');
    raw.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      idle = setTimeout(done, DRAIN_IDLE_MS);
      seen += chunk.length;
      if (seen > DRAIN_UNREAD_BODY_MAX) {
        raw.destroy();
        done();
      }
    });
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}
