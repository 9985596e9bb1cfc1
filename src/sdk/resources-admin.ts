// Resource clients for operating the daemon (runtime, secrets), the daemon-wide event stream, and
// `raw`, the escape hatch for endpoints and fields the typed surface does not wrap.
import type { DaemonClient, QueryValue, SseStream } from './client.ts';
import { resumeStream } from './follow.ts';
import * as permissions from './permissions.ts';
import type { StreamOptions } from './resources-runs.ts';
import type { WatchOptions } from './run-watch.ts';
import type {
  AuthSlotRecord,
  AuthSlotStatus,
  DebugLevel,
  GlobalStreamQuery,
  JsonObject,
  PermissionCheckRequest,
  PermissionExplanation,
  PermissionMatrix,
  PermissionMode,
  ProbeResult,
  RuntimeRevisions,
  SseFrame,
  SystemPromptSettings,
} from './types.ts';

/** A route to add on a running daemon (POST /v1/runtime/routes). */
export interface AddRouteRequest {
  route_id: string;
  /** Driver: openai, anthropic, google, openrouter, xai or openai_compatible (alias `driver`). */
  provider?: string;
  driver?: string;
  /** Default model of the route (alias `default_model`); each driver has one when omitted. */
  model?: string;
  default_model?: string;
  base_url?: string;
  /** Written to the encrypted store, never returned. */
  api_key?: string;
  /** An existing secret slot instead of `api_key`. */
  auth_ref?: string;
  expected_revision?: number;
  skip_hooks?: boolean;
}

export interface AddRouteResult {
  /** The route as GET /v1/runtime/routes lists it (readiness, is_default, auth_ref...). */
  route: JsonObject;
  default_route: string | null;
}

export interface DeleteRouteResult {
  accepted: true;
  route_id: string;
  default_route: string | null;
  revision: number;
}

const withRevision = (body: JsonObject, expected?: number): JsonObject =>
  expected === undefined ? body : { ...body, expected_revision: expected };

export class RuntimeResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/status: health, readiness, routes, run and event counters. */
  status(): Promise<JsonObject & { status: string; ready: boolean }> {
    return this.http.status();
  }

  capabilities(): Promise<JsonObject> {
    return this.http.capabilities();
  }

  /** GET /healthz; never throws for an HTTP status. */
  health(): Promise<ProbeResult> {
    return this.http.health();
  }

  /** GET /readyz; `ok: false` while the daemon starts or drains. */
  ready(): Promise<ProbeResult> {
    return this.http.ready();
  }

  /**
   * GET /v1/runtime/doctor: the daemon-side checks of `kheish-daemon doctor` (admin token).
   * `integrity: false` skips the store integrity check (it reads the whole SQLite file).
   */
  doctor(opts: { integrity?: boolean } = {}): Promise<{ checks: JsonObject[] }> {
    return this.http.request('GET', '/v1/runtime/doctor', {
      query: { integrity: opts.integrity === false ? 'false' : undefined },
      timeoutMs: 120_000,
    }) as Promise<{ checks: JsonObject[] }>;
  }

  /** GET /metrics: the Prometheus text exposition (same token as status; docs/operations.md). */
  async metrics(opts: { signal?: AbortSignal } = {}): Promise<string> {
    const res = await this.http.send('GET', '/metrics', {
      headers: { accept: 'text/plain;version=0.0.4' },
      signal: opts.signal,
    });
    return res.text();
  }

  /** GET /v1/runtime: the runtime settings (default route and model, permission mode, revision). */
  get(): Promise<JsonObject> {
    return this.http.request('GET', '/v1/runtime') as Promise<JsonObject>;
  }

  /** The configured routes and whether each is ready. */
  routes(): Promise<JsonObject[]> {
    return this.http.request('GET', '/v1/runtime/routes') as Promise<JsonObject[]>;
  }

  /**
   * POST /v1/runtime/routes: adds a model route to the running daemon (a new runtime revision).
   * The API key goes into the encrypted secret store as `routes.<route_id>.api_key`; the first
   * route of a daemon without one becomes its default.
   */
  addRoute(body: AddRouteRequest): Promise<AddRouteResult> {
    return this.http.request('POST', '/v1/runtime/routes', {
      body: body as unknown as JsonObject,
    }) as Promise<AddRouteResult>;
  }

  /** DELETE /v1/runtime/routes/{route_id}: removes a runtime-added route and its stored key. */
  deleteRoute(routeId: string, opts: { expectedRevision?: number } = {}): Promise<DeleteRouteResult> {
    return this.http.request('DELETE', `/v1/runtime/routes/${encodeURIComponent(routeId)}`, {
      query: opts.expectedRevision === undefined ? undefined : { expected_revision: opts.expectedRevision },
    }) as Promise<DeleteRouteResult>;
  }

  /** Changes the daemon's default route (`provider`, a route id) and model. */
  setModel(body: { provider?: string; model: string; expected_revision?: number }): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/model', { body }) as Promise<JsonObject>;
  }

  /** Debug capture level for future model calls: off, on, redacted or full. */
  setDebugLevel(level: DebugLevel, expectedRevision?: number): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/debug-level', {
      body: withRevision({ level }, expectedRevision),
    }) as Promise<JsonObject>;
  }

  /** The system prompt settings every run starts with. */
  systemPrompt(): Promise<{ settings: SystemPromptSettings; revision: number }> {
    return this.http.request('GET', '/v1/runtime/system-prompt') as Promise<{
      settings: SystemPromptSettings;
      revision: number;
    }>;
  }

  /** Replaces the system prompt settings as a whole (an empty object restores the default). */
  setSystemPrompt(settings: SystemPromptSettings, expectedRevision?: number): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/system-prompt', {
      body: withRevision({ settings }, expectedRevision),
    }) as Promise<JsonObject>;
  }

  /** The current revision and the retained history, newest first (admin). */
  revisions(): Promise<RuntimeRevisions> {
    return this.http.request('GET', '/v1/runtime/revisions') as Promise<RuntimeRevisions>;
  }

  /**
   * Re-applies a retained revision (default: the one before the current) as a new `rollback`
   * revision. `skip_hooks` passes blocking config_change hooks (recorded as runtime_api_force).
   */
  rollback(
    body: { target_revision?: number; expected_revision?: number; skip_hooks?: boolean } = {},
  ): Promise<JsonObject> {
    return this.http.request('POST', '/v1/runtime/rollback', { body }) as Promise<JsonObject>;
  }

  setPermissionMode(mode: PermissionMode, expectedRevision?: number): Promise<JsonObject> {
    return this.http.setPermissionMode(mode, expectedRevision);
  }

  /** Dry run of a permission decision: no hooks, no approval, no audit. */
  checkPermission(body: PermissionCheckRequest): Promise<PermissionExplanation> {
    return this.http.checkPermission(body);
  }

  permissionMatrix(sessionId?: string): Promise<PermissionMatrix> {
    return this.http.permissionMatrix(sessionId);
  }

  toolLimits(): Promise<JsonObject> {
    return permissions.getToolLimits(this.http);
  }

  setToolLimits(limits: unknown, expectedRevision?: number): Promise<JsonObject> {
    return permissions.setToolLimits(this.http, limits, expectedRevision);
  }

  /** The OpenAPI 3.1 document of this daemon's /v1 API. */
  openapi(): Promise<JsonObject> {
    return this.http.request('GET', '/v1/openapi.json') as Promise<JsonObject>;
  }
}

