// Observations and capture (api-core §8.1–8.4, concepts §4.14, docs/observations.md): sources with
// digest-only upload tokens, the source-token upload ingress, listing and audit, capture agents,
// retention and heartbeat sweeps, and materialization into normal runs (also by schedule fires).
import { OBSERVATION_PAYLOAD } from '../../engine/schedule-dispatch.ts';
import type { AssetsPort } from '../assets/port.ts';
import type { DerivationsPort } from '../derivations/port.ts';
import type { FeatureModule } from '../feature.ts';
import { registerObservationRoutes } from './routes.ts';
import { ScheduledMaterializations } from './scheduled.ts';
import { ObservationsService } from './service.ts';

/** How often retention and heartbeat deadlines are checked (KHEISH_OBSERVATION_SWEEP_MS overrides). */
const SWEEP_MS = 30_000;

export const observationsFeature: FeatureModule<ObservationsService> = {
  name: 'observations',
  create: (k) => {
    const svc = new ObservationsService({
      store: k.store,
      engine: k.engine,
      assets: () => k.use<AssetsPort>('assets'),
      log: k.log,
      // Transcript-first microphone evidence (concepts §4.14): the derivations feature transcribes
      // through a transcription-capable route and writes the transcript back onto the observation.
      transcribe: async (observationId) => {
        await k
          .use<DerivationsPort>('derivations')
          .create(
            { profile: 'canonical_text', subject: { type: 'observation', observation_id: observationId } },
            { force_refresh: false, retry_failed: false },
          );
      },
      postgres: k.store.dialect === 'postgres',
    });
    // Fires of schedules with an embedded materialization build their runs here.
    k.engine.schedulePayloads.set(OBSERVATION_PAYLOAD, new ScheduledMaterializations(svc.materializer));
    return svc;
  },
  routes: (app, svc) => registerObservationRoutes(app, svc),
  start: (svc) => {
    const env = Number(process.env.KHEISH_OBSERVATION_SWEEP_MS);
    svc.start(Number.isInteger(env) && env >= 50 ? env : SWEEP_MS);
  },
  stop: (svc) => svc.stop(),
};
