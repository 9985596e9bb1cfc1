// Durable runtime settings with revisions (ops-runtime §11). Every live setting (default model,
// permission mode, tool limits, debug level, system prompt, and what other features define, like
// hooks) is one key of one record in daemon_meta. A mutation appends a revision that carries a
// snapshot of every setting after it, so a rollback re-applies an old snapshot as a new revision.
// Each success publishes `runtime_updated`; another replica applies it from that event.

import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { Executor } from '../../store/schema.ts';

const KEY = 'runtime_config';
/** Historical revisions kept besides the current one (ops-runtime §11: `config.history_limit`). */
export const HISTORY_LIMIT = 20;

/** One live setting: how its value is put in force, and what summaries may show of it. */
export interface RuntimeSetting<T = unknown> {
  /** Puts a value in force (a mutation, a rollback, the record at boot); undefined = the default. */
  apply(value: T | undefined): void;
  /** What /v1/runtime/revisions shows of a value (hooks hide their executor bodies). */
  redact?(value: T): unknown;
}

/** Who made a revision: the API, or the API past a blocking `config_change` hook (`skip_hooks`). */
export type RevisionSource = 'runtime_api' | 'runtime_api_force';

export interface RevisionRecord {
  revision: number;
  /** The setting that changed, or `rollback`. */
  setting: string;
  source: RevisionSource;
  updated_at_ms: number;
  value: unknown;
  rollback_of_revision?: number;
  /** Every setting after this revision; absent in records written before rollback existed. */
  settings?: Record<string, unknown>;
}

export interface RuntimeConfigRecord {
  revision: number;
  updated_at_ms: number;
  settings: Record<string, unknown>;
  history: RevisionRecord[];
}

/** A change about to be made, as a blocking `config_change` hook sees it. */
export interface ConfigChange {
  setting: string;
  value: unknown;
  previous: unknown;
  /** The revision the change was asked against (the current one when it is checked). */
  revision: number;
  rollback_of_revision?: number;
}

/** A policy around every runtime change: a reason to refuse it, or null to let it through. */
export type ConfigGate = (change: ConfigChange, signal: AbortSignal) => Promise<string | null>;

export interface MutationOptions {
  expected_revision?: number;
  /** The operator's escape hatch past blocking `config_change` hooks (recorded as runtime_api_force). */
  skip_hooks?: boolean;
}

const initial = (): RuntimeConfigRecord => ({ revision: 0, updated_at_ms: 0, settings: {}, history: [] });

/** Records written before the settings map existed kept each setting at the top level. */
function upgrade(raw: Record<string, unknown>): RuntimeConfigRecord {
  if (raw.settings && typeof raw.settings === 'object') return raw as unknown as RuntimeConfigRecord;
  const settings: Record<string, unknown> = {};
  if (raw.default_route) settings.model = { provider: raw.default_route, model: raw.default_model ?? null };
  if (raw.permission_mode) settings.permission_mode = raw.permission_mode;
  if (raw.tool_limits) settings.tool_limits = raw.tool_limits;
  const history = ((raw.history as RevisionRecord[] | undefined) ?? []).map((h) => ({
    ...h,
    source: h.source ?? 'runtime_api',
  }));
  return {
    revision: Number(raw.revision ?? 0),
    updated_at_ms: Number(raw.updated_at_ms ?? 0),
    settings,
    history,
  };
}

export class RuntimeSettings {
  private readonly engine: Engine;
  private readonly defined = new Map<string, RuntimeSetting<any>>();
  private readonly gates: ConfigGate[] = [];
  record: RuntimeConfigRecord = initial();

  constructor(engine: Engine) {
    this.engine = engine;
    // Another replica of the database changed a setting: apply it here too.
    engine.events.subscribe((ev) => {
      if (ev.name === 'runtime_updated') void this.load().catch(() => undefined);
    });
  }

  /** Declares a live setting; its persisted value is applied by `load` (before run recovery). */
  define<T>(name: string, setting: RuntimeSetting<T>): void {
    if (this.defined.has(name)) throw new Error(`runtime setting ${name} is defined twice`);
    this.defined.set(name, setting);
  }

  /** Adds a policy consulted before every change (the `config_change` hooks). */
  addGate(gate: ConfigGate): void {
    this.gates.push(gate);
  }

  /** The value in force, undefined for the default. */
  value<T>(name: string): T | undefined {
    return this.record.settings[name] as T | undefined;
  }

  /**
   * Loads the persisted record and applies every setting of it. A read that lost a race with a
   * newer commit of this process (the `runtime_updated` reload of an earlier revision) is dropped
   * unless `rewind` (a failed commit putting back what is durable).
   */
  async load(db: Executor = this.engine.store.db, rewind = false): Promise<void> {
    const row = await db.selectFrom('daemon_meta').select('value').where('key', '=', KEY).executeTakeFirst();
    if (!row) return;
    const record = upgrade(JSON.parse(row.value) as Record<string, unknown>);
    if (!rewind && record.revision < this.record.revision) return;
    this.record = record;
    this.applyAll(this.record.settings);
  }

  private applyAll(settings: Record<string, unknown>): void {
    for (const [name, setting] of this.defined) setting.apply(settings[name]);
  }

  /** Changes one setting as a new revision; `value` must already be valid (the caller checked it). */
  async mutate(
    setting: string,
    value: unknown,
    opts: MutationOptions,
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    if (!this.defined.has(setting)) throw new Error(`runtime setting ${setting} is not defined`);
    const change = {
      setting,
      value,
      previous: this.record.settings[setting],
      revision: this.record.revision,
    };
    const source = await this.passGates(change, opts);
    return this.commit(opts.expected_revision, view, (current, now) => ({
      entry: { setting, source, updated_at_ms: now, value },
      settings: { ...current.settings, [setting]: value },
    }));
  }

