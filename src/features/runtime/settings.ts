// Durable runtime settings with revisions (api-core §5.5), starting with the default model:
// POST /v1/runtime/model. Stored in daemon_meta; every change bumps the revision and publishes
// `runtime_updated`. New runs pin the default in force when they are submitted.

import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { RouteResolutionError } from '../../models/route-inventory.ts';
import type { Executor } from '../../store/schema.ts';
import type { PermissionMode } from '../../tools/permissions.ts';
import { parseToolRuntimeLimits, type ToolRuntimeLimitsRecord } from '../../tools/runtime-limits.ts';

const KEY = 'runtime_config';
const HISTORY_LIMIT = 20;

export interface RuntimeConfigRecord {
  revision: number;
  updated_at_ms: number;
  default_route: string | null;
  default_model: string | null;
  permission_mode?: PermissionMode;
  tool_limits?: ToolRuntimeLimitsRecord;
  history: Array<{ revision: number; setting: string; updated_at_ms: number; value: unknown }>;
}

const initial = (): RuntimeConfigRecord => ({
  revision: 0,
  updated_at_ms: 0,
  default_route: null,
  default_model: null,
  history: [],
});

export class RuntimeSettings {
  private readonly engine: Engine;
  record: RuntimeConfigRecord = initial();
  constructor(engine: Engine) {
    this.engine = engine;
    // Another replica of the database changed a setting: apply it here too.
    engine.events.subscribe((ev) => {
      if (ev.name === 'runtime_updated') void this.load().catch(() => undefined);
    });
  }

  /** Loads the persisted settings and applies them; a route that no longer exists is ignored. */
  async load(db: Executor = this.engine.store.db): Promise<void> {
    const row = await db.selectFrom('daemon_meta').select('value').where('key', '=', KEY).executeTakeFirst();
    if (!row) return;
    this.record = JSON.parse(row.value) as RuntimeConfigRecord;
    if (this.record.default_route && this.engine.routes.get(this.record.default_route))
      this.engine.routes.setDefault(this.record.default_route, this.record.default_model);
    if (this.record.permission_mode) this.engine.permissionMode = this.record.permission_mode;
    if (this.record.tool_limits) this.engine.toolLimits.current = this.record.tool_limits;
  }

  /** Replaces the ToolRuntimeLimits as a whole; the next tool batch uses them. */
  async setToolLimits(
    body: { limits?: unknown; expected_revision?: unknown },
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const parsed = parseToolRuntimeLimits(body.limits);
    if (!parsed.ok)
      throw new DaemonError(400, 'runtime', 'invalid_tool_runtime_limits', parsed.problems.join('; '));
    const expected = body.expected_revision;
    if (
      expected !== undefined &&
      (typeof expected !== 'number' || !Number.isInteger(expected) || expected < 0)
    )
      throw new DaemonError(
        400,
        'runtime',
        'invalid_tool_runtime_limits',
        '`expected_revision` must be a whole number',
      );
    return this.commit(
      expected as number | undefined,
      'tool_limits',
      parsed.limits,
      (next) => {
        this.engine.toolLimits.current = parsed.limits;
        next.tool_limits = parsed.limits;
      },
      view,
    );
  }

  async setPermissionMode(
    body: { mode: PermissionMode; expected_revision?: number },
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.commit(
      body.expected_revision,
      'permission_mode',
      { mode: body.mode },
      (next) => {
        this.engine.permissionMode = body.mode;
        next.permission_mode = body.mode;
      },
      view,
    );
  }

  async setModel(
    body: { provider?: string; model: string; expected_revision?: number },
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const value = { provider: body.provider ?? this.engine.routes.defaultRoute, model: body.model };
    return this.commit(
      body.expected_revision,
      'model',
      value,
      (next) => {
        try {
          // `provider` is the route id and `model` is kept as given; selectors are the CLI's.
          const resolved = this.engine.routes.resolve({ provider: body.provider, model: body.model }, null);
          this.engine.routes.setDefault(resolved.route_id, resolved.model);
        } catch (err) {
          if (err instanceof RouteResolutionError)
            throw new DaemonError(400, 'routes', err.code, err.message);
          throw err;
        }
        next.default_route = this.engine.routes.defaultRoute;
        next.default_model = this.engine.routes.defaultModel;
      },
      view,
    );
  }

  /**
   * One revision: checks `expected_revision`, applies the change, persists the record, publishes
   * `runtime_updated` — all in one transaction, so new runs see the old or the new setting only.
   */
  private commit(
    expected: number | undefined,
    setting: string,
    value: unknown,
    apply: (next: RuntimeConfigRecord) => void,
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.engine.store.write(async (tx) => {
      // The revision another replica may have committed since this one last loaded.
      await this.load(tx.db);
      if (expected !== undefined && expected !== this.record.revision)
        throw new DaemonError(
          409,
          'runtime',
          'runtime_revision_conflict',
          `expected revision ${expected} but the runtime is at ${this.record.revision}; re-read it and retry`,
        );
      const revision = this.record.revision + 1;
      const next: RuntimeConfigRecord = {
        ...this.record,
        revision,
        updated_at_ms: tx.now,
        history: [...this.record.history, { revision, setting, updated_at_ms: tx.now, value }].slice(
          -HISTORY_LIMIT,
        ),
      };
      apply(next);
      await tx.db
        .insertInto('daemon_meta')
        .values({ key: KEY, value: JSON.stringify(next) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(next) }))
        .execute();
      this.record = next;
      const runtime = view();
      await this.engine.events.append(tx, [{ name: 'runtime_updated', data: { runtime } }]);
      return runtime;
    });
  }
}
