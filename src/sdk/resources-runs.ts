// Resource clients for sessions, runs and the `responses` facade (submit a prompt, get a handle).
import type { DaemonClient, SseStream } from './client.ts';
import { resumeStream } from './follow.ts';
import { type RouteLike, routeFields } from './route.ts';
import { RunDebugResource } from './run-debug.ts';
import { RunHandle } from './run-handle.ts';
import { type RunWatchOptions, type WatchOptions, watchRun } from './run-watch.ts';
import type {
  CreateSessionRequest,
  InputAttachment,
  InputItem,
  InterruptResponse,
  JsonObject,
  ListResult,
  PageQuery,
  RunEventEntry,
  RunListQuery,
  RunView,
  SessionEventLog,
  SessionSummary,
  SessionView,
  SseFrame,
  SubmitInputRequest,
  SubmitRunRequest,
} from './types.ts';

const enc = encodeURIComponent;

/** Opens one connection; `stream()` methods do not reconnect (see `watch()` for that). */
export interface StreamOptions {
  cursor?: string;
  signal?: AbortSignal;
}

/** The facade's names (`session`, `prompt`, `route`) plus any submit field, in its wire spelling. */
export interface CreateResponseParams {
  /** Session id; created if missing. Without it the daemon makes a new session. */
  session?: string;
  /** The text of the request (`content` on the wire). */
  prompt?: string;
  /** Route id or `{ provider, model }` (see Route); the session's or daemon's default without it. */
  route?: RouteLike;
  /** Sent as the Idempotency-Key header: a retry with the same key returns the same run. */
  idempotency_key?: string;
  /** Sent as the W3C `traceparent` header: the run's trace continues the caller's. */
  traceparent?: string;
  generation?: JsonObject;
  input_items?: InputItem[];
  attachments?: InputAttachment[];
  metadata?: unknown;
  source_plugin?: string;
  source_kind?: string;
  actor_id?: string;
  [field: string]: unknown;
}

export class ResponsesResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /**
   * Creates (or reuses) the session, submits a detached run to it and returns a handle on the run.
   * The daemon owns the run from here: the handle can be dropped and rebuilt with `runs.handle(id)`.
   */
  async create(params: CreateResponseParams = {}): Promise<RunHandle> {
    const { session, prompt, route, generation, idempotency_key, traceparent, ...rest } = params;
    const created = await this.http.createSession(session === undefined ? {} : { session_id: session });
    const body: SubmitRunRequest = {
      ...rest,
      ...(prompt === undefined ? {} : { content: prompt }),
      ...routeFields(route, generation),
    };
    const run = await this.http.submitRun(created.session_id, body, {
      ...(idempotency_key === undefined ? {} : { idempotencyKey: idempotency_key }),
      ...(traceparent === undefined ? {} : { traceparent }),
    });
    return new RunHandle(this.http, run);
  }
}

