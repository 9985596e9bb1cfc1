// Hook settings and dead letters (ops-runtime §7): `kheish.hooks`. Raw settings and dead letters
// are admin-only; /v1/runtime and /v1/status show a redacted summary.
import type { DaemonClient } from './client.ts';
import type { JsonObject } from './types.ts';

export type HookFailureMode = 'open' | 'closed';

export interface HookDefinition {
  name: string;
  /** `|`-separated names or prefixes ending in `*`, tested against the invocation's subject. */
  matcher?: string;
  failure_policy?: { mode?: HookFailureMode; max_retries?: number };
  executor:
    | { type: 'command'; command: string; shell?: string; timeout_ms?: number }
    | { type: 'http'; url: string; headers?: Record<string, string>; timeout_ms?: number }
    | { type: 'prompt'; template: string; system_prompt?: string; model?: JsonObject; timeout_ms?: number }
    | {
        type: 'agent';
        template: string;
        system_prompt?: string;
        model?: JsonObject;
        tool_surface?: string[] | { allow: string[]; deny?: string[] };
        max_turns?: number;
        timeout_ms?: number;
      }
    | { type: 'callback'; name: string; timeout_ms?: number };
}

export interface HookSettings {
  schema_version?: 1;
  hooks: Record<string, HookDefinition[]>;
}

export interface HookDeadLetter {
  id: string;
  created_at_ms: number;
  event: string;
  hook_name: string;
  executor_type: string;
  target: string;
  failure_mode: HookFailureMode;
  attempts: number;
  error: string;
  contract_version: number;
  invocation_key: string;
  invocation_digest: string;
  definition_digest: string;
  session_id?: string;
  run_id?: string;
  resolutions: Array<{ reason: string; resolved_at_ms: number }>;
}

export interface SetHooksOptions {
  expectedRevision?: number;
  /** Past blocking config_change hooks (recorded as `runtime_api_force`). */
  skipHooks?: boolean;
}

export class HooksResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** GET /v1/runtime/hooks: the raw settings in force (admin). */
  get(): Promise<HookSettings> {
    return this.http.request('GET', '/v1/runtime/hooks') as Promise<HookSettings>;
  }

  /** Replaces every hook (a new runtime revision); answers the runtime view. */
  set(settings: HookSettings, opts: SetHooksOptions = {}): Promise<JsonObject> {
    const body: JsonObject = { settings: settings as unknown as JsonObject };
    if (opts.expectedRevision !== undefined) body.expected_revision = opts.expectedRevision;
    if (opts.skipHooks !== undefined) body.skip_hooks = opts.skipHooks;
    return this.http.request('POST', '/v1/runtime/hooks', { body }) as Promise<JsonObject>;
  }

  /** Removes every hook. */
  reset(opts: SetHooksOptions = {}): Promise<JsonObject> {
    return this.set({ hooks: {} }, opts);
  }

  /** The redacted dead letters, newest first (admin). */
  deadLetters(): Promise<HookDeadLetter[]> {
    return this.http.request('GET', '/v1/runtime/hooks/dead-letter') as Promise<HookDeadLetter[]>;
  }

  /** Appends a resolution to a dead letter; the failure evidence stays. */
  resolveDeadLetter(id: string, reason: string): Promise<HookDeadLetter> {
    return this.http.request('POST', `/v1/runtime/hooks/dead-letter/${encodeURIComponent(id)}/resolve`, {
      body: { reason },
    }) as Promise<HookDeadLetter>;
  }
}
