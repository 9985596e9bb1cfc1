// Typed client of the daemon's /v1 HTTP API (api-core §1-3). One method per endpoint; bodies come
// back as parsed JSON, checked only for the fields callers rely on (see schemas.ts).
import {
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
  problemFromResponse,
} from './errors.ts';
import * as shape from './schemas.ts';
import { streamEvents } from './sse.ts';
import type {
  AuthSlotRecord,
  AuthSlotStatus,
  CancelQuestionRequest,
  CreateSessionRequest,
  GlobalStreamQuery,
  InterruptResponse,
  JsonObject,
  ListResult,
  PageQuery,
  PendingApprovalView,
  PendingQuestionView,
  PermissionCheckRequest,
  PermissionExplanation,
  PermissionMatrix,
  PermissionMode,
  ProbeResult,
  QuestionListQuery,
  ResolveApprovalsRequest,
  ResolveUserQuestionRequest,
  RunEventEntry,
  RunListQuery,
  RunView,
  SessionEventLog,
  SessionSummary,
  SessionView,
  SseFrame,
  StreamQuery,
  SubmitInputRequest,
  SubmitRunRequest,
} from './types.ts';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:4000';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

export interface DaemonClientOptions {
  baseUrl?: string;
  token?: string;
  /** Per-request timeout in ms; 0 disables. Inline input and streams have their own rules. */
  timeoutMs?: number;
  /** A stream with no byte (not even a heartbeat) for this long counts as dead; 0 disables. */
  streamIdleTimeoutMs?: number;
  /** The fetch to send requests with (a proxy, a test recorder); the global fetch by default. */
  fetch?: typeof fetch;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the client timeout; 0 disables. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamCallOptions {
  signal?: AbortSignal;
  lastEventId?: string;
  /** Called once the stream is open, before the first frame. */
  onOpen?: () => void | Promise<void>;
}

export type SseStream = AsyncGenerator<SseFrame, void, undefined>;

const enc = encodeURIComponent;

export class DaemonClient {
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  /** Calls the caller's fetch, or the global one as it is at call time. */
  readonly fetch: typeof fetch;

