// One error type for the whole daemon: status + spec domain/code + human detail.
// Rendered as application/problem+json by src/http/problem.ts.

export class DaemonError extends Error {
  readonly status: number;
  readonly domain: string | undefined;
  readonly code: string;
  readonly detail: string;
  readonly headers: Record<string, string>;
  /** Extra problem members (RFC 9457 extensions), e.g. `retry_after_ms` of a rate-limited upload. */
  readonly extensions: Record<string, unknown>;

  constructor(
    status: number,
    domain: string | undefined,
    code: string,
    detail: string,
    headers: Record<string, string> = {},
    extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'DaemonError';
    this.status = status;
    this.domain = domain;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
    this.extensions = extensions;
  }
}

export const isDaemonError = (err: unknown): err is DaemonError => err instanceof DaemonError;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const DEFAULT_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'service_unavailable',
  500: 'internal_error',
};

export const titleForStatus = (status: number): string => TITLES[status] ?? 'Daemon Error';
export const defaultCodeForStatus = (status: number): string => DEFAULT_CODES[status] ?? 'daemon_error';

/** Shorthands for the codes used across features; grep-able by code. */
export const errors = {
  badRequest: (detail: string, domain?: string, code?: string) =>
    new DaemonError(400, domain, code ?? 'bad_request', detail),
  sessionNotFound: (id: string) =>
    new DaemonError(404, 'sessions', 'session_not_found', `session ${id} was not found`),
  sessionBusy: (id: string) =>
    new DaemonError(
      409,
      'sessions',
      'session_busy',
      `session ${id} is already processing background work; submit a detached run with POST /v1/sessions/${id}/runs to queue behind it`,
    ),
  sessionEnded: (id: string) =>
    new DaemonError(
      409,
      'sessions',
      'session_ended',
      `session ${id} has ended; reopen it with POST /v1/sessions {"session_id":"${id}"} before submitting work`,
    ),
  runNotFound: (id: string) => new DaemonError(404, 'runs', 'run_not_found', `run ${id} was not found`),
  runStateConflict: (detail: string) => new DaemonError(409, 'runs', 'run_state_conflict', detail),
  draining: () =>
    new DaemonError(503, 'readiness', 'daemon_draining', 'the daemon is draining and accepts no new work'),
  storageUnavailable: (cause: string) =>
    new DaemonError(503, 'readiness', 'storage_unavailable', `the database does not answer: ${cause}`),
};
