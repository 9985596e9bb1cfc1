// Hooks as a live runtime setting (ops-runtime §7.3, §11): validated before a revision, applied by
// every revision, rollback and boot; a persisted value this build rejects is not activated (hooks
// stay off and /v1/status warns). Also the config_change gate, the dead-letter API, and the hooks'
// parts of /v1/runtime and /v1/status.
import { createHash } from 'node:crypto';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  deadLetterCounts,
  getDeadLetter,
  type HookDeadLetterRecord,
  listDeadLetters,
  saveResolution,
} from '../../store/repos/hook-dead-letters.ts';
import type { Kernel } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import type { ConfigChange } from '../runtime/settings.ts';
import type { HealthWarning } from '../runtime/status-figures.ts';
import { HookDispatcher } from './dispatcher.ts';
import type { HookCallback } from './executors.ts';
import {
  type HookSettingsValue,
  redactHookSettings,
  type TargetExemptions,
  validateHookSettings,
} from './settings-schema.ts';

/** TEST ONLY: `ip:port` sockets http hooks may reach although private (docs/hooks.md). Off by default. */
export const TEST_TARGETS_ENV = 'KHEISH_TEST_HOOK_ALLOW_TARGETS';

export interface SetHooksBody {
  settings: unknown;
  expected_revision?: number;
  skip_hooks?: boolean;
}

export class HooksService {
  readonly dispatcher: HookDispatcher;
  private readonly runtime: RuntimeService;
  private readonly k: Kernel;
  private readonly targets: TargetExemptions;
  private readonly testTargets: string[];
  /** Why the persisted settings were not activated (null when they were, or there are none). */
  invalidPersisted: string | null = null;
  /** A `setup` hook blocked at start: the daemon runs, the operator is told. */
  setupBlocked: string | null = null;

