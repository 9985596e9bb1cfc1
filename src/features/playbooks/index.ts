// Playbooks and Flows (api-collab §3, docs/playbooks.md): a catalog of immutable, digest-covered
// manifest versions with a release state, and Flows that correlate one started version with the
// ordinary primitives it drives. A Flow executes nothing itself: its root run is a normal input
// run; its status is derived on read. The manifest's enforced tool policy narrows the tool surface
// of every run in the Flow (decorating engine.toolSurfaceFor).

import { FLOW_START_PAYLOAD } from '../../engine/schedule-dispatch.ts';
import type { FeatureModule } from '../feature.ts';
import type { RunsService } from '../runs/service.ts';
import { PlaybookCatalog } from './catalog.ts';
import { ScheduledFlows } from './flow-schedule.ts';
import { FlowsService } from './flows.ts';
import { registerPlaybookRoutes } from './routes.ts';
import { FlowToolPolicy } from './tool-policy.ts';

export interface PlaybooksFeature {
  catalog: PlaybookCatalog;
  flows: FlowsService;
  /** Schedules with `flow_start`: checked at creation (schedules feature), run at each fire (engine). */
  flowSchedules: ScheduledFlows;
}

export const playbooksFeature: FeatureModule<PlaybooksFeature> = {
  name: 'playbooks',
  create: (k) => {
    const catalog = new PlaybookCatalog(k.store);
    const flows = new FlowsService(k.store, k.engine, catalog, () => k.use<RunsService>('runs'));
    const flowSchedules = new ScheduledFlows(k.store, catalog, () => k.use<RunsService>('runs'));
    k.engine.schedulePayloads.set(FLOW_START_PAYLOAD, flowSchedules);
    const policy = new FlowToolPolicy(() => k.store.db);
    const base = k.engine.toolSurfaceFor;
    k.engine.toolSurfaceFor = async (run) => {
      const surface = await base(run);
      const tools = await policy.policyOf(run);
      if (!tools) return surface;
      const names = surface ?? new Set(k.tools.list().map((t) => t.name));
      return new Set([...names].filter((n) => policy.admits(tools, n)));
    };
    return { catalog, flows, flowSchedules };
  },
  routes: (app, f, k) => registerPlaybookRoutes(app, f, k.events),
};