export class SessionsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** Create-or-reuse: an existing `session_id` answers with that session. */
  create(body: CreateSessionRequest = {}): Promise<SessionView> {
    return this.http.createSession(body);
  }

  get(sessionId: string): Promise<SessionView> {
    return this.http.getSession(sessionId);
  }

  list(query: PageQuery & { persona_id?: string } = {}): Promise<ListResult<SessionSummary>> {
    return this.http.listSessions(query);
  }

  end(sessionId: string, reason?: string): Promise<SessionView> {
    return this.http.endSession(sessionId, reason);
  }

  interrupt(sessionId: string): Promise<InterruptResponse> {
    return this.http.interruptSession(sessionId);
  }

  /** The session's journal of run events and outputs. */
  events(sessionId: string): Promise<SessionEventLog> {
    return this.http.sessionEvents(sessionId);
  }

  /** Detached submit (202): the run queues behind the session's other work. */
  async submitRun(
    sessionId: string,
    body: SubmitRunRequest = {},
    opts: { idempotencyKey?: string; traceparent?: string } = {},
  ): Promise<RunHandle> {
    return new RunHandle(this.http, await this.http.submitRun(sessionId, body, opts));
  }

  /** Inline submit: returns the session once the turn is over; 409 session_busy if anything runs. */
  input(
    sessionId: string,
    body: SubmitInputRequest,
    opts: { signal?: AbortSignal; traceparent?: string } = {},
  ): Promise<SessionView> {
    return this.http.submitInput(sessionId, body, opts);
  }

  /** Sets the session's default route (`null` clears it). */
  setRoute(sessionId: string, route: RouteLike | null): Promise<SessionView> {
    if (route === null) return this.#setting(sessionId, 'route-policy', null);
    return this.http.setRoutePolicy(sessionId, routeFields(route));
  }

  /** Hard limits for the session's runs (turns, tokens, cost, wall time); `null` clears them. */
  setBudget(sessionId: string, budget: JsonObject | null): Promise<SessionView> {
    return this.#setting(sessionId, 'budget', budget);
  }

  setCapabilityScope(sessionId: string, scope: JsonObject | null): Promise<SessionView> {
    return this.#setting(sessionId, 'capability-scope', scope);
  }

  setCredentialScope(sessionId: string, scope: JsonObject | null): Promise<SessionView> {
    return this.#setting(sessionId, 'credential-scope', scope);
  }

  /** One connection to the session stream (live events only unless `cursor` is given). */
  stream(sessionId: string, opts: StreamOptions = {}): SseStream {
    return this.http.streamSession(sessionId, { cursor: opts.cursor }, { signal: opts.signal });
  }

  /** The session stream across reconnects, until `signal` aborts or the loop breaks. */
  watch(sessionId: string, opts: WatchOptions = {}): AsyncGenerator<SseFrame, void, undefined> {
    return resumeStream({
      open: ({ cursor, signal, onOpen }) =>
        this.http.streamSession(sessionId, {}, { lastEventId: cursor, signal, onOpen }),
      cursor: opts.cursor,
      signal: opts.signal,
      maxRetries: opts.maxRetries,
      onReconnect: opts.onReconnect,
    });
  }

  async #setting(sessionId: string, path: string, value: JsonObject | null): Promise<SessionView> {
    const url = `/v1/sessions/${enc(sessionId)}/${path}`;
    if (value === null) return (await this.http.request('DELETE', url)) as SessionView;
    const field = path.replaceAll('-', '_');
    return (await this.http.request('PUT', url, { body: { [field]: value } })) as SessionView;
  }
}

export class RunsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(query: RunListQuery = {}): Promise<ListResult<RunView>> {
    return this.http.listRuns(query);
  }

  get(runId: string): Promise<RunView> {
    return this.http.getRun(runId);
  }

  /** A handle on an existing run (read once), e.g. one submitted by another process. */
  async handle(runId: string): Promise<RunHandle> {
    return new RunHandle(this.http, await this.http.getRun(runId));
  }

  /** The run's lifecycle events as recorded (accepted, queued, started, waiting_for_approval, ...). */
  events(runId: string): Promise<RunEventEntry[]> {
    return this.http.runEvents(runId);
  }

  /** Debug bundles: `debug.get(runId)`, `debug.artifact(runId, id)`, `debug.prune({...})`. */
  get debug(): RunDebugResource {
    return new RunDebugResource(this.http);
  }

  externalActions(runId: string): Promise<JsonObject[]> {
    return this.http.request('GET', `/v1/runs/${enc(runId)}/external-actions`) as Promise<JsonObject[]>;
  }

  cancel(runId: string): Promise<RunView> {
    return this.http.cancelRun(runId);
  }

  /** One connection to the run stream (live events only unless `cursor` is given). */
  stream(runId: string, opts: StreamOptions = {}): SseStream {
    return this.http.streamRun(runId, { cursor: opts.cursor }, { signal: opts.signal });
  }

  /** The run's events from its first one (or after `cursor`), across reconnects, until it is over. */
  watch(runId: string, opts: RunWatchOptions = {}): AsyncGenerator<SseFrame, void, undefined> {
    return watchRun(this.http, runId, opts);
  }
}