  constructor(opts: DaemonClientOptions = {}) {
    const base = opts.baseUrl ?? DEFAULT_BASE_URL;
    // Validate early so a typo is a clear error, not a fetch failure later.
    const parsed = new URL(base);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`base URL must be http(s), got ${base}`);
    }
    this.baseUrl = base.replace(/\/+$/, '');
    this.token = opts.token || undefined;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.streamIdleTimeoutMs = opts.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
    // Never called as a method of this object: browsers reject fetch with a foreign `this`.
    const custom = opts.fetch;
    this.fetch = (input, init) => (custom ?? globalThis.fetch)(input, init);
  }

  url(path: string, query: Record<string, QueryValue> = {}): URL {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === false) continue;
      url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Sends one request; resolves to the Response only when it is 2xx. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    // A route with its own bearer (observation upload, capture heartbeat) passes it explicitly.
    if (this.token && headers.authorization === undefined) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signals: AbortSignal[] = [];
    if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
    if (opts.signal) signals.push(opts.signal);
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body,
        signal: signals.length ? AbortSignal.any(signals) : undefined,
      });
    } catch (err) {
      throw this.transportError(err, timeoutMs, opts.signal);
    }
    if (!res.ok) throw await problemFromResponse(res);
    return res;
  }

  /** Sends one request and returns the parsed JSON body (undefined when empty). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const res = await this.send(method, path, opts);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.transportError(err, opts.timeoutMs ?? this.timeoutMs, opts.signal);
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new DaemonSchemaError(`${method} ${path}`, 'the body is not valid JSON');
    }
  }

  private async json<T>(
    schema: Parameters<typeof shape.expectShape>[0],
    method: string,
    path: string,
    opts?: RequestOptions,
  ): Promise<T> {
    return shape.expectShape<T>(schema, await this.request(method, path, opts), `${method} ${path}`);
  }

  private transportError(err: unknown, timeoutMs: number, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    if (err instanceof Error && err.name === 'TimeoutError')
      return new DaemonTimeoutError(this.baseUrl, timeoutMs);
    return new DaemonUnreachableError(this.baseUrl, err);
  }

  // --- runtime ---------------------------------------------------------------------------

  status(): Promise<JsonObject & { status: string; ready: boolean }> {
    return this.json(shape.statusView, 'GET', '/v1/status');
  }

  capabilities(): Promise<JsonObject> {
    return this.json(shape.capabilitiesView, 'GET', '/v1/capabilities');
  }

  /** GET /healthz; never throws for an HTTP status, only when the daemon cannot be reached. */
  health(): Promise<ProbeResult> {
    return this.probe('/healthz');
  }

  /** GET /readyz; `ok: false` while the daemon starts or drains (503). */
  ready(): Promise<ProbeResult> {
    return this.probe('/readyz');
  }

  private async probe(path: string): Promise<ProbeResult> {
    const url = this.url(path);
    try {
      const res = await this.fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs || DEFAULT_TIMEOUT_MS),
      });
      return { ok: res.ok, status: res.status, body: await res.text() };
    } catch (err) {
      throw this.transportError(err, this.timeoutMs || DEFAULT_TIMEOUT_MS);
    }
  }

  // --- secrets (admin; reads are redacted, values are write-only) -------------------------

  listSecrets(): Promise<AuthSlotStatus[]> {
    return this.json(shape.authSlotList, 'GET', '/v1/runtime/secrets');
  }

  getSecret(slotId: string): Promise<AuthSlotStatus> {
    return this.json(shape.authSlotStatus, 'GET', `/v1/runtime/secrets/${enc(slotId)}`);
  }

  /** Creates or rotates a slot. */
  putSecret(record: AuthSlotRecord): Promise<AuthSlotStatus> {
    return this.json(shape.authSlotStatus, 'POST', '/v1/runtime/secrets', { body: record });
  }

  deleteSecret(slotId: string): Promise<{ accepted: boolean }> {
    return this.json(shape.acceptedResponse, 'DELETE', `/v1/runtime/secrets/${enc(slotId)}`);
  }

  // --- sessions --------------------------------------------------------------------------

  /** Create-or-reuse: an existing session_id answers 201 with that session. */
  createSession(body: CreateSessionRequest = {}): Promise<SessionView> {
    return this.json(shape.sessionView, 'POST', '/v1/sessions', { body });
  }

  listSessions(query: PageQuery & { persona_id?: string } = {}): Promise<ListResult<SessionSummary>> {
    return this.json(shape.sessionList, 'GET', '/v1/sessions', { query: { ...query } });
  }

  getSession(id: string): Promise<SessionView> {
    return this.json(shape.sessionView, 'GET', `/v1/sessions/${enc(id)}`);
  }

  endSession(id: string, reason?: string): Promise<SessionView> {
    const body = reason === undefined ? {} : { reason };
    return this.json(shape.sessionView, 'POST', `/v1/sessions/${enc(id)}/end`, { body });
  }

  interruptSession(id: string): Promise<InterruptResponse> {
    return this.json(shape.interruptResponse, 'POST', `/v1/sessions/${enc(id)}/interrupt`);
  }

  sessionEvents(id: string): Promise<SessionEventLog> {
    return this.json(shape.sessionEventLog, 'GET', `/v1/sessions/${enc(id)}/events`);
  }

  /** Sets the session's default route; `null` clears it. */
  setRoutePolicy(id: string, policy: JsonObject | null): Promise<SessionView> {
    const path = `/v1/sessions/${enc(id)}/route-policy`;
    return this.json(shape.sessionView, 'POST', path, { body: { route_policy: policy } });
  }

  // --- runs ------------------------------------------------------------------------------

  /** Detached submit: 202 with the queued (or already running) run. */
  submitRun(
    sessionId: string,
    body: SubmitRunRequest = {},
    opts: { idempotencyKey?: string; traceparent?: string } = {},
  ): Promise<RunView> {
    const headers: Record<string, string> = {};
    if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
    // W3C trace context: the run's OpenTelemetry trace continues the caller's (docs/tracing.md).
    if (opts.traceparent !== undefined) headers.traceparent = opts.traceparent;
    return this.json(shape.runView, 'POST', `/v1/sessions/${enc(sessionId)}/runs`, { body, headers });
  }

  /** Inline submit: returns once the turn is over, so no timeout unless one is given. */
  submitInput(
    sessionId: string,
    body: SubmitInputRequest,
    opts: { signal?: AbortSignal; timeoutMs?: number; traceparent?: string } = {},
  ): Promise<SessionView> {
    const path = `/v1/sessions/${enc(sessionId)}/input`;
    return this.json(shape.sessionView, 'POST', path, {
      body,
      ...(opts.traceparent === undefined ? {} : { headers: { traceparent: opts.traceparent } }),
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? 0,
    });
  }

  listRuns(query: RunListQuery = {}): Promise<ListResult<RunView>> {
    return this.json(shape.runList, 'GET', '/v1/runs', { query: { ...query } });
  }

  getRun(id: string): Promise<RunView> {
    return this.json(shape.runView, 'GET', `/v1/runs/${enc(id)}`);
  }

  runEvents(id: string): Promise<RunEventEntry[]> {
    return this.json(shape.runEvents, 'GET', `/v1/runs/${enc(id)}/events`);
  }

  cancelRun(id: string): Promise<RunView> {
    return this.json(shape.runView, 'POST', `/v1/runs/${enc(id)}/cancel`);
  }

  // --- approvals and questions (api-core §4) ---------------------------------------------

  /** Pending approvals, oldest first (always the plain array). */
  async listApprovals(query: { session_id?: string } = {}): Promise<PendingApprovalView[]> {
    const where = 'GET /v1/approvals';
    const body = await this.request('GET', '/v1/approvals', { query: { ...query } });
    return this.pendingItems(body, where, false) as PendingApprovalView[];
  }

  /** Resolves approvals of one exact run; the batch is atomic. 202 with the run. */
  resolveRunApprovals(runId: string, body: ResolveApprovalsRequest): Promise<RunView> {
    return this.json(shape.runView, 'POST', `/v1/runs/${enc(runId)}/approvals`, { body });
  }

  /** Resolves approvals of the session's waiting run; answers with the session. */
  resolveSessionApprovals(sessionId: string, body: ResolveApprovalsRequest): Promise<SessionView> {
    return this.json(shape.sessionView, 'POST', `/v1/sessions/${enc(sessionId)}/approvals`, { body });
  }

  async listQuestions(query: QuestionListQuery = {}): Promise<ListResult<PendingQuestionView>> {
    const where = 'GET /v1/questions';
    const body = await this.request('GET', '/v1/questions', { query: { ...query } });
    return this.pendingItems(body, where, true) as ListResult<PendingQuestionView>;
  }

  resolveRunQuestion(runId: string, body: ResolveUserQuestionRequest): Promise<RunView> {
    return this.json(shape.runView, 'POST', `/v1/runs/${enc(runId)}/questions`, { body });
  }

  resolveSessionQuestion(sessionId: string, body: ResolveUserQuestionRequest): Promise<SessionView> {
    return this.json(shape.sessionView, 'POST', `/v1/sessions/${enc(sessionId)}/questions`, { body });
  }

  cancelQuestion(runId: string, requestId: string, body: CancelQuestionRequest = {}): Promise<RunView> {
    const path = `/v1/runs/${enc(runId)}/questions/${enc(requestId)}/cancel`;
    return this.json(shape.runView, 'POST', path, { body });
  }

  /** Array (or, when allowed, page envelope) of pending items that each carry `request.id`. */
  private pendingItems(body: unknown, where: string, envelope: boolean): unknown {
    const items =
      Array.isArray(body) || !envelope ? body : (body as { items?: unknown } | null | undefined)?.items;
    if (!Array.isArray(items)) throw new DaemonSchemaError(where, '(body): expected a list');
    items.forEach((item, i) => {
      const request = (item as { request?: { id?: unknown } } | null)?.request;
      if (typeof request?.id !== 'string' || typeof (item as { run_id?: unknown }).run_id !== 'string')
        throw new DaemonSchemaError(where, `${i}.request.id: expected a pending request`);
    });
    return body;
  }

  // --- permissions (ops-runtime §6) -------------------------------------------------------

  /** Returns the runtime snapshot after the change (`config.revision` is the new revision). */
  async setPermissionMode(mode: PermissionMode, expectedRevision?: number): Promise<JsonObject> {
    const body = expectedRevision === undefined ? { mode } : { mode, expected_revision: expectedRevision };
    return (await this.request('POST', '/v1/runtime/permission-mode', { body })) as JsonObject;
  }

  /** Dry run: no hooks, no approval, no audit. */
  async checkPermission(body: PermissionCheckRequest): Promise<PermissionExplanation> {
    const res = await this.request('POST', '/v1/runtime/permissions/check', { body });
    if (typeof (res as { decision?: unknown } | undefined)?.decision !== 'string')
      throw new DaemonSchemaError('POST /v1/runtime/permissions/check', 'decision: expected a string');
    return res as PermissionExplanation;
  }

  async permissionMatrix(sessionId?: string): Promise<PermissionMatrix> {
    const body = sessionId === undefined ? {} : { session_id: sessionId };
    const res = (await this.request('POST', '/v1/runtime/permissions/matrix', { body })) as
      | PermissionMatrix
      | undefined;
    if (!Array.isArray(res?.modes) || !Array.isArray(res?.tools))
      throw new DaemonSchemaError('POST /v1/runtime/permissions/matrix', 'modes/tools: expected lists');
    return res;
  }

  // --- streams ---------------------------------------------------------------------------

  streamGlobal(query: GlobalStreamQuery = {}, opts: StreamCallOptions = {}): SseStream {
    const { cursor, ...filter } = query;
    return this.stream(this.url('/v1/events/stream', filter), cursor, opts);
  }

  streamSession(id: string, query: StreamQuery = {}, opts: StreamCallOptions = {}): SseStream {
    return this.stream(this.url(`/v1/sessions/${enc(id)}/stream`), query.cursor, opts);
  }

  streamRun(id: string, query: StreamQuery = {}, opts: StreamCallOptions = {}): SseStream {
    return this.stream(this.url(`/v1/runs/${enc(id)}/stream`), query.cursor, opts);
  }

  /** Any SSE endpoint: one connection, the client's token, idle timeout and fetch. */
  stream(url: URL, cursor: string | undefined, opts: StreamCallOptions = {}): SseStream {
    return streamEvents(url, {
      token: this.token,
      cursor,
      lastEventId: opts.lastEventId,
      signal: opts.signal,
      onOpen: opts.onOpen,
      idleTimeoutMs: this.streamIdleTimeoutMs,
      fetch: this.fetch,
    });
  }
}