  /**
   * Changes one setting from its value at commit time (`next` runs again inside the transaction,
   * on the record another replica or request may have just written), so two concurrent edits of a
   * list both land. `next` may throw a DaemonError to refuse the change.
   */
  async mutateWith<T>(
    setting: string,
    next: (current: T | undefined) => T,
    opts: MutationOptions,
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    if (!this.defined.has(setting)) throw new Error(`runtime setting ${setting} is not defined`);
    const previous = this.record.settings[setting] as T | undefined;
    const source = await this.passGates(
      { setting, value: next(previous), previous, revision: this.record.revision },
      opts,
    );
    return this.commit(opts.expected_revision, view, (current, now) => {
      const value = next(current.settings[setting] as T | undefined);
      return {
        entry: { setting, source, updated_at_ms: now, value },
        settings: { ...current.settings, [setting]: value },
      };
    });
  }

  /**
   * Re-applies a retained revision's snapshot as a new `rollback` revision; without a target, the
   * revision before the current one. A target no longer retained is 404.
   */
  async rollback(
    target: number | undefined,
    opts: MutationOptions,
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const snapshotOf = (record: RuntimeConfigRecord) => {
      const wanted = target ?? record.revision - 1;
      const found = record.history.find((h) => h.revision === wanted && h.settings);
      if (!found)
        throw new DaemonError(
          404,
          'runtime',
          'runtime_revision_not_found',
          `revision ${wanted} is not retained; \`runtime revisions\` lists the revisions a rollback can target`,
        );
      return found as RevisionRecord & { settings: Record<string, unknown> };
    };
    const found = snapshotOf(this.record);
    const source = await this.passGates(
      {
        setting: 'rollback',
        value: { target_revision: found.revision },
        previous: this.record.settings,
        revision: this.record.revision,
        rollback_of_revision: found.revision,
      },
      opts,
    );
    return this.commit(opts.expected_revision, view, (current, now) => {
      const snapshot = snapshotOf(current);
      return {
        entry: {
          setting: 'rollback',
          source,
          updated_at_ms: now,
          value: { target_revision: snapshot.revision },
          rollback_of_revision: snapshot.revision,
        },
        settings: structuredClone(snapshot.settings),
      };
    });
  }

  /** Current first, then the retained history, newest first; values as summaries may show them. */
  revisions(): Array<Record<string, unknown>> {
    return [...this.record.history].reverse().map((h) => ({
      revision: h.revision,
      setting: h.setting,
      source: h.source,
      updated_at_ms: h.updated_at_ms,
      current: h.revision === this.record.revision,
      value: this.redact(h.setting, h.value),
      ...(h.rollback_of_revision !== undefined ? { rollback_of_revision: h.rollback_of_revision } : {}),
      rollback_target: h.settings !== undefined,
      settings: h.settings
        ? Object.fromEntries(Object.entries(h.settings).map(([k, v]) => [k, this.redact(k, v)]))
        : null,
    }));
  }

  private redact(setting: string, value: unknown): unknown {
    const redact = this.defined.get(setting)?.redact;
    return redact && value !== undefined && value !== null ? redact(value) : value;
  }

  private async passGates(change: ConfigChange, opts: MutationOptions): Promise<RevisionSource> {
    if (opts.skip_hooks) return 'runtime_api_force';
    for (const gate of this.gates) {
      const reason = await gate(change, AbortSignal.timeout(60_000));
      if (reason !== null)
        throw new DaemonError(
          409,
          'runtime',
          'runtime_change_blocked',
          `a config_change hook blocked this change: ${reason}; fix the hook or retry with skip_hooks`,
        );
    }
    return 'runtime_api';
  }

  /**
   * One revision: checks `expected_revision`, applies the change, persists the record, publishes
   * `runtime_updated` — all in one transaction, so new runs see the old or the new setting only.
   */
  private commit(
    expected: number | undefined,
    view: () => Record<string, unknown>,
    next: (
      current: RuntimeConfigRecord,
      now: number,
    ) => { entry: Omit<RevisionRecord, 'revision' | 'settings'>; settings: Record<string, unknown> },
  ): Promise<Record<string, unknown>> {
    const before = this.record;
    return this.engine.store
      .write(async (tx) => {
        // The revision another replica may have committed since this one last loaded.
        await this.load(tx.db);
        if (expected !== undefined && expected !== this.record.revision)
          throw new DaemonError(
            409,
            'runtime',
            'runtime_revision_conflict',
            `expected revision ${expected} but the runtime is at ${this.record.revision}; re-read it and retry`,
          );
        const { entry, settings } = next(this.record, tx.now);
        const revision = this.record.revision + 1;
        const record: RuntimeConfigRecord = {
          revision,
          updated_at_ms: tx.now,
          settings,
          history: [...this.record.history, { ...entry, revision, settings }].slice(-(HISTORY_LIMIT + 1)),
        };
        const value = JSON.stringify(record);
        await tx.db
          .insertInto('daemon_meta')
          .values({ key: KEY, value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
        this.record = record;
        this.applyAll(settings);
        const runtime = view();
        await this.engine.events.append(tx, [{ name: 'runtime_updated', data: { runtime } }]);
        return runtime;
      })
      .catch(async (err: unknown) => {
        // Nothing was committed: put in force what is durable (another replica may have moved it).
        if (this.record !== before)
          await this.load(undefined, true).catch(() => {
            this.record = before;
            this.applyAll(before.settings);
          });
        throw err;
      });
  }
}
