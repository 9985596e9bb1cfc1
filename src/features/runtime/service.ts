// Operator introspection: readiness, capabilities, status counters, route inventory.

import { emptyUsage } from '../../engine/budgets.ts';
import type { Engine } from '../../engine/engine.ts';
import type { ReplicaRuntime } from '../../engine/replica.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import type { SlotCache } from '../../models/slot-cache.ts';
import { sseIdOf } from '../../store/event-log.ts';
import { countPendingApprovals, countPendingQuestions } from '../../store/repos/approvals.ts';
import { countRunsByStatus, liveRunTimings, runUsageTotals } from '../../store/repos/runs.ts';
import { countSessions, getSession } from '../../store/repos/sessions.ts';
import { countTasksByStatus } from '../../store/repos/tasks.ts';
import { tracingStatus } from '../../telemetry/tracing.ts';
import {
  evaluate,
  PERMISSION_MODES,
  type PermissionMode,
  type PermissionRule,
} from '../../tools/permissions.ts';
import { sandboxStatus } from '../../tools/shell/index.ts';
import { DAEMON_VERSION } from '../../version.ts';
import { auditStatus, auditWarnings } from './audit-status.ts';
import { type DebugLevel, defineCoreSettings } from './core-settings.ts';
import { LiveRoutes } from './live-routes.ts';
import { routeViews } from './route-views.ts';
import { HISTORY_LIMIT, RuntimeSettings } from './settings.ts';
import {
  type HealthWarning,
  healthOf,
  providerReadiness,
  type RouteEntry,
  runTimings,
  runWarnings,
} from './status-figures.ts';
import { StorageProbe } from './storage-probe.ts';

export interface DaemonInfo {
  stateRoot: string;
  workspaceRoot: string | null;
  lockOwner: string;
  /** This daemon among the replicas of its database (leases, heartbeats). */
  replica?: ReplicaRuntime;
  startedAtMs: number;
  authEnabled: boolean;
  /** The decrypted route slots (runtime-added routes add theirs). */
  slots: SlotCache;
  /** The schedule timer (src/engine/scheduler.ts): its policy and counters. */
  scheduler?: { policyView(): Record<string, unknown>; statusView(): Promise<Record<string, unknown>> };
}

/** A feature's part of GET /v1/runtime or GET /v1/status (mcp, hooks, skills...), under its key. */
export type RuntimeSection = () => unknown;

export class RuntimeService {
  readonly engine: Engine;
  private readonly info: DaemonInfo;
  private readonly runtimeSections = new Map<string, RuntimeSection>();
  private readonly statusSections = new Map<string, () => Promise<unknown> | unknown>();
  constructor(engine: Engine, info: DaemonInfo) {
    this.engine = engine;
    this.info = info;
    this.settings = new RuntimeSettings(engine);
    // Runtime-added routes are defined first: the default model may name one of them.
    this.liveRoutes = new LiveRoutes(engine, this.settings, info.slots);
    this.liveRoutes.view = (id) => this.routes().find((r) => r.route_id === id) ?? null;
    defineCoreSettings(this.settings, engine);
    this.storage = new StorageProbe(engine.store);
  }

  /** Adds a feature's section to GET /v1/runtime (and to every runtime_updated event). */
  addRuntimeSection(key: string, section: RuntimeSection): void {
    this.runtimeSections.set(key, section);
  }

  /** Adds a feature's counters to GET /v1/status. */
  addStatusSection(key: string, section: () => Promise<unknown> | unknown): void {
    this.statusSections.set(key, section);
  }

  /** Adds a feature's figures to the `storage` section of GET /v1/status (e.g. `asset_repair`). */
  addStorageSection(key: string, section: () => Promise<unknown> | unknown): void {
    this.storageSections.set(key, section);
  }
  private readonly storageSections = new Map<string, () => Promise<unknown> | unknown>();

