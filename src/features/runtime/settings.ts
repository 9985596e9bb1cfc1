// Durable runtime settings with revisions (api-core §5.5), starting with the default model:
// POST /v1/runtime/model. Stored in daemon_meta; every change bumps the revision and publishes
// `runtime_updated`. New runs pin the default in force when they are submitted.

import type { Engine } from '../../engine/engine.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { RouteResolutionError } from '../../models/route-inventory.ts';

const KEY = 'runtime_config';
const HISTORY_LIMIT = 20;

export interface RuntimeConfigRecord {
  revision: number;
  updated_at_ms: number;
  default_route: string | null;
  default_model: string | null;
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
  }

  /** Loads the persisted settings and applies them; a route that no longer exists is ignored. */
  async load(): Promise<void> {
    const row = await this.engine.store.db
      .selectFrom('daemon_meta')
      .select('value')
      .where('key', '=', KEY)
      .executeTakeFirst();
    if (!row) return;
    this.record = JSON.parse(row.value) as RuntimeConfigRecord;
    if (this.record.default_route && this.engine.routes.get(this.record.default_route))
      this.engine.routes.setDefault(this.record.default_route, this.record.default_model);
  }

  async setModel(
    body: { provider?: string; model: string; expected_revision?: number },
    view: () => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.engine.store.write(async (tx) => {
      if (body.expected_revision !== undefined && body.expected_revision !== this.record.revision)
        throw new DaemonError(
          409,
          'runtime',
          'runtime_revision_conflict',
          `expected revision ${body.expected_revision} but the runtime is at ${this.record.revision}; re-read it and retry`,
        );
      const routeId = body.provider ?? this.engine.routes.defaultRoute;
      try {
        // Selector grammar: `<route>/<model>` names the route too.
        const resolved = this.engine.routes.resolve({ provider: body.provider, model: body.model }, null);
        this.engine.routes.setDefault(resolved.route_id, resolved.model);
      } catch (err) {
        if (err instanceof RouteResolutionError) throw new DaemonError(400, 'routes', err.code, err.message);
        throw err;
      }
      const revision = this.record.revision + 1;
      const next: RuntimeConfigRecord = {
        revision,
        updated_at_ms: tx.now,
        default_route: this.engine.routes.defaultRoute,
        default_model: this.engine.routes.defaultModel,
        history: [
          ...this.record.history,
          {
            revision,
            setting: 'model',
            updated_at_ms: tx.now,
            value: { provider: routeId, model: body.model },
          },
        ].slice(-HISTORY_LIMIT),
      };
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