  constructor(k: Kernel) {
    this.k = k;
    this.testTargets = (process.env[TEST_TARGETS_ENV] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.targets = {
      exempt: (host, port) => this.testTargets.includes(`${host.includes(':') ? `[${host}]` : host}:${port}`),
    };
    this.dispatcher = new HookDispatcher({
      store: k.store,
      audit: k.engine.opts.audit,
      routes: k.engine.routes,
      // Installed by the credentials feature after this one is built: read at call time.
      authorize: async (routeId) =>
        (await k.engine.credentialGate?.authorizeDaemonRoute(routeId))?.message ?? null,
      tools: k.tools,
      workspaceRoot: k.config.workspaceRoot ?? null,
      http: { allowPrivateTargetsForTests: this.testTargets.length ? this.testTargets : undefined },
      secretValues: () => k.engine.secretValues(),
      log: k.log,
    });
    k.engine.hooks = this.dispatcher;
    this.runtime = k.use<RuntimeService>('runtime');
    this.runtime.settings.define<unknown>('hooks', {
      apply: (value) => this.apply(value),
      redact: redactHookSettings,
    });
    this.runtime.settings.addGate((change, signal) => this.configGate(change, signal));
    this.runtime.addRuntimeSection('hooks', () => this.summary());
    this.runtime.addStatusSection('hooks', () => this.statusView());
    this.runtime.addHealthWarnings(() => this.warnings());
  }

  /** Code registers in-process callbacks by name (the `callback` executor). */
  registerCallback(name: string, fn: HookCallback): void {
    this.dispatcher.callbacks.set(name, fn);
  }

  private apply(value: unknown): void {
    if (value === undefined || value === null) {
      this.invalidPersisted = null;
      this.dispatcher.activate(null);
      return;
    }
    try {
      this.dispatcher.activate(validateHookSettings(value, this.targets));
      this.invalidPersisted = null;
    } catch (e) {
      this.dispatcher.activate(null);
      this.invalidPersisted = (e as Error).message;
      this.k.log.warn(
        { err: this.invalidPersisted },
        'persisted hook settings are invalid for this build: hooks are off',
      );
    }
  }

  /** The raw settings (admin): the envelope in force, or an empty one. */
  raw(): HookSettingsValue {
    const v = this.runtime.settings.value<HookSettingsValue>('hooks');
    if (!v) return { schema_version: 1, hooks: {} };
    // A legacy flat value is shown (and saved next time) as the versioned envelope.
    return { ...v, schema_version: 1 };
  }

  /** A bare HookSettings or `{settings, expected_revision?, skip_hooks?}`; anything else is 400. */
  parseBody(body: unknown): SetHooksBody {
    const bad = (d: string) => new DaemonError(400, 'runtime', 'invalid_hook_settings', d);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    if ('settings' in b) {
      const extra = Object.keys(b).filter(
        (k) => !['settings', 'expected_revision', 'skip_hooks'].includes(k),
      );
      if (extra.length) throw bad(`unknown field(s) ${extra.join(', ')} beside \`settings\``);
      const er = b.expected_revision;
      if (er !== undefined && (typeof er !== 'number' || !Number.isInteger(er) || er < 0))
        throw bad('`expected_revision` must be a whole number');
      if (b.skip_hooks !== undefined && typeof b.skip_hooks !== 'boolean')
        throw bad('`skip_hooks` must be a boolean');
      return {
        settings: b.settings,
        expected_revision: er as number | undefined,
        skip_hooks: b.skip_hooks as boolean | undefined,
      };
    }
    if ('hooks' in b) return { settings: b };
    throw bad(
      'the body needs `settings` (wrapped form) or `hooks` (bare HookSettings); `expected_revision` or `skip_hooks` alone change nothing',
    );
  }

  async set(body: unknown): Promise<Record<string, unknown>> {
    const parsed = this.parseBody(body);
    const value = validateHookSettings(parsed.settings, this.targets);
    return this.runtime.settings.mutate('hooks', value, parsed, () => this.runtime.runtime());
  }

  private async configGate(change: ConfigChange, signal: AbortSignal): Promise<string | null> {
    if (!this.dispatcher.has('config_change')) return null;
    const shown = change.setting === 'hooks' ? redactHookSettings(change.value) : change.value;
    const digest = createHash('sha256')
      .update(JSON.stringify(change.value ?? null))
      .digest('hex');
    const v = await this.dispatcher.fire(
      {
        event: 'config_change',
        identity: `${change.revision}:${change.setting}:${digest}`,
        subject: change.setting,
        payload: {
          setting: change.setting,
          revision: change.revision,
          value: shown,
          ...(change.rollback_of_revision !== undefined
            ? { rollback_of_revision: change.rollback_of_revision }
            : {}),
        },
      },
      signal,
    );
    return v.blocked ? (v.reason ?? 'blocked') : null;
  }

  private summary() {
    const v = this.runtime.settings.value<HookSettingsValue>('hooks');
    return {
      enabled: this.invalidPersisted === null,
      configured_hooks: this.dispatcher.configuredCount(),
      ...(this.invalidPersisted ? { disabled_reason: this.invalidPersisted } : {}),
      settings: v ? redactHookSettings(v) : { schema_version: 1, hooks: {} },
    };
  }

  async deadLetters(): Promise<HookDeadLetterRecord[]> {
    return listDeadLetters(this.k.store.db);
  }

  async resolve(id: string, reason: string): Promise<HookDeadLetterRecord> {
    return this.k.store.write(async (tx) => {
      const record = await getDeadLetter(tx.db, id);
      if (!record)
        throw new DaemonError(
          404,
          'runtime',
          'unknown_hook_dead_letter',
          `no hook dead letter has the id ${id}`,
        );
      const resolved = {
        ...record,
        resolutions: [...record.resolutions, { reason: reason.slice(0, 1000), resolved_at_ms: tx.now }],
      };
      await saveResolution(tx.db, resolved, tx.now);
      return resolved;
    });
  }

  async statusView() {
    const db = this.k.store.db;
    const counts = await deadLetterCounts(db).catch(() => null);
    const last = (await listDeadLetters(db, 1).catch(() => []))[0];
    return {
      enabled: this.invalidPersisted === null,
      configured_hooks: this.dispatcher.configuredCount(),
      ...this.dispatcher.counters,
      dead_lettered_count: counts?.total ?? null,
      unresolved_dead_lettered_count: counts?.unresolved ?? null,
      last_dead_letter: last
        ? {
            id: last.id,
            event: last.event,
            hook_name: last.hook_name,
            target: last.target,
            failure_mode: last.failure_mode,
            created_at_ms: last.created_at_ms,
            resolved: last.resolutions.length > 0,
          }
        : null,
    };
  }

  private async warnings(): Promise<HealthWarning[]> {
    const out: HealthWarning[] = [];
    if (this.invalidPersisted)
      out.push({
        severity: 'error',
        code: 'hook_settings_invalid',
        message: `persisted hook settings are invalid for this build, hooks are off: ${this.invalidPersisted}`,
        action: 'fix them with `kheish-daemon runtime hooks set --file hooks.json` (or --reset)',
      });
    if (this.setupBlocked)
      out.push({
        severity: 'warning',
        code: 'hook_setup_blocked',
        message: `a setup hook blocked: ${this.setupBlocked}`,
      });
    const counts = await deadLetterCounts(this.k.store.db).catch(() => null);
    if (counts && counts.unresolved > 0)
      out.push({
        severity: 'warning',
        code: 'hook_dead_letters_unresolved',
        message: `${counts.unresolved} hook dead letter(s) are unresolved`,
        action:
          'inspect `kheish-daemon runtime hooks dead-letter`, then `runtime hooks resolve-dead-letter <id> --reason ...`',
      });
    return out;
  }

  /** The `setup` event, once the daemon has started (a block is reported, not fatal). */
  async fireSetup(): Promise<void> {
    if (!this.dispatcher.has('setup')) return;
    const v = await this.dispatcher.fire(
      { event: 'setup', identity: `${this.k.startedAtMs}`, payload: { started_at_ms: this.k.startedAtMs } },
      AbortSignal.timeout(60_000),
    );
    this.setupBlocked = v.blocked ? v.reason : null;
  }
}