  /** Adds a feature's health warnings to GET /v1/status (`health.warnings`). */
  addHealthWarnings(source: () => Promise<HealthWarning[]> | HealthWarning[]): void {
    this.warningSources.push(source);
  }
  private readonly warningSources: Array<() => Promise<HealthWarning[]> | HealthWarning[]> = [];

  readonly storage: StorageProbe;

  get ready(): boolean {
    return !this.engine.isDraining;
  }

  /** Why /readyz answers 503 (draining, or the database does not answer), or null when ready. */
  async notReady(): Promise<DaemonError | null> {
    if (!this.ready) return errors.draining();
    const audit = this.engine.opts.audit.problem();
    // Reads are still served, but nothing that leaves the daemon runs: not ready for its work.
    if (audit) return new DaemonError(503, 'readiness', 'external_audit_unavailable', audit);
    return this.storage.unavailable();
  }

  capabilities() {
    return {
      control_plane_version: DAEMON_VERSION,
      api_revision: 3,
      route_capability_matrix_version: 2,
      approvals: true,
      sidechains: true,
      mailboxes: true,
      session_events: true,
      restart_restore: true,
      live_events: true,
      sse_replay: true,
      typed_sse_heartbeat: true,
      openapi: true,
      problem_details: true,
      cursor_pagination: true,
      paginated_lists: true,
      domain_errors: true,
      agent_supervisor_audit: true,
      spawn_policies: true,
      session_run_idempotency: true,
      playbooks: false,
      flows: false,
    };
  }

  readonly settings: RuntimeSettings;
  readonly liveRoutes: LiveRoutes;
  /** The agents feature: spawn quotas for /v1/runtime and the agent counts of /v1/status. */
  agents?: { policyView(): unknown; statusView(): Promise<unknown> };

  /** The GET /v1/runtime/routes entries (route-views.ts). */
  routes(): RouteEntry[] {
    return routeViews(this.engine.routes);
  }

  runtime() {
    const def = this.engine.routes.get(this.engine.routes.defaultRoute);
    return {
      default_route: this.engine.routes.defaultRoute || null,
      route_id: this.engine.routes.defaultRoute || null,
      provider: def?.config.driver,
      model: this.engine.routes.defaultModel ?? def?.config.default_model,
      routes: this.routes(),
      routes_file: this.engine.routes.routesFile,
      default_model: this.engine.routes.defaultModel ?? def?.config.default_model,
      builtin_demo_route: this.engine.routes.isBuiltinDemo,
      permission_mode: this.engine.permissionMode,
      debug_level: this.settings.value<DebugLevel>('debug_level') ?? 'off',
      system_prompt: this.settings.value('system_prompt') ?? {},
      tool_runtime_limits: this.toolLimits(),
      scheduler_policy: this.info.scheduler?.policyView() ?? null,
      subagent_policy: this.agents?.policyView() ?? null,
      workspace_root: this.info.workspaceRoot,
      state_root: this.info.stateRoot,
      config: {
        revision: this.settings.record.revision,
        updated_at_ms: this.settings.record.updated_at_ms,
        persisted: true,
        history_len: this.settings.record.history.length,
        history_limit: HISTORY_LIMIT,
        // The settings and their revisions live in the daemon's database.
        store_path: this.engine.store.location,
      },
      ...Object.fromEntries([...this.runtimeSections].map(([key, section]) => [key, section()])),
    };
  }

  toolLimits() {
    return { ...this.engine.toolLimits.get() };
  }

  private async sessionRules(sessionId: string | undefined): Promise<PermissionRule[]> {
    if (sessionId === undefined) return [];
    const session = await getSession(this.engine.store.db, sessionId);
    if (!session) throw errors.sessionNotFound(sessionId);
    return session.permission_rules ? (JSON.parse(session.permission_rules) as PermissionRule[]) : [];
  }

