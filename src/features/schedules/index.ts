// Schedules (docs/schedules.md): the service, its tools and routes, and the schedule timer of the
// engine. The timer is built before run recovery (it settles scheduled runs recovery ends) and
// started after it (its first pass handles occurrences missed while the daemon was down).
import { Scheduler } from '../../engine/scheduler.ts';
import { scheduleTools } from '../../tools/control/schedules.ts';
import type { FeatureModule } from '../feature.ts';
import type { ObservationsPort } from '../observations/port.ts';
import type { FlowSchedulePort } from '../playbooks/flow-schedule.ts';
import { registerScheduleRoutes } from './routes.ts';
import { SchedulesService } from './service.ts';

export interface SchedulesFeature {
  schedules: SchedulesService;
  /** Its policy and counters are part of /v1/runtime and /v1/status. */
  scheduler: Scheduler;
}

export const schedulesFeature: FeatureModule<SchedulesFeature> = {
  name: 'schedules',
  create: (k) => {
    const scheduler = new Scheduler(k.engine, { policy: k.config.schedulerPolicy, log: k.log });
    const schedules = new SchedulesService(
      k.engine,
      scheduler,
      () => {
        // Asked lazily (observations are built after schedules); a build without them refuses.
        try {
          return k.use<ObservationsPort>('observations');
        } catch {
          return null;
        }
      },
      () => {
        try {
          return k.use<{ flowSchedules: FlowSchedulePort }>('playbooks').flowSchedules;
        } catch {
          return null;
        }
      },
    );
    for (const tool of scheduleTools(schedules)) k.tools.register(tool);
    return { schedules, scheduler };
  },
  routes: (app, f) => registerScheduleRoutes(app, f.schedules),
  start: (f) => f.scheduler.start(),
  stop: (f) => f.scheduler.stop(),
};