/** Secret slots (admin): reads show metadata and a redacted summary, never the value. */
export class SecretsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  list(): Promise<AuthSlotStatus[]> {
    return this.http.listSecrets();
  }

  get(slotId: string): Promise<AuthSlotStatus> {
    return this.http.getSecret(slotId);
  }

  /** Creates or rotates a slot. */
  put(record: AuthSlotRecord): Promise<AuthSlotStatus> {
    return this.http.putSecret(record);
  }

  delete(slotId: string): Promise<{ accepted: boolean }> {
    return this.http.deleteSecret(slotId);
  }
}

/** The daemon-wide stream (`GET /v1/events/stream`), optionally narrowed to a session or run. */
export class EventsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** One connection (live events only unless `cursor` is given). */
  stream(query: Omit<GlobalStreamQuery, 'cursor'> = {}, opts: StreamOptions = {}): SseStream {
    return this.http.streamGlobal({ ...query, cursor: opts.cursor }, { signal: opts.signal });
  }

  /** The stream across reconnects, until `signal` aborts or the loop breaks. */
  watch(
    query: Omit<GlobalStreamQuery, 'cursor'> = {},
    opts: WatchOptions = {},
  ): AsyncGenerator<SseFrame, void, undefined> {
    return resumeStream({
      open: ({ cursor, signal, onOpen }) =>
        this.http.streamGlobal(query, { lastEventId: cursor, signal, onOpen }),
      cursor: opts.cursor,
      signal: opts.signal,
      maxRetries: opts.maxRetries,
      onReconnect: opts.onReconnect,
    });
  }
}

export interface RawRequestOptions {
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the client timeout; 0 disables. */
  timeoutMs?: number;
}

/**
 * Any endpoint by method and path: the parsed JSON body (undefined when empty) or a
 * DaemonProblemError carrying the problem+json fields. Same auth, timeouts and errors as the rest.
 */
export class RawResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: RawRequestOptions = {},
  ): Promise<T> {
    return this.http.request(method, path, { ...opts, body }) as Promise<T>;
  }

  get<T = unknown>(path: string, query?: Record<string, QueryValue>): Promise<T> {
    return this.request<T>('GET', path, undefined, { query });
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** Any SSE endpoint, one connection. */
  stream(path: string, opts: StreamOptions = {}): SseStream {
    return this.http.stream(this.http.url(path), opts.cursor, { signal: opts.signal });
  }
}