  /** Dry run: no hooks, approvals, execution or audit. */
  async checkPermission(body: {
    tool_name: string;
    tool_call_id?: string;
    session_id?: string;
    input?: unknown;
    mode_override?: PermissionMode;
  }) {
    const rules = await this.sessionRules(body.session_id);
    const e = evaluate(body.tool_name, body.mode_override ?? this.engine.permissionMode, rules);
    return {
      ...e,
      effective_mode: e.mode,
      scope: e.matched_rule_scope ?? 'session',
      audit_preview: {
        tool_name: body.tool_name,
        tool_call_id: body.tool_call_id,
        decision: e.decision,
        base_decision: e.base_decision,
      },
      hooks_evaluated: false,
      hook_policy: 'not_executed_in_dry_run',
    };
  }

  /** Every registered tool under every mode. */
  async permissionMatrix(sessionId?: string) {
    const rules = await this.sessionRules(sessionId);
    const tools = [...this.engine.tools.list().map((t) => t.name), 'ask_user_question'];
    return {
      modes: PERMISSION_MODES,
      tools: tools.map((tool) => ({
        tool_name: tool,
        decisions: Object.fromEntries(PERMISSION_MODES.map((m) => [m, evaluate(tool, m, rules).decision])),
      })),
    };
  }

  /**
   * Every count here is a counter kept by triggers (migration 0011) or a query over live rows only
   * (queued runs, live child agents): the cost does not grow with the history.
   */
  private async storedFigures() {
    if (!(await this.storage.check()).ok) return null;
    const db = this.engine.store.db;
    try {
      return {
        runs: await countRunsByStatus(db),
        sessions: await countSessions(db),
        live: await liveRunTimings(db),
        tasks: await countTasksByStatus(db),
        agents: (await this.agents?.statusView()) ?? null,
        schedules: (await this.info.scheduler?.statusView()) ?? null,
        pendingApprovals: await countPendingApprovals(db),
        pendingQuestions: await countPendingQuestions(db),
        usage: await runUsageTotals(db),
        oldestEvent: await this.engine.events.oldestRowId(),
        retained: await this.engine.events.countRetained(),
        replicas: (await this.info.replica?.status()) ?? null,
      };
    } catch (err) {
      // The database went away between the probe and these reads; any other failure is a bug.
      if ((await this.storage.recheck()).ok) throw err;
      return null;
    }
  }

  /** A feature's status section, or null while the database it reads does not answer. */
  private async figure(section: () => Promise<unknown> | unknown): Promise<unknown> {
    try {
      return await section();
    } catch (err) {
      if ((await this.storage.recheck()).ok) throw err;
      return null;
    }
  }

