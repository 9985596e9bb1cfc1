// Daemon-side doctor checks (GET /v1/runtime/doctor); the CLI side is src/cli/doctor-checks.ts.
import type { FeatureModule } from '../feature.ts';
import type { RuntimeService } from '../runtime/service.ts';
import { registerDoctorRoutes } from './routes.ts';
import { DoctorService } from './service.ts';

export const doctorFeature: FeatureModule<DoctorService> = {
  name: 'doctor',
  create: (k) =>
    new DoctorService(
      {
        store: k.store,
        secrets: k.secretStore,
        stateRoot: k.config.stateRoot,
        workspaceRoot: k.config.workspaceRoot,
        log: k.log,
        runtime: () => k.use<RuntimeService>('runtime'),
      },
      k.engine.routes.routesFile,
    ),
  routes: (app, doctor) => registerDoctorRoutes(app, doctor),
};
