// Errors the SDK throws. Each kind maps to one CLI exit code, so callers branch on the class,
// never on message text. All extend KheishError, so one `instanceof` catches any of them.
import type { RunView } from './types.ts';

/** The base of every error the SDK throws. */
export class KheishError extends Error {}

export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  domain?: string;
  [key: string]: unknown;
}

/** A non-2xx answer from the daemon, normally an application/problem+json document. */
export class DaemonProblemError extends KheishError {
  readonly status: number;
  readonly code: string;
  readonly domain: string | undefined;
  readonly detail: string;
  readonly title: string;
  readonly type: string | undefined;
  /** Seconds, from a Retry-After header (sent with 429 and some 503). */
  readonly retryAfter: number | undefined;
  readonly body: ProblemDocument;

  constructor(status: number, body: ProblemDocument, retryAfter?: number) {
    const code = typeof body.code === 'string' && body.code ? body.code : fallbackCode(status);
    const detail = typeof body.detail === 'string' ? body.detail : `the daemon answered HTTP ${status}`;
    super(`${code}: ${detail}`);
    this.name = 'DaemonProblemError';
    this.status = status;
    this.code = code;
    this.domain = typeof body.domain === 'string' ? body.domain : undefined;
    this.detail = detail;
    this.title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    this.type = typeof body.type === 'string' ? body.type : undefined;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/** Connection refused, DNS failure, reset before an answer: nothing reached a daemon. */
export class DaemonUnreachableError extends KheishError {
  readonly url: string;
  /** The system error code when known (ECONNREFUSED, ENOTFOUND, ...). */
  readonly errno: string | undefined;

  constructor(url: string, cause?: unknown, what = 'cannot reach the daemon at') {
    const errno = systemCode(cause);
    super(`${what} ${url}${errno ? ` (${errno})` : ''}`, { cause });
    this.name = 'DaemonUnreachableError';
    this.url = url;
    this.errno = errno;
  }
}

/** The daemon accepted the connection but did not answer (or went silent) in time. */
export class DaemonTimeoutError extends KheishError {
  readonly url: string;
  readonly timeoutMs: number;

  constructor(url: string, timeoutMs: number) {
    super(`the daemon at ${url} did not answer within ${timeoutMs} ms`);
    this.name = 'DaemonTimeoutError';
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/** The answer did not have the shape this client expects: usually a client/daemon version skew. */
export class DaemonSchemaError extends KheishError {
  readonly url: string;

  constructor(url: string, detail: string) {
    super(`unexpected response from ${url}: ${detail}`);
    this.name = 'DaemonSchemaError';
    this.url = url;
  }
}

/** One SSE frame larger than the client's limit; big payloads belong to list/get calls instead. */
export class SseFrameTooLargeError extends KheishError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`an SSE frame exceeded ${limitBytes} bytes; the stream was aborted`);
    this.name = 'SseFrameTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** A run that ended in another state than `completed`, from `wait({ raiseOnFailure: true })`. */
export class RunFailedError extends KheishError {
  readonly run: RunView;
  readonly runId: string;
  /** The run's terminal status: `failed`, `interrupted` or `cancelled`. */
  readonly runStatus: string;

  constructor(run: RunView) {
    const why = typeof run.error === 'string' && run.error ? `: ${run.error}` : '';
    super(`run ${run.run_id} ended ${run.status}${why}`);
    this.name = 'RunFailedError';
    this.run = run;
    this.runId = run.run_id;
    this.runStatus = run.status;
  }
}

/** `wait`/`waitUntilBlocked` gave up before the run got there; the run itself goes on. */
export class RunWaitTimeoutError extends KheishError {
  readonly run: RunView;
  readonly timeoutMs: number;

  constructor(run: RunView, timeoutMs: number) {
    super(`run ${run.run_id} is still ${run.status} after ${timeoutMs} ms`);
    this.name = 'RunWaitTimeoutError';
    this.run = run;
    this.timeoutMs = timeoutMs;
  }
}

/** Builds the error for a non-2xx response; tolerates bodies that are not problem documents. */
export async function problemFromResponse(res: Response): Promise<DaemonProblemError> {
  const text = await res.text().catch(() => '');
  let body: ProblemDocument = {};
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') && text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as ProblemDocument;
    } catch {
      // A broken error body still has a status worth reporting.
    }
  }
  if (body.detail === undefined && text && !type.includes('json'))
    body = { ...body, detail: text.trim().slice(0, 500) };
  const retry = Number(res.headers.get('retry-after') ?? Number.NaN);
  return new DaemonProblemError(res.status, body, Number.isFinite(retry) ? retry : undefined);
}

const FALLBACK_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
};

/** Same derivation the daemon uses when no typed code applies (api-core §1.3). */
export const fallbackCode = (status: number): string => FALLBACK_CODES[status] ?? 'daemon_error';

function systemCode(cause: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  let cur: unknown = cause;
  for (let depth = 0; depth < 4 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = systemCode(errors[0]);
      if (inner) return inner;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