  /** Figures read from the database are null while it does not answer; the rest is still reported. */
  async status() {
    const f = await this.storedFigures();
    const probe = await this.storage.check();
    const now = Date.now();
    const warnings: HealthWarning[] = [];
    if (!probe.ok)
      warnings.push({
        severity: 'error',
        code: 'storage_unavailable',
        message: `the database does not answer: ${probe.error}`,
        action: 'check the database server; the daemon reconnects by itself when it answers',
      });
    warnings.push(...auditWarnings(this.engine.opts.audit));
    const timings = f && runTimings(f.live, now);
    if (timings) warnings.push(...runWarnings(timings));
    const readiness = providerReadiness(this.routes(), this.engine.routes.defaultRoute);
    for (const r of readiness.routes) {
      if (r.readiness === 'error' && r.active)
        warnings.push({
          severity: 'error',
          code: 'provider_active_route_not_ready',
          message: String(r.reason),
          related_id: r.route_id,
          action: r.action,
        });
    }
    if (this.engine.routes.list().length === 0)
      warnings.push({
        severity: 'warning',
        code: 'onboarding_no_routes',
        message:
          'onboarding: the daemon has no model route yet, so runs are refused (routes/route_not_ready)',
        action:
          'add a route in the console at /, with `kheish-daemon runtime routes add`, or POST /v1/runtime/routes',
      });
    if (this.engine.routes.isBuiltinDemo) {
      warnings.push({
        severity: 'info',
        code: 'builtin_demo_route',
        message: 'no routes file: runs use the built-in `scripted` demo route, which echoes the input',
        action: 'add a real provider with --routes-file routes.toml (see docs/configuration.md)',
      });
    }
    const sandbox = sandboxStatus();
    if (!sandbox.available)
      warnings.push({
        severity: 'warning',
        code: 'bash_unsandboxed',
        message: `the bash tool runs without a sandbox: ${sandbox.reason}`,
        action: 'install bubblewrap (apt-get install bubblewrap)',
      });
    for (const source of this.warningSources)
      warnings.push(...(((await this.figure(source)) as HealthWarning[]) ?? []));
    const ev = this.engine.events;
    const retained = f?.retained ?? null;
    const auditOk = this.engine.opts.audit.problem() === null;
    return {
      status: !this.ready ? 'draining' : probe.ok && auditOk ? 'ready' : 'not_ready',
      ready: this.ready && probe.ok && auditOk,
      version: DAEMON_VERSION,
      uptime_ms: now - this.info.startedAtMs,
      capabilities: this.capabilities(),
      // Onboarding (`up`, --allow-empty-routes): no model route yet, runs are refused until one is added.
      onboarding: this.engine.routes.list().length === 0,
      runtime: {
        default_route: this.engine.routes.defaultRoute || null,
        builtin_demo_route: this.engine.routes.isBuiltinDemo,
        scheduler_policy: this.info.scheduler?.policyView() ?? null,
      },
      sessions: f ? { total: f.sessions.total, ended: f.sessions.ended } : null,
      tasks: f?.tasks ?? null,
      agents: f?.agents ?? null,
      schedules: f?.schedules ?? null,
      runs: f && {
        ...f.runs,
        active_executors: this.engine.activeExecutors,
        pending_approval_count: f.pendingApprovals,
        pending_question_count: f.pendingQuestions,
        ...timings,
        usage: { ...emptyUsage(), ...f.usage },
      },
      storage: {
        ok: probe.ok && this.storage.writesOk,
        dialect: this.engine.store.dialect,
        location: this.engine.store.location,
        write_error_count: this.engine.store.writeErrors,
        // Group commit (store.ts): transactions committed and the writes they carried.
        write_groups: { ...this.engine.store.groupStats },
        state_root: this.info.stateRoot,
        state_root_lock: { held: true, owner: this.info.lockOwner },
        probes: [
          {
            name: this.engine.store.dialect === 'sqlite' ? 'database_file' : 'database',
            ok: probe.ok,
            checked_at_ms: probe.checked_at_ms,
            latency_ms: probe.latency_ms,
            error: probe.error,
          },
        ],
        last_error: this.storage.lastError,
        ...Object.fromEntries(
          await Promise.all(
            [...this.storageSections].map(async ([key, section]) => [key, await this.figure(section)]),
          ),
        ),
      },
      replicas: f?.replicas ?? null,
      provider_readiness: readiness,
      control_plane: { auth_enabled: this.info.authEnabled },
      tracing: tracingStatus(),
      external_audit: auditStatus(this.engine.opts.audit),
      tools: {
        count: this.engine.tools.list().length,
        permission_mode: this.engine.permissionMode,
        bash_sandbox: sandbox,
      },
      events: {
        capacity: ev.capacity,
        retained,
        oldest_event_id: f?.retained ? String(sseIdOf(f.oldestEvent)) : null,
        newest_event_id: String(sseIdOf(ev.newestRowId)),
        next_event_id: String(sseIdOf(ev.newestRowId + 1)),
        tail_event_id_cursor: String(sseIdOf(ev.newestRowId)),
        subscribers: ev.subscriberCount,
        ...ev.counters,
      },
      ...Object.fromEntries(
        await Promise.all(
          [...this.statusSections].map(async ([key, section]) => [key, await this.figure(section)]),
        ),
      ),
      health: healthOf(warnings, readiness),
    };
  }
}
